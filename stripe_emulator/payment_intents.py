"""PaymentIntents: the endpoints and a payment's state machine (confirm, 3-D Secure,
success with its charge and balance transaction, decline)."""

from __future__ import annotations

from typing import Any, NoReturn
from urllib.parse import urlencode

from . import objects
from .common import (
    ApiError,
    Params,
    StripeObject,
    _CANCELABLE,
    _CANCELLATION_REASONS,
    _CONFIRMABLE,
    _INVOICE_FOLLOWS,
    _bool,
    _doc_url,
    _int,
    _metadata,
    _parameter_missing,
    _unexpected_state,
)
from .store import Tx
from .test_cards import AUTHENTICATION_REQUIRED, REQUIRES_3DS, Decline, card_behaviour


class PaymentIntents:
    """The payment intents endpoints' handlers, mixed into ``Emulator``."""

    def _create_payment_intent(self, tx: Tx, params: Params) -> StripeObject:
        amount = _int(params, "amount")
        if amount < 1:
            raise ApiError(
                400,
                "This value must be greater than or equal to 1.",
                code="parameter_invalid_integer",
                param="amount",
            )
        if not params.get("currency"):
            raise _parameter_missing("currency")
        if params.get("customer"):
            self._load(tx, "customer", params["customer"], param="customer")
        confirm = _bool(params, "confirm")
        if confirm and not params.get("payment_method"):
            raise _parameter_missing("payment_method")
        metadata = _metadata({}, params)
        method = (
            self._payment_method(tx, params["payment_method"])
            if params.get("payment_method")
            else None
        )
        automatic = params.get("automatic_payment_methods")
        intent = objects.payment_intent(
            amount=amount,
            currency=str(params["currency"]).lower(),
            customer=params.get("customer") or None,
            description=params.get("description") or None,
            receipt_email=params.get("receipt_email") or None,
            allowed_payment_method_types=self._allowed_types(params),
            automatic_payment_methods=isinstance(automatic, dict) and _bool(automatic, "enabled"),
        )
        intent["metadata"] = metadata
        if method is not None:
            intent.update(payment_method=method["id"], status="requires_confirmation")
        tx.put(intent)
        tx.emit("payment_intent.created", intent)
        if confirm:  # with the PaymentMethod resolved above, not a second one for a test id
            return self._confirm(tx, intent, {**params, "payment_method": intent["payment_method"]})
        return intent

    @staticmethod
    def _allowed_types(params: Params) -> list[str] | None:
        """``allowed_payment_method_types`` (API endive; payment_method_types is no
        longer a create parameter), or None for Stripe's choice (card, here)."""
        types = params.get("allowed_payment_method_types")
        if types in (None, ""):
            return None
        if not isinstance(types, list) or not all(isinstance(t, str) and t for t in types):
            raise ApiError(400, "Invalid array", param="allowed_payment_method_types")
        return types

    def _get_payment_intent(self, tx: Tx, params: Params, intent_id: str) -> StripeObject:
        return self._load(tx, "payment_intent", intent_id)

    def _update_payment_intent(self, tx: Tx, params: Params, intent_id: str) -> StripeObject:
        """Stripe has no payment_intent.updated event; an update clears last_payment_error."""
        intent = self._load(tx, "payment_intent", intent_id)
        intent["metadata"] = _metadata(intent["metadata"], params)
        for field in ("description", "receipt_email"):
            if field in params:
                intent[field] = params[field] or None
        intent["last_payment_error"] = None
        return tx.put(intent)

    def _confirm_payment_intent(self, tx: Tx, params: Params, intent_id: str) -> StripeObject:
        return self._confirm(tx, self._load(tx, "payment_intent", intent_id), params)

    def _cancel_payment_intent(self, tx: Tx, params: Params, intent_id: str) -> StripeObject:
        intent = self._load(tx, "payment_intent", intent_id)
        reason = params.get("cancellation_reason") or None
        if reason is not None and reason not in _CANCELLATION_REASONS:
            raise ApiError(
                400,
                f"Invalid cancellation_reason: must be one of {', '.join(_CANCELLATION_REASONS)}",
                param="cancellation_reason",
            )
        if intent["status"] not in _CANCELABLE:
            raise _unexpected_state(intent, "cancel")
        if self._invoice_payment(tx, intent_id):
            raise ApiError(
                400,
                "You cannot cancel this PaymentIntent because it was created by an invoice.",
                code="payment_intent_unexpected_state",
                payment_intent=intent,
            )
        intent.update(canceled_at=objects.now(), cancellation_reason=reason, next_action=None)
        return self._transition(tx, intent, "canceled", "payment_intent.canceled")

    # ------------------------------------------ a payment's state machine

    def _confirm(
        self, tx: Tx, intent: StripeObject, params: Params, *, processing: bool = False
    ) -> StripeObject:
        """Confirm as the test card dictates; a decline raises the 402 after recording it."""
        if intent["status"] not in _CONFIRMABLE:
            raise _unexpected_state(intent, "confirm")
        method_id = params.get("payment_method") or intent["payment_method"]
        if not method_id:
            raise _parameter_missing("payment_method")
        method = self._payment_method(tx, method_id)
        intent.update(payment_method=method["id"], last_payment_error=None, next_action=None)
        if processing:
            return self._transition(tx, intent, "processing", "payment_intent.processing")
        behaviour = card_behaviour(method["card"])
        if behaviour == REQUIRES_3DS and _bool(params, "off_session"):
            behaviour = AUTHENTICATION_REQUIRED
        if behaviour == REQUIRES_3DS:
            intent["next_action"] = self._next_action(intent, params.get("return_url") or None)
            return self._transition(tx, intent, "requires_action", "payment_intent.requires_action")
        if isinstance(behaviour, Decline):
            self._decline(tx, intent, method, behaviour)
        return self._succeed(tx, intent, method, three_d_secure=False)

    def _next_action(self, intent: StripeObject, return_url: str | None) -> dict[str, Any]:
        """Where the customer authenticates: the emulator's own 3-D Secure page (pages.py),
        where Stripe's is on hooks.stripe.com; like Stripe's, its URL carries the client secret."""
        source = objects.new_id("src")
        url = (
            f"{self.public_url}/3d_secure/{intent['id']}?"
            + urlencode({"payment_intent_client_secret": intent["client_secret"], "source": source})
        )
        if return_url:
            return {
                "type": "redirect_to_url",
                "redirect_to_url": {"return_url": return_url, "url": url},
            }
        return {
            "type": "use_stripe_sdk",
            "use_stripe_sdk": {
                "type": "three_d_secure_redirect",
                "source": source,
                "stripe_js": url,
            },
        }

    def _transition(self, tx: Tx, intent: StripeObject, status: str, event: str) -> StripeObject:
        intent["status"] = status
        tx.put(intent)
        tx.emit(event, intent)
        if event in _INVOICE_FOLLOWS:
            self._invoice_follows(tx, intent, event)
        return intent

    def _succeed(
        self, tx: Tx, intent: StripeObject, method: StripeObject, *, three_d_secure: bool
    ) -> StripeObject:
        charge = objects.charge(intent, method, decline=None, three_d_secure=three_d_secure)
        balance = tx.put(
            objects.balance_transaction(
                charge["id"],
                charge["amount"],
                charge["currency"],
                type_="charge",
                fee=objects.card_fee(charge["amount"]),
            )
        )
        charge["balance_transaction"] = balance["id"]
        tx.put(charge)
        tx.emit("charge.succeeded", charge)
        intent.update(
            amount_received=intent["amount"], latest_charge=charge["id"], next_action=None
        )
        return self._transition(tx, intent, "succeeded", "payment_intent.succeeded")

    def _decline(
        self, tx: Tx, intent: StripeObject, method: StripeObject, decline: Decline
    ) -> NoReturn:
        charge = tx.put(objects.charge(intent, method, decline=decline, three_d_secure=False))
        tx.emit("charge.failed", charge)
        exc = ApiError(
            402,
            decline.message,
            error_type="card_error",
            code=decline.code,
            decline_code=decline.decline_code,
            charge=charge["id"],
            doc_url=_doc_url(decline.code),
            payment_method=method,
        )
        intent.update(
            last_payment_error=dict(exc.error),
            latest_charge=charge["id"],
            payment_method=None,
            next_action=None,
        )
        self._transition(tx, intent, "requires_payment_method", "payment_intent.payment_failed")
        exc.error["payment_intent"] = intent
        raise exc
