"""A subscription's plan change: the invoice preview, the update of its single item
with an immediate proration invoice, pending updates, and invoices nothing is due on.

``POST /v1/invoices/create_preview`` with ``subscription`` and
``subscription_details[items]`` answers the invoice the change would make
(``proration_behavior=always_invoice``), stored nowhere: its lines (proration.py)
and ``parent.subscription_details.subscription_proration_date``.

``POST /v1/subscriptions/:id`` with ``items`` (the single item's price changed),
``proration_behavior=always_invoice`` and ``proration_date`` bills the change at
once, charged to the default payment method. With
``payment_behavior=pending_if_incomplete`` the change waits for that payment: paid,
the item moves to the new price; not paid (3-D Secure, a decline, no card), the
subscription keeps its item and carries ``pending_update`` (its ``expires_at``: the
period's end or 23 hours, whichever comes first) and the invoice's PaymentIntent
waits for the customer (its client secret). A later payment of that invoice applies
the update (``customer.subscription.pending_update_applied``); expiry
(:meth:`expire_pending_update`, or a test clock's ``advance`` past it) voids the
invoice and drops the update (``customer.subscription.pending_update_expired``).
``allow_incomplete`` applies the change whatever the payment does.

An invoice on which nothing is due (a downgrade's credit, or a balance that covers
it) is paid at finalization without a PaymentIntent, as Stripe does.
"""

from __future__ import annotations

from typing import Any

from . import objects, proration
from .common import ApiError, Params, StripeObject, _ENDED, _int, _parameter_missing
from .store import Tx

PENDING_UPDATE_SECONDS = 23 * 3600
# What Stripe lets a pending update carry (its pending updates reference).
_PENDING_PARAMS = frozenset(
    {
        *("items", "payment_behavior", "proration_behavior", "proration_date", "expand"),
        *("billing_cycle_anchor", "trial_end", "trial_from_plan", "add_invoice_items"),
    }
)
_CHANGE_BEHAVIORS = ("allow_incomplete", "pending_if_incomplete")
_ENDED_MESSAGE = "A canceled subscription can only update its cancellation_details and metadata."


def _not_emulated(param: str, value: object) -> ApiError:
    return ApiError(
        400,
        f"The emulator does not play {param}={value!r}; use Stripe test keys for it.",
        code="parameter_not_emulated",
        param=param,
    )


