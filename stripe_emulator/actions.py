"""What no API call of the server does: the customer's browser and bank (pay,
authenticate, settle), the customer on a hosted Checkout page, Stripe's own later
moves (refunds that settle or fail, Dashboard refunds) and a test clock moving a
subscription (advance, pause, resume). The ``stripe_emulator`` command and the
browser pages call them; each runs in one store transaction, as a request does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import billing_objects, checkout_objects, objects
from .common import ApiError, StripeObject, _doc_url, _subscription_state, _unexpected_state
from .store import Tx
from .test_cards import GENERIC_DECLINE, REFUND_FAILS, card_behaviour


class Actions:
    """The actions endpoints' handlers, mixed into ``Emulator``."""

    # ----------------------------------- the customer's browser and bank

    def pay(
        self,
        payment_intent_id: str,
        card_number: str = "4242424242424242",
        *,
        processing: bool = False,
    ) -> dict[str, Any]:
        """Confirm with a new card as Stripe.js would, through the confirm endpoint's code.

        ``processing`` makes it an asynchronous method whatever the card: the
        PaymentIntent stays ``processing`` until :meth:`settle`.
        Returns ``{"payment_intent": ..., "error": <Stripe error object or None>}``.
        """

        def act(tx: Tx) -> None:
            intent = self._load(tx, "payment_intent", payment_intent_id)
            method = self._test_card(tx, card_number)
            self._confirm(tx, intent, {"payment_method": method["id"]}, processing=processing)

        return self._act(payment_intent_id, act, request_id=objects.new_id("req"))

    def authenticate(self, payment_intent_id: str, succeed: bool = True) -> dict[str, Any]:
        """Complete (or fail) 3-D Secure on a ``requires_action`` PaymentIntent.

        A failed authentication is not an API error: it is reported in the
        PaymentIntent's ``last_payment_error``, and ``error`` stays None.
        """

        def act(tx: Tx) -> None:
            intent = self._load(tx, "payment_intent", payment_intent_id)
            if intent["status"] != "requires_action":
                raise _unexpected_state(intent, "authenticate")
            method = self._load(tx, "payment_method", intent["payment_method"])
            if succeed:
                self._succeed(tx, intent, method, three_d_secure=True)
                return
            intent.update(
                last_payment_error={
                    "type": "invalid_request_error",
                    "code": "payment_intent_authentication_failure",
                    "message": (
                        "The provided PaymentMethod has failed authentication. You can provide"
                        " payment_method_data or a new PaymentMethod to attempt to fulfill this"
                        " PaymentIntent again."
                    ),
                    "doc_url": _doc_url("payment_intent_authentication_failure"),
                    "payment_method": method,
                },
                payment_method=None,
                next_action=None,
            )
            self._transition(tx, intent, "requires_payment_method", "payment_intent.payment_failed")

        return self._act(payment_intent_id, act)

    def settle(self, payment_intent_id: str, succeed: bool = True) -> dict[str, Any]:
        """Finish a ``processing`` payment: it succeeds, or its charge fails (a card_error)."""

        def act(tx: Tx) -> None:
            self._settle(tx, self._load(tx, "payment_intent", payment_intent_id), succeed)

        return self._act(payment_intent_id, act)

    def _settle(self, tx: Tx, intent: StripeObject, succeed: bool) -> StripeObject:
        if intent["status"] != "processing":
            raise _unexpected_state(intent, "settle")
        method = self._load(tx, "payment_method", intent["payment_method"])
        if not succeed:
            self._decline(tx, intent, method, GENERIC_DECLINE)
        return self._succeed(tx, intent, method, three_d_secure=False)

    # ------------------------------------ the customer on a Checkout page

    def complete_checkout(
        self, session_id: str, card_number: str = "4242424242424242", *, delayed: bool = False
    ) -> dict[str, Any]:
        """Pay an open Checkout Session's page with a card, as its customer would.

        Payment mode: the session's PaymentIntent is created (the first time; a retry
        after a decline reuses it) with payment_intent_data's metadata and confirmed
        through the confirm endpoint's code. Subscription mode: the subscription is
        created (subscription_data's metadata, the card as its default payment method)
        with its first invoice, which the card pays; a decline undoes all of it. A card
        asking for 3-D Secure is authenticated on the page. Paid, the session is
        ``complete`` and ``paid`` (``checkout.session.completed``); declined, it stays
        ``open`` and the card_error is returned. ``delayed`` plays an asynchronous
        method: the payment stays ``processing`` and the session is ``complete`` but
        ``unpaid`` until :meth:`settle_checkout`.
        Returns ``{"session": ..., "error": <Stripe error object or None>}``.
        """

        def act(tx: Tx, session: StripeObject) -> None:
            if session["status"] != "open":
                raise ApiError(
                    400,
                    f"This Checkout Session is no longer open: it is {session['status']}.",
                )
            method = self._test_card(tx, card_number)
            if session["mode"] == "payment":
                intent = self._checkout_payment(tx, session, method, delayed)
            else:
                intent = self._checkout_subscription(tx, session, method, delayed)
            customer = tx.get(session["customer"]) if session["customer"] else None
            session.update(
                status="complete",
                payment_status="paid" if intent["status"] == "succeeded" else "unpaid",
                url=None,
                customer_details=checkout_objects.checkout_customer_details(customer),
                collected_information={
                    "business_name": None,
                    "individual_name": None,
                    "shipping_details": None,
                },
            )
            tx.put(session)
            tx.emit("checkout.session.completed", session)

        return self._checkout_act(session_id, act)

    def _checkout_payment(
        self, tx: Tx, session: StripeObject, method: StripeObject, delayed: bool
    ) -> StripeObject:
        intent = tx.get(session["payment_intent"]) if session["payment_intent"] else None
        if intent is None:
            intent = objects.payment_intent(
                amount=session["amount_total"],
                currency=session["currency"],
                customer=session["customer"],
                description=None,
                receipt_email=None,
                allowed_payment_method_types=session.get("allowed_payment_method_types"),
                automatic_payment_methods=False,
            )
            intent["metadata"] = dict(self._checkout_request(tx, session)["metadata"])
            tx.put(intent)
            tx.emit("payment_intent.created", intent)
            session["payment_intent"] = intent["id"]
            tx.put(session)  # kept through a decline: the page retries with this intent
        return self._checkout_confirm(tx, intent, method, delayed)

    def _checkout_subscription(
        self, tx: Tx, session: StripeObject, method: StripeObject, delayed: bool
    ) -> StripeObject:
        request = self._checkout_request(tx, session)
        price = self._load(tx, "price", request["price"])
        try:
            with tx.savepoint():
                if session["customer"]:
                    customer = self._load(tx, "customer", session["customer"])
                else:  # Checkout makes one in subscription mode
                    customer = tx.put(objects.customer())
                    tx.emit("customer.created", customer)
                    session["customer"] = customer["id"]
                sub = billing_objects.subscription(customer["id"], price, save_default_payment_method="off")
                sub.update(metadata=dict(request["metadata"]), default_payment_method=method["id"])
                sub = self._start_subscription(tx, sub, customer, "default_incomplete", {})
                session.update(subscription=sub["id"], invoice=sub["latest_invoice"])
                intent = self._session_intent(tx, session)
                return self._checkout_confirm(tx, intent, method, delayed)
        except ApiError as exc:  # nothing of it is left
            for key in ("charge", "payment_intent"):
                exc.error.pop(key, None)
            raise

    def _checkout_confirm(
        self, tx: Tx, intent: StripeObject, method: StripeObject, delayed: bool
    ) -> StripeObject:
        intent = self._confirm(tx, intent, {"payment_method": method["id"]}, processing=delayed)
        if intent["status"] == "requires_action":  # 3-D Secure, passed on the page
            intent = self._succeed(tx, intent, method, three_d_secure=True)
        return intent

    def settle_checkout(self, session_id: str, succeed: bool = True) -> dict[str, Any]:
        """Finish the delayed payment of a completed, unpaid session, as :meth:`settle`
        does, then ``checkout.session.async_payment_succeeded`` (now ``paid``) or
        ``checkout.session.async_payment_failed`` (the card_error is returned)."""

        def act(tx: Tx, session: StripeObject) -> None:
            if (session["status"], session["payment_status"]) != ("complete", "unpaid"):
                raise ApiError(
                    400,
                    "This Checkout Session has no payment to settle: it is"
                    f" {session['status']} and {session['payment_status']}.",
                )
            intent = self._session_intent(tx, session)
            try:
                self._settle(tx, intent, succeed)
            except ApiError as exc:
                if exc.error["type"] == "card_error":
                    tx.emit("checkout.session.async_payment_failed", session)
                raise
            session["payment_status"] = "paid"
            tx.put(session)
            tx.emit("checkout.session.async_payment_succeeded", session)

        return self._checkout_act(session_id, act)

    def expire_checkout(self, session_id: str) -> dict[str, Any]:
        """What the expire endpoint does (Stripe's own expiry: the emulator has no clock)."""
        return self._checkout_act(session_id, self._expire_session)

    def _checkout_act(
        self, session_id: str, action: Callable[[Tx, StripeObject], Any]
    ) -> dict[str, Any]:
        with self._store.transaction() as tx:
            try:
                action(tx, self._load(tx, "checkout.session", session_id))
                error = None
            except ApiError as exc:
                error = self._with_log_url(tx, exc.error)
            session = tx.get(session_id)
            if session is not None and session["object"] != "checkout.session":
                session = None
            return {"session": session, "error": error}

    # ------------------------------------ Stripe's own moves, the Dashboard

    def advance_refunds(self) -> list[dict[str, Any]]:
        """Move every refund that has a later state one step on, oldest first.

        A pending refund succeeds (``refund.updated``, ``charge.refund.updated``,
        ``charge.refunded``); a succeeded refund of the refund-fails test card
        fails with ``expired_or_canceled_card``, its amount going back to the
        balance and to the charge (``refund.failed``, ``refund.updated``,
        ``charge.refund.updated``). Returns the refunds changed, as they are now.
        """
        changed = []
        with self._store.transaction() as tx:
            for refund in reversed(tx.list_objects("refund")):
                charge = self._load(tx, "charge", refund["charge"])
                behaviour = card_behaviour(charge["payment_method_details"]["card"])
                if refund["status"] == "pending":
                    self._refund_succeeds(tx, refund)
                    charge = self._save_refund(tx, refund)
                    self._refund_updated(tx, refund)
                    tx.emit("charge.refunded", charge)
                elif refund["status"] == "succeeded" and behaviour == REFUND_FAILS:
                    txn = objects.balance_transaction(
                        refund["id"], refund["amount"], refund["currency"], type_="refund_failure"
                    )
                    refund.update(
                        status="failed",
                        failure_reason="expired_or_canceled_card",
                        failure_balance_transaction=tx.put(txn)["id"],
                    )
                    self._save_refund(tx, refund)
                    tx.emit("refund.failed", refund)
                    self._refund_updated(tx, refund)
                else:
                    continue
                changed.append(refund)
        return changed

    def dashboard_refund(
        self, payment_intent_id: str, amount: int | None = None, reason: str | None = None
    ) -> dict[str, Any]:
        """Refund as from the Stripe Dashboard: the API's checks, effects and events, the
        events with ``request`` ``{"id": None, "idempotency_key": None}`` as no API
        request made them. Returns ``{"refund": ..., "error": <Stripe error or None>}``.
        """
        params = {"payment_intent": payment_intent_id, "amount": amount, "reason": reason}
        with self._store.transaction() as tx:
            try:
                refund = self._create_refund(tx, {k: v for k, v in params.items() if v is not None})
            except ApiError as exc:
                return {"refund": None, "error": exc.error}
        return {"refund": refund, "error": None}

    # ---------------------------------------- a subscription's later moves

    def advance_subscription(self, subscription_id: str, *, succeed: bool = True) -> dict[str, Any]:
        """Move a trialing, active or past_due subscription to its next period, as a test
        clock would (a trial ends: trials.py).

        One set to cancel at the period's end ends instead, without an invoice.
        Otherwise a ``subscription_cycle`` invoice is charged off-session to the
        subscription's (else the customer's) default payment method: paid, the
        subscription is (again) active; declined (by the card, or ``succeed=False``),
        the invoice stays open and the subscription is past_due. Returns
        ``{"subscription": ..., "invoice": <the new invoice or None>, "error": <Stripe
        error or None>}``; the emulator has no clock: only the periods move.
        """

        def act(tx: Tx, sub: StripeObject) -> None:
            if sub["status"] not in ("trialing", "active", "past_due"):
                raise _subscription_state(sub, "advance")
            if sub["pending_update"]:  # it expires before the period ends
                self._expire_pending_update(tx, sub)
            self._before_renewal(tx, sub)  # trials.py: the reminders; a trial ends
            item = sub["items"]["data"][0]
            if sub["cancel_at_period_end"]:  # canceled_at stays when it was asked for
                sub.update(status="canceled", ended_at=item["current_period_end"])
                tx.put(sub)
                tx.emit("customer.subscription.deleted", sub)
                return
            ended = (item["current_period_start"], item["current_period_end"])
            item.update(
                current_period_start=ended[1],
                current_period_end=billing_objects.period_end(
                    sub["billing_cycle_anchor"], ended[1], item["price"]["recurring"]
                ),
            )
            customer = self._load(tx, "customer", sub["customer"])
            invoice = self._draft_invoice(tx, sub, customer, "subscription_cycle", ended)
            sub["latest_invoice"] = invoice["id"]
            tx.put(sub)  # announced with the payment's outcome
            intent = self._open_invoice(tx, invoice, customer, sub)
            method_id = (
                sub["default_payment_method"]
                or customer["invoice_settings"]["default_payment_method"]
            )
            if intent is None:  # the customer's credit paid it
                first = self._invoice_paid(tx, invoice, sub, None)
                self._save_changes(tx, sub, "customer.subscription.updated", *first)
            elif method_id is None:
                self._invoice_follows(tx, intent, "payment_intent.payment_failed")
            elif succeed:
                self._confirm(tx, intent, {"payment_method": method_id, "off_session": "true"})
            else:
                method = self._load(tx, "payment_method", method_id)
                self._decline(tx, intent, method, GENERIC_DECLINE)

        return self._subscription_act(subscription_id, act)

    def pause_subscription(self, subscription_id: str) -> dict[str, Any]:
        """Pause an active subscription (status ``paused``); same result as advance."""
        return self._subscription_act(
            subscription_id, lambda tx, sub: self._set_paused(tx, sub, True)
        )

    def resume_subscription(self, subscription_id: str) -> dict[str, Any]:
        """Make a paused subscription active again; same result as advance."""
        return self._subscription_act(
            subscription_id, lambda tx, sub: self._set_paused(tx, sub, False)
        )

    def _set_paused(self, tx: Tx, sub: StripeObject, paused: bool) -> None:
        if sub["status"] != ("active" if paused else "paused"):
            raise _subscription_state(sub, "pause" if paused else "resume")
        sub["status"] = "paused" if paused else "active"
        event = "customer.subscription.paused" if paused else "customer.subscription.resumed"
        self._save_changes(tx, sub, "customer.subscription.updated", event)

    def _subscription_act(
        self, subscription_id: str, action: Callable[[Tx, StripeObject], None]
    ) -> dict[str, Any]:
        with self._store.transaction() as tx:
            before = tx.get(subscription_id) or {}
            try:
                action(tx, self._load(tx, "subscription", subscription_id))
                error = None
            except ApiError as exc:
                error = self._with_log_url(tx, exc.error)
            sub = tx.get(subscription_id) if before.get("object") == "subscription" else None
            invoice = None
            if sub is not None and sub["latest_invoice"] != before["latest_invoice"]:
                invoice = tx.get(sub["latest_invoice"])
            return {"subscription": sub, "invoice": invoice, "error": error}

    def _act(
        self, intent_id: str, action: Callable[[Tx], None], request_id: str | None = None
    ) -> dict[str, Any]:
        with self._store.transaction({"id": request_id, "idempotency_key": None}) as tx:
            try:
                action(tx)
                error = None
            except ApiError as exc:
                error = self._with_log_url(tx, exc.error)
            intent = tx.get(intent_id)
            if intent is not None and intent["object"] != "payment_intent":
                intent = None
            return {"payment_intent": intent, "error": error}
