"""What a payment pays for, owned by another app.

payments never imports the apps whose objects it sells. A host app registers
an adapter (usually in its AppConfig.ready) that tells payments how to find
its object, who owns it, whether it can be paid at a price, and what paying
means:

    from payments.payables import PayableAdapter, register

    class EventPayable(PayableAdapter):
        type = "event"
        def get(self, payable_id): ...
        def owner_id(self, obj): ...
        def check_payable(self, obj, price): ...   # raise PayableNotPayable
        def fulfil(self, obj, payment): ...        # runs in the webhook's transaction
        def revoke(self, obj, payment): ...        # optional: the payment was refunded in full
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from payments.models import Payment, Price


class PayableAdapter:
    type: str = ""

    def get(self, payable_id: str) -> Any | None:
        """The object, or None when there is none with that id."""
        raise NotImplementedError

    def owner_id(self, obj: Any) -> int:
        """The pk of the user who may pay for ``obj``."""
        raise NotImplementedError

    def check_payable(self, obj: Any, price: Price) -> None:
        """Raise payments.errors.PayableNotPayable when ``obj`` cannot be paid at ``price``."""

    def amount(self, obj: Any, price: Price) -> int:
        """What paying for ``obj`` at ``price`` costs, in minor units: the price's
        amount by default; an app may compute its own (a deposit, say). Never the client's."""
        return price.unit_amount

    def fulfil(self, obj: Any, payment: Payment) -> None:
        """Deliver what was paid for. Called once, inside the transaction that
        marks ``payment`` SUCCEEDED (with ``obj`` locked when the adapter's
        ``get_for_update`` does so)."""
        raise NotImplementedError

    def revoke(self, obj: Any, payment: Payment) -> None:
        """Undo ``fulfil`` when ``payment`` has been refunded in full. Default: keep it."""

    def get_for_update(self, payable_id: str) -> Any | None:
        """The object locked for the fulfilling transaction; ``get`` by default."""
        return self.get(payable_id)


_registry: dict[str, PayableAdapter] = {}


def register(adapter: PayableAdapter) -> None:
    if not adapter.type:
        raise ValueError("a PayableAdapter needs a type")
    _registry[adapter.type] = adapter


def get_adapter(payable_type: str) -> PayableAdapter | None:
    return _registry.get(payable_type)


def registered_types() -> list[str]:
    return sorted(_registry)