class PlanChanges:
    """The plan change's handlers, mixed into ``Emulator``."""

    # ------------------------------------------------------------ preview

    def _create_invoice_preview(self, tx: Tx, params: Params) -> StripeObject:
        if not params.get("subscription"):
            raise _not_emulated("subscription", None)  # an upcoming invoice of no subscription
        sub = self._load(tx, "subscription", params["subscription"], "subscription")
        details = params.get("subscription_details")
        if not isinstance(details, dict) or not details.get("items"):
            raise _not_emulated("subscription_details[items]", None)
        behavior = details.get("proration_behavior") or "create_prorations"
        if behavior != "always_invoice":
            raise _not_emulated("subscription_details[proration_behavior]", behavior)
        unplayed = sorted(set(details) - {"items", "proration_behavior", "proration_date"})
        if unplayed:
            raise _not_emulated(f"subscription_details[{unplayed[0]}]", details[unplayed[0]])
        price = self._change_price(tx, sub, details["items"], "subscription_details[items]")
        at = self._proration_date(sub, details, "subscription_details[proration_date]")
        customer = self._load(tx, "customer", sub["customer"])
        lines = []
        if price["id"] != sub["items"]["data"][0]["price"]["id"]:
            lines = self._plan_change(tx, sub, price, at, preview=True).lines
        invoice = self._draft_invoice(tx, sub, customer, "subscription_update", (at, at))
        invoice["id"] = objects.new_id("upcoming_in")
        invoice["parent"]["subscription_details"]["subscription_proration_date"] = at
        proration.with_lines(invoice, lines)
        proration.apply_balance(invoice, dict(customer))  # shown, not applied
        return invoice

    # ------------------------------------------------------------- change

    def _change_plan(self, tx: Tx, sub: StripeObject, params: Params) -> StripeObject:
        """``POST /v1/subscriptions/:id`` with ``items``."""
        if sub["status"] in _ENDED:
            raise ApiError(400, _ENDED_MESSAGE)
        behavior = params.get("proration_behavior") or "create_prorations"
        if behavior != "always_invoice":
            raise _not_emulated("proration_behavior", behavior)
        payment = params.get("payment_behavior") or "allow_incomplete"
        if payment not in _CHANGE_BEHAVIORS:
            raise _not_emulated("payment_behavior", payment)
        if payment == "pending_if_incomplete" and set(params) - _PENDING_PARAMS:
            extra = ", ".join(sorted(set(params) - _PENDING_PARAMS))
            raise ApiError(
                400,
                "The following parameters cannot be used with"
                f" payment_behavior=pending_if_incomplete: {extra}.",
                param=sorted(set(params) - _PENDING_PARAMS)[0],
            )
        price = self._change_price(tx, sub, params["items"], "items")
        at = self._proration_date(sub, params, "proration_date")
        if price["id"] == sub["items"]["data"][0]["price"]["id"]:
            return sub  # nothing changes, nothing to prorate
        if sub["pending_update"]:  # a new change replaces the one waiting for payment
            self._drop_pending_update(tx, sub)
        customer = self._load(tx, "customer", sub["customer"])
        change = self._plan_change(tx, sub, price, at, preview=False)
        invoice = self._draft_invoice(tx, sub, customer, "subscription_update", (at, at))
        proration.with_lines(invoice, change.lines)
        sub["latest_invoice"] = invoice["id"]
        if payment == "pending_if_incomplete":  # applied by the invoice's payment
            sub["pending_update"] = self._pending_update(sub, change)
        else:
            self._apply_item(sub, change.item, change.billing_cycle_anchor)
        tx.put(sub)  # announced with the payment's outcome
        intent = self._open_invoice(tx, invoice, customer, sub)
        method_id = (
            sub["default_payment_method"] or customer["invoice_settings"]["default_payment_method"]
        )
        if intent is None:
            self._invoice_paid(tx, invoice, sub, None)
        elif method_id:
            try:
                self._confirm(tx, intent, {"payment_method": method_id})
            except ApiError as exc:
                if exc.error["type"] != "card_error":
                    raise
        sub = self._load(tx, "subscription", sub["id"])
        return self._save_changes(tx, sub, "customer.subscription.updated")

    def _change_price(self, tx: Tx, sub: StripeObject, items: Any, prefix: str) -> StripeObject:
        """The new price of the subscription's single item, as ``items`` names it."""
        if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
            raise ApiError(
                400, "The Stripe emulator supports subscriptions of one item.", param=prefix
            )
        item, current = items[0], sub["items"]["data"][0]
        if item.get("id") != current["id"]:
            raise ApiError(
                400,
                "The Stripe emulator changes the subscription's one item only: pass its id.",
                param=f"{prefix}[0][id]",
            )
        unplayed = sorted(set(item) - {"id", "price", "quantity"})
        if unplayed:
            raise _not_emulated(f"{prefix}[0][{unplayed[0]}]", item[unplayed[0]])
        if str(item.get("quantity", 1)) != "1":
            raise ApiError(
                400, "The Stripe emulator supports a quantity of 1.", param=f"{prefix}[0][quantity]"
            )
        if not item.get("price"):
            raise _parameter_missing(f"{prefix}[0][price]")
        param = f"{prefix}[0][price]"
        price = self._load(tx, "price", item["price"], param)
        if price["type"] != "recurring":
            raise ApiError(
                400,
                "The price specified is set to `type=one_time` but this field only accepts"
                " prices with `type=recurring`.",
                param=param,
            )
        if not price["active"]:
            raise ApiError(
                400,
                "The price specified is inactive. This field only accepts active prices.",
                param=param,
            )
        if price["currency"] != sub["currency"]:
            raise ApiError(
                400,
                f"The price specified only supports `{price['currency']}`. This doesn't match"
                f" the expected currency: `{sub['currency']}`.",
                param=param,
            )
        return price

    @staticmethod
    def _proration_date(sub: StripeObject, params: Params, param: str) -> int:
        """The proration date: now unless given, within the item's current period."""
        item = sub["items"]["data"][0]
        name = param.rsplit("[", 1)[-1].rstrip("]")
        at = _int(params, name, param=param, default=0) or objects.now()
        if not item["current_period_start"] <= at < item["current_period_end"]:
            raise ApiError(
                400,
                "The proration_date must be within the subscription's current period"
                f" ({item['current_period_start']} to {item['current_period_end']}).",
                param=param,
            )
        return at

    def _plan_change(
        self, tx: Tx, sub: StripeObject, price: StripeObject, at: int, *, preview: bool
    ) -> proration.Change:
        old = sub["items"]["data"][0]["price"]
        products = {
            product_id: self._load(tx, "product", product_id)
            for product_id in {old["product"], price["product"]}
        }
        return proration.plan_change(sub, price, products, at, preview=preview)

    @staticmethod
    def _pending_update(sub: StripeObject, change: proration.Change) -> StripeObject:
        period_end = sub["items"]["data"][0]["current_period_end"]
        return {
            "billing_cycle_anchor": change.billing_cycle_anchor,
            "cancel_at_period_end": None,
            "discount": None,
            "discounts": [],
            "expires_at": min(period_end, objects.now() + PENDING_UPDATE_SECONDS),
            "metadata": None,
            "subscription_items": [change.item],
            "trial_end": None,
            "trial_from_plan": None,
        }

    @staticmethod
    def _apply_item(sub: StripeObject, item: StripeObject, anchor: int | None) -> None:
        sub["items"]["data"] = [item]
        if anchor is not None:
            sub["billing_cycle_anchor"] = anchor

    # --------------------------------------------- an invoice's payment

    def _invoice_paid(
        self, tx: Tx, invoice: StripeObject, sub: StripeObject, method_id: str | None
    ) -> tuple[str, ...]:
        """The invoice is paid (by ``method_id``, or by nothing when none was due): it
        and its subscription follow, a pending update it pays applies. Returns the events
        to send before the subscription's ``customer.subscription.updated``."""
        paid_at = objects.now()
        invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0)
        invoice["status_transitions"]["paid_at"] = paid_at
        tx.put(invoice)
        tx.emit("invoice.payment_succeeded", invoice)
        tx.emit("invoice.paid", invoice)
        if sub["status"] in ("incomplete", "past_due"):
            sub["status"] = "active"
        saves = sub["payment_settings"]["save_default_payment_method"] == "on_subscription"
        if saves and method_id and sub["status"] not in _ENDED:
            sub["default_payment_method"] = method_id
        first: tuple[str, ...] = ()
        pending = sub["pending_update"]
        if pending and sub["latest_invoice"] == invoice["id"] and sub["status"] not in _ENDED:
            [item] = pending["subscription_items"]
            self._apply_item(sub, item, pending["billing_cycle_anchor"])
            sub["pending_update"] = None
            if (tx.last_snapshot(sub["id"]) or {}).get("pending_update"):
                first = ("customer.subscription.pending_update_applied",)
        tx.put(sub)
        return first

    @staticmethod
    def _pays_pending_update(sub: StripeObject, invoice: StripeObject) -> bool:
        return bool(sub["pending_update"]) and sub["latest_invoice"] == invoice["id"]

    # -------------------------------------------------------- expiry

    def expire_pending_update(self, subscription_id: str) -> dict[str, Any]:
        """Stripe's clock passing a pending update's ``expires_at``: the invoice is voided
        and the subscription keeps its plan. Returns what ``advance_subscription`` does."""

        def act(tx: Tx, sub: StripeObject) -> None:
            if not sub["pending_update"]:
                raise ApiError(400, "This subscription has no pending update.")
            self._expire_pending_update(tx, sub)

        return self._subscription_act(subscription_id, act)

    def _expire_pending_update(self, tx: Tx, sub: StripeObject) -> None:
        self._drop_pending_update(tx, sub)
        self._save_changes(
            tx, sub, "customer.subscription.updated", "customer.subscription.pending_update_expired"
        )

    def _drop_pending_update(self, tx: Tx, sub: StripeObject) -> None:
        """Void the pending update's invoice (its PaymentIntent canceled, any balance it
        used given back) and clear the update; the caller announces the subscription."""
        invoice = self._load(tx, "invoice", sub["latest_invoice"])
        sub["pending_update"] = None
        if invoice["status"] != "open":
            return
        for payment in tx.list_objects("invoice_payment", {"invoice": invoice["id"]}):
            intent = tx.get(payment["payment"]["payment_intent"])
            if intent is not None and intent["status"] != "succeeded":
                intent.update(
                    status="canceled",
                    canceled_at=objects.now(),
                    cancellation_reason="void_invoice",
                    next_action=None,
                )
                tx.put(intent)
                tx.emit("payment_intent.canceled", intent)
                payment["status"] = "canceled"
                tx.put(payment)
        used = invoice["starting_balance"] - invoice["ending_balance"]
        if used:
            customer = self._load(tx, "customer", sub["customer"])
            customer["balance"] += used
            tx.put(customer)
        invoice["status"] = "void"
        invoice["status_transitions"]["voided_at"] = objects.now()
        tx.put(invoice)
        tx.emit("invoice.voided", invoice)
