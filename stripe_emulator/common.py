"""What every resource module shares: the API's errors as Stripe shapes them and
the readers of form-decoded parameters."""

from __future__ import annotations

from typing import Any


Params = dict[str, Any]
StripeObject = dict[str, Any]

_CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
_CANCELABLE = (*_CONFIRMABLE, "requires_capture", "processing")
_CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
_REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
# Refunds that hold part of the charge's amount; failed and canceled ones give it back.
_REFUNDING = ("pending", "requires_action", "succeeded")
_FAULT_KINDS = ("connection_error", "timeout", "500", "429")
_FAULT_ERRORS = {
    "500": {"type": "api_error", "message": "An unknown error occurred."},
    "429": {
        "type": "rate_limit_error",
        "code": "rate_limit",
        "message": "Too many requests hit the API too quickly.",
    },
}
# How Stripe names a resource in "No such ...".
_NAMES = {"payment_method": "PaymentMethod", "webhook_endpoint": "webhook endpoint"}
_PAYMENT_BEHAVIORS = ("allow_incomplete", "default_incomplete", "error_if_incomplete")
_SUBSCRIPTION_STATUSES = (
    *("active", "canceled", "incomplete", "incomplete_expired"),
    *("past_due", "paused", "trialing", "unpaid"),
)
_ENDED = ("canceled", "incomplete_expired")
_CHECKOUT_MODES = ("payment", "setup", "subscription")
_CHECKOUT_STATUSES = ("complete", "expired", "open")
# What a session keeps of its create request beyond its own fields (line_items is
# includable only; payment_intent_data and subscription_data are not on it at all).
_CHECKOUT_REQUEST = "emulator.checkout_session_request"
_INVOICE_INCLUDABLE = ("confirmation_secret", "payments")  # on the invoice only when expanded
# The moves of an invoice's PaymentIntent that the invoice (and its subscription) follow.
_INVOICE_FOLLOWS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.requires_action",
)


class EmulatorConnectionError(Exception):
    """The request got no answer; the gateway turns it into stripe's APIConnectionError."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class ApiError(Exception):
    """A Stripe error response: ``error`` is the body's ``error`` object."""

    def __init__(
        self, status: int, message: str, *, error_type: str = "invalid_request_error", **fields: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error: dict[str, Any] = {"type": error_type, "message": message, **fields}


def _missing(resource: str, object_id: str, param: str = "id") -> ApiError:
    name = _NAMES.get(resource, resource)
    return ApiError(404, f"No such {name}: '{object_id}'", code="resource_missing", param=param)


def _parameter_missing(param: str) -> ApiError:
    return ApiError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def _parameter_unknown(param: str) -> ApiError:
    return ApiError(
        400, f"Received unknown parameter: {param}", code="parameter_unknown", param=param
    )


def _unexpected_state(intent: StripeObject, action: str) -> ApiError:
    return ApiError(
        400,
        f"You cannot {action} this PaymentIntent because it has a status of {intent['status']}.",
        code="payment_intent_unexpected_state",
        payment_intent=intent,
    )


def _subscription_state(sub: StripeObject, action: str) -> ApiError:
    return ApiError(
        400, f"You cannot {action} this subscription because it has a status of {sub['status']}."
    )


def _doc_url(code: str) -> str:
    return f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"


def _int(params: Params, name: str, *, param: str | None = None, default: int | None = None) -> int:
    value = params.get(name)
    if value is None or value == "":
        if default is None:
            raise _parameter_missing(param or name)
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(
            400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=param or name
        ) from None


def _limit(params: Params) -> int:
    limit = _int(params, "limit", default=10)
    if not 1 <= limit <= 100:
        raise ApiError(400, "Invalid limit: must be between 1 and 100", param="limit")
    return limit


def _bool(params: Params, name: str) -> bool:
    return str(params.get(name, "")).lower() == "true"


def _filters(params: Params, *names: str) -> dict[str, Any]:
    """Stripe's equality filters among ``names`` that ``params`` sets; ``active`` is a
    boolean, compared as SQLite reads a JSON true (1)."""
    found = {name: params[name] for name in names if params.get(name)}
    if "active" in found:
        found["active"] = int(_bool(params, "active"))
    return found


def _metadata(current: dict[str, str], params: Params) -> dict[str, str]:
    """Stripe merges metadata; an empty value unsets a key, ``metadata=`` unsets all."""
    value = params.get("metadata")
    if value is None:
        return current
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise ApiError(400, "Invalid object", param="metadata")
    return {key: v for key, v in {**current, **value}.items() if v != ""}
