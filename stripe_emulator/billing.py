"""Subscriptions and invoices.

Billing: a subscription (one recurring price) is created with its first
invoice finalized at once and a PaymentIntent to pay it; the intent carries no
``invoice`` (API endive), the invoice_payment objects link the two. Whatever
moves an invoice's intent (the confirm endpoint, ``pay``, ``authenticate``)
moves the invoice and its subscription too (``_invoice_follows``).
``advance_subscription`` plays a test clock reaching the period's end. A plan
change (``items`` on update) and the invoices nothing is due on: plan_changes.py.
"""

from __future__ import annotations

from typing import Any

from . import billing_objects, objects, proration
from .common import (
    ApiError,
    Params,
    StripeObject,
    _ENDED,
    _PAYMENT_BEHAVIORS,
    _SUBSCRIPTION_STATUSES,
    _bool,
    _filters,
    _metadata,
    _parameter_missing,
)
from .store import Tx


class Billing:
    """The billing endpoints' handlers, mixed into ``Emulator``."""

    # ------------------------------------------- subscriptions, invoices

    def _create_subscription(self, tx: Tx, params: Params) -> StripeObject:
        """One item of quantity 1. The first invoice is finalized at once; unless
        ``payment_behavior`` is default_incomplete, it is paid off the default payment
        method if there is one. error_if_incomplete undoes everything unless that pays."""
        if not params.get("customer"):
            raise _parameter_missing("customer")
        customer = self._load(tx, "customer", params["customer"], "customer")
        price = self._subscription_price(tx, params.get("items"))
        behavior = params.get("payment_behavior") or "allow_incomplete"
        if behavior not in _PAYMENT_BEHAVIORS:
            raise ApiError(
                400,
                f"Invalid payment_behavior: must be one of {', '.join(_PAYMENT_BEHAVIORS)}",
                param="payment_behavior",
            )
        settings = params.get("payment_settings") or {}
        save = settings.get("save_default_payment_method") if isinstance(settings, dict) else None
        unsupported = set(settings) - {"save_default_payment_method"}
        if unsupported or save not in (None, "off", "on_subscription"):
            raise ApiError(
                400,
                "The Stripe emulator supports only"
                " payment_settings[save_default_payment_method]=on_subscription or off.",
                param="payment_settings",
            )
        sub = billing_objects.subscription(customer["id"], price, save_default_payment_method=save or "off")
        trial_end = self._trial_end(params, price, sub["created"])
        if trial_end is not None:  # trials.py
            self._begin_trial(sub, trial_end)
        sub["metadata"] = _metadata({}, params)
        if params.get("default_payment_method"):
            method = self._payment_method(
                tx, params["default_payment_method"], "default_payment_method"
            )
            sub["default_payment_method"] = method["id"]
        if _bool(params, "cancel_at_period_end"):
            self._set_cancel_at_period_end(sub, True)
        if trial_end is not None:  # nothing is due now, whatever the payment_behavior
            return self._start_trial(tx, sub, customer, behavior)
        if behavior != "error_if_incomplete":
            return self._start_subscription(tx, sub, customer, behavior, params)
        try:
            with tx.savepoint():
                sub = self._start_subscription(tx, sub, customer, behavior, params)
                if sub["status"] != "active":
                    raise ApiError(
                        402,
                        "This payment requires additional user action before it can be"
                        " completed successfully.",
                        code="invoice_payment_intent_requires_action",
                    )
        except ApiError as exc:  # nothing of it is left, as with Stripe
            for key in ("charge", "payment_intent"):
                exc.error.pop(key, None)
            raise
        return sub

    def _subscription_price(self, tx: Tx, items: Any) -> StripeObject:
        if not items:
            raise _parameter_missing("items")
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ApiError(400, "Invalid array", param="items")
        if len(items) != 1:
            raise ApiError(
                400, "The Stripe emulator supports subscriptions of one item.", param="items"
            )
        if str(items[0].get("quantity", 1)) != "1":
            raise ApiError(
                400, "The Stripe emulator supports a quantity of 1.", param="items[0][quantity]"
            )
        if not items[0].get("price"):
            raise _parameter_missing("items[0][price]")
        price = self._load(tx, "price", items[0]["price"], "items[0][price]")
        if price["type"] != "recurring":
            raise ApiError(
                400,
                "The price specified is set to `type=one_time` but this field only accepts"
                " prices with `type=recurring`.",
                param="items[0][price]",
            )
        if not price["active"]:
            raise ApiError(
                400,
                "The price specified is inactive. This field only accepts active prices.",
                param="items[0][price]",
            )
        return price

    def _start_subscription(
        self, tx: Tx, sub: StripeObject, customer: StripeObject, behavior: str, params: Params
    ) -> StripeObject:
        created = sub["created"]
        invoice = self._draft_invoice(tx, sub, customer, "subscription_create", (created, created))
        sub["latest_invoice"] = invoice["id"]
        tx.put(sub)
        tx.emit("customer.subscription.created", sub)
        intent = self._open_invoice(tx, invoice, customer, sub)
        method_id = (
            sub["default_payment_method"] or customer["invoice_settings"]["default_payment_method"]
        )
        if intent is None:  # the customer's credit paid it (plan_changes.py)
            self._save_changes(
                tx, sub, "customer.subscription.updated", *self._invoice_paid(tx, invoice, sub, None)
            )
        elif behavior != "default_incomplete" and method_id:
            confirm = {"payment_method": method_id, "off_session": params.get("off_session")}
            try:
                self._confirm(tx, intent, confirm)
            except ApiError as exc:
                if behavior == "error_if_incomplete" or exc.error["type"] != "card_error":
                    raise
        elif behavior == "error_if_incomplete":
            raise ApiError(
                400,
                "This customer has no attached payment source or default payment method."
                " Please consider adding a default payment method.",
            )
        return self._load(tx, "subscription", sub["id"])

    def _draft_invoice(
        self,
        tx: Tx,
        sub: StripeObject,
        customer: StripeObject,
        billing_reason: str,
        period: tuple[int, int],
    ) -> StripeObject:
        product = self._load(tx, "product", sub["items"]["data"][0]["price"]["product"])
        return billing_objects.invoice(sub, customer, product, billing_reason=billing_reason, period=period)

    @staticmethod
    def _finalize_invoice(tx: Tx, invoice: StripeObject, customer: StripeObject) -> None:
        """Store the draft (``invoice.created``), then finalize it: numbered, open, the
        customer's balance applied (proration.py). The caller emits ``invoice.finalized``
        once the invoice's payment is attached."""
        tx.put(invoice)
        tx.emit("invoice.created", invoice)
        finalized = objects.now()
        invoice.update(
            status="open",
            number=f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}",
            hosted_invoice_url=f"https://invoice.stripe.com/i/emulated/{invoice['id']}",
            invoice_pdf=f"https://pay.stripe.com/invoice/{invoice['id']}/pdf",
            effective_at=finalized,
            ending_balance=0,
        )
        invoice["status_transitions"]["finalized_at"] = finalized
        customer["next_invoice_sequence"] += 1
        balance_moved = proration.apply_balance(invoice, customer)
        if balance_moved is not None:
            tx.put(balance_moved)
        tx.put(customer)

    @staticmethod
    def _open_invoice(
        tx: Tx, invoice: StripeObject, customer: StripeObject, sub: StripeObject
    ) -> StripeObject | None:
        """Store the draft, then finalize it at once as Stripe does a subscription's:
        numbered, open, the customer's balance applied, and with the PaymentIntent that
        pays it, which it returns; None when nothing is due (the caller marks it paid:
        ``_invoice_paid``)."""
        Billing._finalize_invoice(tx, invoice, customer)
        if invoice["amount_due"] == 0:
            tx.put(invoice)
            tx.emit("invoice.finalized", invoice)
            return None
        intent = objects.payment_intent(
            amount=invoice["amount_due"],
            currency=invoice["currency"],
            customer=customer["id"],
            description=(
                "Subscription creation"
                if invoice["billing_reason"] == "subscription_create"
                else "Subscription update"
            ),
            receipt_email=None,
            allowed_payment_method_types=None,
            automatic_payment_methods=False,
        )
        if sub["payment_settings"]["save_default_payment_method"] == "on_subscription":
            intent["setup_future_usage"] = "off_session"
        tx.put(intent)
        tx.put(billing_objects.invoice_payment(invoice, intent["id"]))
        tx.put(invoice)
        tx.emit("invoice.finalized", invoice)
        tx.emit("payment_intent.created", intent)
        return intent

    @staticmethod
    def _invoice_payment(tx: Tx, intent_id: str) -> StripeObject | None:
        """The invoice payment of the PaymentIntent: endive's intent has no ``invoice``."""
        found = tx.list_objects("invoice_payment", {"payment.payment_intent": intent_id})
        return found[0] if found else None

    def _invoice_follows(self, tx: Tx, intent: StripeObject, event: str) -> None:
        """The PaymentIntent moved (``event``): its invoice, if any, and the invoice's
        subscription follow. A payment makes the subscription active again."""
        payment = self._invoice_payment(tx, intent["id"])
        if payment is None:
            return
        invoice = self._load(tx, "invoice", payment["invoice"])
        if event == "payment_intent.requires_action":
            tx.emit("invoice.payment_action_required", invoice)
            return
        sub = self._load(
            tx, "subscription", invoice["parent"]["subscription_details"]["subscription"]
        )
        invoice.update(attempted=True, attempt_count=invoice["attempt_count"] + 1)
        first: tuple[str, ...] = ()
        if event == "payment_intent.payment_failed":
            tx.put(invoice)
            tx.emit("invoice.payment_failed", invoice)
            # A pending update's invoice unpaid: the subscription goes on as it was.
            if sub["status"] == "active" and not self._pays_pending_update(sub, invoice):
                sub["status"] = "past_due"
        else:
            payment.update(status="paid", amount_paid=invoice["amount_due"])
            payment["status_transitions"]["paid_at"] = objects.now()
            tx.put(payment)
            first = self._invoice_paid(tx, invoice, sub, intent["payment_method"])
        self._save_changes(tx, sub, "customer.subscription.updated", *first)

    @staticmethod
    def _included(tx: Tx, invoice_id: str, field: str) -> StripeObject | None:
        """An invoice's includable ``payments`` or ``confirmation_secret``."""
        payments = tx.list_objects("invoice_payment", {"invoice": invoice_id})
        if field == "payments":
            return {
                "object": "list",
                "data": payments,
                "has_more": False,
                "url": f"/v1/invoice_payments?invoice={invoice_id}",
            }
        default = next((payment for payment in payments if payment["is_default"]), None)
        if default is None:
            return None
        intent = tx.get(default["payment"]["payment_intent"]) or {}
        return {"client_secret": intent.get("client_secret"), "type": "payment_intent"}

    def _get_subscription(self, tx: Tx, params: Params, sub_id: str) -> StripeObject:
        return self._load(tx, "subscription", sub_id)

    def _list_subscriptions(self, tx: Tx, params: Params) -> StripeObject:
        """Without ``status``, those not ended, as Stripe lists them; ``all``: every one."""
        status = params.get("status") or None
        if status not in (None, "all", "ended", *_SUBSCRIPTION_STATUSES):
            raise ApiError(
                400,
                f"Invalid status: must be one of all, ended, {', '.join(_SUBSCRIPTION_STATUSES)}",
                param="status",
            )
        filters = _filters(params, "customer")
        if params.get("price"):
            filters["items.data[0].price.id"] = params["price"]
        keep = None
        if status in (None, "ended"):
            keep = lambda sub: (sub["status"] in _ENDED) == (status == "ended")  # noqa: E731
        elif status != "all":
            filters["status"] = status
        return self._list(tx, params, "subscription", filters, keep)

    def _update_subscription(self, tx: Tx, params: Params, sub_id: str) -> StripeObject:
        sub = self._load(tx, "subscription", sub_id)
        if "items" in params:  # a plan change (plan_changes.py)
            return self._change_plan(tx, sub, params)
        if "cancel_at_period_end" in params:
            if sub["status"] in _ENDED:
                raise ApiError(
                    400,
                    "A canceled subscription can only update its cancellation_details and"
                    " metadata.",
                )
            self._set_cancel_at_period_end(sub, _bool(params, "cancel_at_period_end"))
        if params.get("default_payment_method"):  # the card its renewals and changes are charged to
            method = self._payment_method(tx, params["default_payment_method"], "default_payment_method")
            sub["default_payment_method"] = method["id"]
        sub["metadata"] = _metadata(sub["metadata"], params)
        return self._save_changes(tx, sub, "customer.subscription.updated")

    @staticmethod
    def _set_cancel_at_period_end(sub: StripeObject, cancel: bool) -> None:
        """Stripe's canceled_at is when the cancellation was asked for, not when it ends."""
        period_end = sub["items"]["data"][0]["current_period_end"]
        sub.update(
            cancel_at_period_end=cancel,
            cancel_at=period_end if cancel else None,
            canceled_at=objects.now() if cancel else None,
        )
        sub["cancellation_details"]["reason"] = "cancellation_requested" if cancel else None

    def _cancel_subscription(self, tx: Tx, params: Params, sub_id: str) -> StripeObject:
        sub = self._load(tx, "subscription", sub_id)
        if sub["status"] in _ENDED:
            raise ApiError(400, f"This subscription has already ended ({sub['status']}).")
        now = objects.now()
        sub.update(status="canceled", canceled_at=now, ended_at=now)
        sub["cancellation_details"]["reason"] = "cancellation_requested"
        tx.put(sub)
        tx.emit("customer.subscription.deleted", sub)
        return sub

    def _get_invoice(self, tx: Tx, params: Params, invoice_id: str) -> StripeObject:
        return self._load(tx, "invoice", invoice_id)

    def _list_invoices(self, tx: Tx, params: Params) -> StripeObject:
        filters = _filters(params, "customer", "status")
        if params.get("subscription"):
            filters["parent.subscription_details.subscription"] = params["subscription"]
        return self._list(tx, params, "invoice", filters)
