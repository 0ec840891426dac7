"""SetupIntents: saving a card for later off-session payments (a trial's first
renewal), without charging it.

Confirmed with a card, a SetupIntent succeeds (the card is attached to its
customer: ``payment_method.attached``), asks for 3-D Secure (the 3155 card:
``requires_action``, finished by :meth:`SetupIntents.authenticate_setup`), or
fails with the card's decline (``setup_intent.setup_failed``, a 402 card_error
as Stripe answers). The pending SetupIntent of a trialing subscription that
saves its payment method (``save_default_payment_method=on_subscription``)
makes the card the subscription's default payment method when it succeeds.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from . import objects
from .common import ApiError, Params, StripeObject, _bool, _doc_url, _metadata, _parameter_missing
from .store import Tx
from .test_cards import REQUIRES_3DS, Decline, card_behaviour

_SETUP_CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
_USAGES = ("off_session", "on_session")


def setup_intent(*, customer: str | None, usage: str, description: str | None = None) -> StripeObject:
    obj = objects.template("setup_intent")
    seti_id = objects.new_id("seti")
    obj.update(
        id=seti_id,
        client_secret=f"{seti_id}_secret_{objects.random_string(32)}",
        created=objects.now(),
        customer=customer,
        description=description,
        automatic_payment_methods=None,
        last_setup_error=None,
        latest_attempt=None,
        livemode=False,
        metadata={},
        next_action=None,
        payment_method=None,
        payment_method_configuration_details=None,
        payment_method_options={
            "card": {"mandate_options": None, "network": None, "request_three_d_secure": "automatic"}
        },
        payment_method_types=["card"],
        status="requires_payment_method",
        usage=usage,
    )
    return obj


class SetupIntents:
    """The setup intents endpoints' handlers, mixed into ``Emulator``."""

    def _create_setup_intent(self, tx: Tx, params: Params) -> StripeObject:
        customer = params.get("customer") or None
        if customer:
            self._load(tx, "customer", customer, "customer")
        usage = params.get("usage") or "off_session"
        if usage not in _USAGES:
            raise ApiError(400, "Invalid usage: must be one of off_session, on_session", param="usage")
        intent = setup_intent(customer=customer, usage=usage, description=params.get("description") or None)
        intent["metadata"] = _metadata({}, params)
        if params.get("payment_method"):
            method = self._payment_method(tx, params["payment_method"])
            intent.update(payment_method=method["id"], status="requires_confirmation")
        tx.put(intent)
        tx.emit("setup_intent.created", intent)
        if _bool(params, "confirm"):
            return self._confirm_setup(tx, intent, {"payment_method": intent["payment_method"], "return_url": params.get("return_url")})
        return intent

    def _get_setup_intent(self, tx: Tx, params: Params, intent_id: str) -> StripeObject:
        return self._load(tx, "setup_intent", intent_id)

    def _confirm_setup_intent(self, tx: Tx, params: Params, intent_id: str) -> StripeObject:
        return self._confirm_setup(tx, self._load(tx, "setup_intent", intent_id), params)

    def _cancel_setup_intent(self, tx: Tx, params: Params, intent_id: str) -> StripeObject:
        intent = self._load(tx, "setup_intent", intent_id)
        if intent["status"] not in _SETUP_CONFIRMABLE:
            raise self._setup_state(intent, "cancel")
        intent.update(status="canceled", cancellation_reason=params.get("cancellation_reason") or None)
        tx.put(intent)
        tx.emit("setup_intent.canceled", intent)
        return intent

    # ------------------------------------------------------ the state machine

    def _confirm_setup(self, tx: Tx, intent: StripeObject, params: Params) -> StripeObject:
        if intent["status"] not in _SETUP_CONFIRMABLE:
            raise self._setup_state(intent, "confirm")
        method_id = params.get("payment_method") or intent["payment_method"]
        if not method_id:
            raise _parameter_missing("payment_method")
        method = self._payment_method(tx, method_id)
        intent.update(payment_method=method["id"], last_setup_error=None, next_action=None)
        behaviour = card_behaviour(method["card"])
        if behaviour == REQUIRES_3DS:
            intent.update(status="requires_action", next_action=self._setup_next_action(intent, params.get("return_url")))
            tx.put(intent)
            tx.emit("setup_intent.requires_action", intent)
            return intent
        if isinstance(behaviour, Decline):
            self._setup_declined(tx, intent, method, behaviour)
        return self._setup_succeeded(tx, intent, method)

    def _setup_next_action(self, intent: StripeObject, return_url: Any) -> dict[str, Any]:
        """The emulator's 3-D Secure page (hosted.py), as for a PaymentIntent: its URL
        carries the client secret, and a ``return_url`` makes it a redirect."""
        source = objects.new_id("src")
        url = f"{self.public_url}/3d_secure/{intent['id']}?" + urlencode(
            {"setup_intent_client_secret": intent["client_secret"], "source": source}
        )
        if return_url:
            return {"type": "redirect_to_url", "redirect_to_url": {"return_url": str(return_url), "url": url}}
        return {"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect", "source": source, "stripe_js": url}}

    def _setup_succeeded(self, tx: Tx, intent: StripeObject, method: StripeObject) -> StripeObject:
        if intent["customer"] and method["customer"] != intent["customer"]:
            method["customer"] = intent["customer"]
            tx.put(method)
            tx.emit("payment_method.attached", method)
        intent.update(status="succeeded", next_action=None)
        tx.put(intent)
        tx.emit("setup_intent.succeeded", intent)
        self._pending_setup_follows(tx, intent)
        return intent

    def _pending_setup_follows(self, tx: Tx, intent: StripeObject) -> None:
        """The subscription whose pending SetupIntent this is keeps the card."""
        for sub in tx.list_objects("subscription", {"pending_setup_intent": intent["id"]}):
            sub["pending_setup_intent"] = None
            if sub["payment_settings"]["save_default_payment_method"] == "on_subscription":
                sub["default_payment_method"] = intent["payment_method"]
            self._save_changes(tx, sub, "customer.subscription.updated")

    def _setup_declined(self, tx: Tx, intent: StripeObject, method: StripeObject, decline: Decline) -> None:
        exc = ApiError(
            402,
            decline.message,
            error_type="card_error",
            code=decline.code,
            decline_code=decline.decline_code,
            doc_url=_doc_url(decline.code),
            payment_method=method,
        )
        intent.update(last_setup_error=dict(exc.error), payment_method=None, status="requires_payment_method")
        tx.put(intent)
        tx.emit("setup_intent.setup_failed", intent)
        exc.error["setup_intent"] = intent
        raise exc

    @staticmethod
    def _setup_state(intent: StripeObject, action: str) -> ApiError:
        return ApiError(
            400,
            f"You cannot {action} this SetupIntent because it has a status of {intent['status']}.",
            code="setup_intent_unexpected_state",
            setup_intent=intent,
        )

    # ------------------------------------------- the customer's browser

    def confirm_setup(self, setup_intent_id: str, card_number: str = "4242424242424242") -> dict[str, Any]:
        """Confirm with a new test card as Stripe.js's confirmSetup would.
        Returns ``{"setup_intent": ..., "error": <Stripe error object or None>}``."""

        def act(tx: Tx) -> None:
            intent = self._load(tx, "setup_intent", setup_intent_id)
            self._confirm_setup(tx, intent, {"payment_method": self._test_card(tx, card_number)["id"]})

        return self._setup_act(setup_intent_id, act)

    def authenticate_setup(self, setup_intent_id: str, succeed: bool = True) -> dict[str, Any]:
        """Complete (or fail) 3-D Secure on a ``requires_action`` SetupIntent; a failure is
        recorded in ``last_setup_error`` (``setup_intent.setup_failed``), not an API error."""

        def act(tx: Tx) -> None:
            intent = self._load(tx, "setup_intent", setup_intent_id)
            if intent["status"] != "requires_action":
                raise self._setup_state(intent, "authenticate")
            method = self._load(tx, "payment_method", intent["payment_method"])
            if succeed:
                self._setup_succeeded(tx, intent, method)
                return
            intent.update(
                status="requires_payment_method",
                payment_method=None,
                next_action=None,
                last_setup_error={
                    "type": "invalid_request_error",
                    "code": "setup_intent_authentication_failure",
                    "message": (
                        "The latest attempt to set up the payment method has failed because"
                        " authentication failed."
                    ),
                    "doc_url": _doc_url("setup_intent_authentication_failure"),
                    "payment_method": method,
                },
            )
            tx.put(intent)
            tx.emit("setup_intent.setup_failed", intent)

        return self._setup_act(setup_intent_id, act)

    def _setup_act(self, intent_id: str, action: Any) -> dict[str, Any]:
        with self._store.transaction({"id": objects.new_id("req"), "idempotency_key": None}) as tx:
            try:
                action(tx)
                error = None
            except ApiError as exc:
                error = self._with_log_url(tx, exc.error)
            intent = tx.get(intent_id)
            if intent is not None and intent["object"] != "setup_intent":
                intent = None
            return {"setup_intent": intent, "error": error}
