"""Refunds, charges, balance transactions and the balance.

The money ledger: a succeeded charge gets a "charge" balance transaction with
the card fee (``objects.card_fee``), a refund a "refund" one (-amount) once it
succeeds, and a refund that fails after succeeding a "refund_failure" one
(+amount). Every balance transaction is available at once, so ``/v1/balance``
is the sum of their nets per currency, with nothing pending.
"""

from __future__ import annotations

from . import objects
from .common import (
    ApiError,
    Params,
    StripeObject,
    _REFUNDING,
    _REFUND_REASONS,
    _filters,
    _int,
    _metadata,
)
from .store import Tx
from .test_cards import REFUND_PENDING, card_behaviour


class Refunds:
    """The refunds endpoints' handlers, mixed into ``Emulator``."""

    def _get_charge(self, tx: Tx, params: Params, charge_id: str) -> StripeObject:
        return self._load(tx, "charge", charge_id)

    def _get_balance_transaction(self, tx: Tx, params: Params, txn_id: str) -> StripeObject:
        return self._load(tx, "balance_transaction", txn_id)

    def _list_balance_transactions(self, tx: Tx, params: Params) -> StripeObject:
        return self._list(tx, params, "balance_transaction", _filters(params, "source", "type"))

    @staticmethod
    def _get_balance(tx: Tx, params: Params) -> StripeObject:
        return objects.balance(tx.net_by_currency())

    # ------------------------------------------------------------ refunds

    def _create_refund(self, tx: Tx, params: Params) -> StripeObject:
        """Succeeded at once, or ``pending`` for the refund-pending test card.

        The charge's ``refunds``, ``amount_refunded`` and ``refunded`` count
        pending refunds as Stripe does, but ``charge.refunded`` is sent only
        once a refund has succeeded.
        """
        reason = params.get("reason") or None
        if reason is not None and reason not in _REFUND_REASONS:
            raise ApiError(
                400,
                "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
                param="reason",
            )
        charge = self._charge_to_refund(tx, params)
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining <= 0:
            raise ApiError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = _int(params, "amount", default=remaining)
        if amount < 1:
            raise ApiError(
                400,
                "This value must be greater than or equal to 1.",
                code="parameter_invalid_integer",
                param="amount",
            )
        if amount > remaining:
            currency = charge["currency"]
            raise ApiError(
                400,
                f"Refund amount ({objects.format_amount(amount, currency)}) is greater than"
                f" unrefunded amount on charge ({objects.format_amount(remaining, currency)})",
                code="amount_too_large",
                param="amount",
            )
        refund = objects.refund(charge, amount, reason, _metadata({}, params))
        if card_behaviour(charge["payment_method_details"]["card"]) != REFUND_PENDING:
            self._refund_succeeds(tx, refund)
        charge = self._save_refund(tx, refund)
        tx.emit("refund.created", refund)
        if refund["status"] == "succeeded":
            tx.emit("charge.refunded", charge)
        return refund

    def _charge_to_refund(self, tx: Tx, params: Params) -> StripeObject:
        """The succeeded charge named by ``charge``, or by ``payment_intent`` (its latest)."""
        intent_id, charge_id = params.get("payment_intent"), params.get("charge")
        if intent_id:
            intent = self._load(tx, "payment_intent", intent_id, "payment_intent")
            if intent["status"] != "succeeded":
                raise ApiError(
                    400,
                    f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                    code="payment_intent_unexpected_state",
                    payment_intent=intent,
                )
            if charge_id and charge_id != intent["latest_charge"]:
                raise ApiError(
                    400,
                    f"The charge {charge_id} is not the PaymentIntent {intent_id}'s charge.",
                    param="charge",
                )
            charge_id = intent["latest_charge"]
        if not charge_id:
            raise ApiError(
                400,
                "One of the following params should be provided for this request:"
                " payment_intent or charge.",
                code="parameter_missing",
            )
        charge = self._load(tx, "charge", charge_id, "charge")
        if charge["status"] != "succeeded":
            raise ApiError(
                400,
                f"Charge {charge_id} has not succeeded and cannot be refunded.",
                code="charge_not_refundable",
                param="charge",
            )
        return charge

    def _get_refund(self, tx: Tx, params: Params, refund_id: str) -> StripeObject:
        return self._load(tx, "refund", refund_id)

    def _list_refunds(self, tx: Tx, params: Params) -> StripeObject:
        return self._list(tx, params, "refund", _filters(params, "payment_intent", "charge"))

    def _update_refund(self, tx: Tx, params: Params, refund_id: str) -> StripeObject:
        refund = self._load(tx, "refund", refund_id)
        refund["metadata"] = _metadata(refund["metadata"], params)
        self._save_refund(tx, refund)
        self._refund_updated(tx, refund)
        return refund

    def _cancel_refund(self, tx: Tx, params: Params, refund_id: str) -> StripeObject:
        """Only a refund waiting for the customer can be canceled; card refunds never do."""
        refund = self._load(tx, "refund", refund_id)
        if refund["status"] != "requires_action":
            raise ApiError(
                400,
                f"You cannot cancel this refund because it has a status of {refund['status']}."
                " Only a refund with a status of requires_action can be canceled.",
            )
        refund["status"] = "canceled"
        self._save_refund(tx, refund)
        self._refund_updated(tx, refund)
        return refund

    @staticmethod
    def _refund_succeeds(tx: Tx, refund: StripeObject) -> None:
        txn = objects.balance_transaction(
            refund["id"], -refund["amount"], refund["currency"], type_="refund"
        )
        refund.update(status="succeeded", balance_transaction=tx.put(txn)["id"])

    def _save_refund(self, tx: Tx, refund: StripeObject) -> StripeObject:
        """Store ``refund`` and bring its charge's refund totals up to date; returns the charge."""
        tx.put(refund)
        charge = self._load(tx, "charge", refund["charge"])
        refunds = tx.list_objects("refund", {"charge": charge["id"]})
        refunding = sum(r["amount"] for r in refunds if r["status"] in _REFUNDING)
        charge.update(amount_refunded=refunding, refunded=refunding == charge["amount"])
        charge["refunds"]["data"] = refunds
        return tx.put(charge)

    @staticmethod
    def _refund_updated(tx: Tx, refund: StripeObject) -> None:
        tx.emit("refund.updated", refund)
        tx.emit("charge.refund.updated", refund)  # the legacy event, sent on later changes only
