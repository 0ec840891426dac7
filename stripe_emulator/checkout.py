"""Checkout Sessions.

Checkout: a session (hosted page, one price, quantity 1) is only a promise
until its customer pays the page (``complete_checkout``): then, and not
before, its PaymentIntent (payment mode) or its subscription with the first
invoice (subscription mode) is made and paid through the code above, and the
session is ``complete`` (``checkout.session.completed``). A delayed method
completes it ``unpaid`` until ``settle_checkout`` (the ``async_payment_*``
events). Sessions expire only through the expire endpoint or
``expire_checkout``: the emulator has no clock.
"""

from __future__ import annotations

from typing import Any

from . import billing_objects, checkout_objects, objects
from .common import (
    ApiError,
    Params,
    StripeObject,
    _CANCELABLE,
    _CHECKOUT_MODES,
    _CHECKOUT_REQUEST,
    _CHECKOUT_STATUSES,
    _filters,
    _int,
    _metadata,
    _parameter_missing,
)
from .store import Tx


class Checkout:
    """The checkout endpoints' handlers, mixed into ``Emulator``."""

    # --------------------------------------------------- checkout sessions

    def _create_checkout_session(self, tx: Tx, params: Params) -> StripeObject:
        """A hosted-page session for one price, quantity 1. Nothing is paid or subscribed
        until the customer completes the page (``complete_checkout``), and Stripe sends
        no event at creation."""
        mode = params.get("mode")
        if not mode:
            raise _parameter_missing("mode")
        if mode not in _CHECKOUT_MODES:
            raise ApiError(
                400, "Invalid mode: must be one of payment, setup, or subscription", param="mode"
            )
        if mode == "setup":
            raise ApiError(
                400,
                "The Stripe emulator supports only payment and subscription mode.",
                param="mode",
            )
        price = self._checkout_price(tx, params.get("line_items"), mode)
        customer = None
        if params.get("customer"):
            customer = self._load(tx, "customer", params["customer"], "customer")
        if not params.get("success_url"):
            raise _parameter_missing("success_url")
        own, other = "payment_intent_data", "subscription_data"
        if mode == "subscription":
            own, other = other, own
        if params.get(other) is not None:
            raise ApiError(400, f"You can not pass `{other}` in `{mode}` mode.", param=other)
        data = params.get(own) or {}
        if not isinstance(data, dict):
            raise ApiError(400, "Invalid object", param=own)
        data_metadata = _metadata({}, data)  # for the PaymentIntent or the subscription
        session = checkout_objects.checkout_session(
            mode=mode,
            price=price,
            quantity=1,
            customer_id=customer["id"] if customer else None,
            success_url=params["success_url"],
            cancel_url=params.get("cancel_url") or None,
            allowed_payment_method_types=self._allowed_types(params),
            expires_at=self._checkout_expires_at(params),
        )
        session["url"] = f"{self.public_url}/checkout/{session['id']}"  # the emulator's hosted page (pages.py)
        session["client_reference_id"] = params.get("client_reference_id") or None
        session["metadata"] = _metadata({}, params)
        if tx.get(price["id"]) is None:  # an inline price (price_data)
            tx.put(price)
        tx.put(session)
        tx.put(
            {
                "id": f"{session['id']}_request",
                "object": _CHECKOUT_REQUEST,
                "created": session["created"],
                "price": price["id"],
                "quantity": 1,
                "metadata": data_metadata,
            }
        )
        return session

    def _checkout_price(self, tx: Tx, items: Any, mode: str) -> StripeObject:
        if not items:
            raise _parameter_missing("line_items")
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ApiError(400, "Invalid array", param="line_items")
        if len(items) != 1:
            raise ApiError(
                400,
                "The Stripe emulator supports Checkout Sessions of one line item.",
                param="line_items",
            )
        if items[0].get("price") and items[0].get("price_data"):
            raise ApiError(
                400,
                "You may only specify one of these parameters: price, price_data.",
                param="line_items[0][price_data]",
            )
        if items[0].get("price_data"):
            price = self._inline_price(tx, items[0]["price_data"])
        elif items[0].get("price"):
            price = self._load(tx, "price", items[0]["price"], "line_items[0][price]")
        else:
            raise _parameter_missing("line_items[0][price]")
        if items[0].get("quantity") in (None, ""):
            raise ApiError(
                400,
                "Quantity is required. Add `quantity` to `line_items[0]`",
                param="line_items[0][quantity]",
            )
        if _int(items[0], "quantity", param="line_items[0][quantity]") != 1:
            raise ApiError(
                400,
                "The Stripe emulator supports a quantity of 1.",
                param="line_items[0][quantity]",
            )
        if not price["active"] and not items[0].get("price_data"):
            raise ApiError(
                400,
                "The price specified is inactive. This field only accepts active prices.",
                param="line_items[0][price]",
            )
        if mode == "payment" and price["type"] == "recurring":
            raise ApiError(
                400,
                "You specified `payment` mode but passed a recurring price. Either switch to"
                " `subscription` mode or use only one-time prices.",
                param="line_items[0][price]",
            )
        if mode == "subscription" and price["type"] != "recurring":
            raise ApiError(
                400,
                "You must provide at least one recurring price in `subscription` mode when"
                " using prices.",
                param="line_items",
            )
        return price

    def _inline_price(self, tx: Tx, data: Any) -> StripeObject:
        """The price ``line_items[0][price_data]`` describes, made for this session alone
        (inactive, no event) so that the session's payment can use it."""
        name = "line_items[0][price_data]"
        if not isinstance(data, dict):
            raise ApiError(400, "Invalid object", param=name)
        if data.get("product_data") is not None:
            raise ApiError(
                400,
                "The Stripe emulator supports price_data with a product, not product_data.",
                param=f"{name}[product_data]",
            )
        for field in ("currency", "product"):
            if not data.get(field):
                raise _parameter_missing(f"{name}[{field}]")
        self._load(tx, "product", data["product"], f"{name}[product]")
        amount = _int(data, "unit_amount", param=f"{name}[unit_amount]")
        if amount < 0:
            raise ApiError(
                400,
                "This value must be greater than or equal to 0.",
                code="parameter_invalid_integer",
                param=f"{name}[unit_amount]",
            )
        recurring = data.get("recurring")
        price = billing_objects.price(
            data["product"],
            str(data["currency"]).lower(),
            amount,
            None if recurring is None else self._recurring(recurring),
        )
        price["active"] = False
        return price  # stored with the session, once the whole request is valid

    @staticmethod
    def _checkout_expires_at(params: Params) -> int | None:
        """Between 30 minutes and 24 hours from now; None for Stripe's default (24 hours)."""
        if params.get("expires_at") in (None, ""):
            return None
        expires_at, now = _int(params, "expires_at"), objects.now()
        if expires_at < now + 30 * 60:
            raise ApiError(
                400,
                "The `expires_at` timestamp must be at least 30 minutes from Checkout Session"
                " creation.",
                param="expires_at",
            )
        if expires_at > now + checkout_objects.CHECKOUT_SESSION_LIFETIME:
            raise ApiError(
                400,
                "The `expires_at` timestamp must be less than 24 hours from Checkout Session"
                " creation.",
                param="expires_at",
            )
        return expires_at

    def _get_checkout_session(self, tx: Tx, params: Params, session_id: str) -> StripeObject:
        return self._load(tx, "checkout.session", session_id)

    def _list_checkout_sessions(self, tx: Tx, params: Params) -> StripeObject:
        status = params.get("status") or None
        if status not in (None, *_CHECKOUT_STATUSES):
            raise ApiError(
                400, "Invalid status: must be one of complete, expired, or open", param="status"
            )
        filters = _filters(params, "payment_intent", "subscription", "customer", "status")
        return self._list(tx, params, "checkout.session", filters, url="/v1/checkout/sessions")

    def _expire_checkout_session(self, tx: Tx, params: Params, session_id: str) -> StripeObject:
        return self._expire_session(tx, self._load(tx, "checkout.session", session_id))

    def _expire_session(self, tx: Tx, session: StripeObject) -> StripeObject:
        """An open session expires; the PaymentIntent of a failed attempt is canceled."""
        if session["status"] != "open":
            raise ApiError(
                400,
                'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout'
                f" Session has a status of `{session['status']}`.",
            )
        intent = tx.get(session["payment_intent"]) if session["payment_intent"] else None
        if intent is not None and intent["status"] in _CANCELABLE:
            intent.update(canceled_at=objects.now(), cancellation_reason="abandoned")
            intent["next_action"] = None
            self._transition(tx, intent, "canceled", "payment_intent.canceled")
        session.update(status="expired", url=None)
        tx.put(session)
        tx.emit("checkout.session.expired", session)
        return session

    def _checkout_request(self, tx: Tx, session: StripeObject) -> StripeObject:
        return self._load(tx, _CHECKOUT_REQUEST, f"{session['id']}_request")

    def _session_intent(self, tx: Tx, session: StripeObject) -> StripeObject:
        """The PaymentIntent paying the session: its own, or its first invoice's."""
        if session["payment_intent"]:
            return self._load(tx, "payment_intent", session["payment_intent"])
        [payment] = tx.list_objects("invoice_payment", {"invoice": session["invoice"]})
        return self._load(tx, "payment_intent", payment["payment"]["payment_intent"])
