"""What a publishable key (``pk_...``, the browser's, Stripe.js's) may do, as Stripe
decides it: retrieve or confirm a PaymentIntent (or a SetupIntent) with its client
secret, and create a PaymentMethod. Any other call answers Stripe's 401 for a
publishable key; a missing client secret is a missing parameter, a wrong one
(another intent's, a made-up one) Stripe's ``payment_intent_invalid_parameter``.

Stripe.js sends the key as the ``key`` parameter (form body or query string) rather
than an Authorization header, and a card as ``payment_method_data[card]``, which
Stripe turns into a PaymentMethod before confirming: here too, so the confirm
endpoint sees a ``payment_method`` as a server's call would give it. A PaymentIntent
read with a publishable key shows only the fields Stripe documents as readable with
one (no customer, no metadata).
"""

from __future__ import annotations

import hmac
from typing import Any

from .common import ApiError, Params, StripeObject, _parameter_missing

PUBLISHABLE_FORBIDDEN = (
    "This API call cannot be made with a publishable API key. Please use a secret API key. You can find"
    " a list of your API keys at https://dashboard.stripe.com/account/apikeys."
)

# (method, path) -> the resource whose client_secret the request must carry
# (None: no object, e.g. creating a PaymentMethod from the card form).
PUBLISHABLE: dict[tuple[str, str], str | None] = {
    ("POST", "/v1/payment_methods"): None,
    ("GET", "/v1/payment_intents/{id}"): "payment_intent",
    ("POST", "/v1/payment_intents/{id}/confirm"): "payment_intent",
    ("GET", "/v1/setup_intents/{id}"): "setup_intent",
    ("POST", "/v1/setup_intents/{id}/confirm"): "setup_intent",
}
_INTENT_NAMES = {"payment_intent": "PaymentIntent", "setup_intent": "SetupIntent"}
_INVALID_CODES = {"payment_intent": "payment_intent_invalid_parameter", "setup_intent": "setup_intent_invalid_parameter"}

# A PaymentIntent's fields Stripe returns to a publishable key.
PUBLIC_PAYMENT_INTENT_FIELDS = frozenset(
    "id object amount automatic_payment_methods canceled_at cancellation_reason capture_method client_secret"
    " confirmation_method created currency description last_payment_error livemode next_action payment_method"
    " payment_method_configuration_details payment_method_types processing receipt_email setup_future_usage"
    " shipping status".split()
)
PUBLIC_SETUP_INTENT_FIELDS = frozenset(
    "id object automatic_payment_methods cancellation_reason client_secret created description last_setup_error"
    " livemode next_action payment_method payment_method_configuration_details payment_method_types status"
    " usage".split()
)


def is_publishable(api_key: str | None) -> bool:
    """``api_key``: the key, or an Authorization header's value."""
    return str(api_key or "").removeprefix("Bearer ").strip().startswith("pk_")


def authorize(tx: Any, route: Any, path_args: tuple[str, ...], params: Params) -> Params:
    """The params the endpoint runs with (without ``key`` and ``client_secret``) for a
    publishable key's request; raises Stripe's error when that key may not make it."""
    if (route.method, route.path) not in PUBLISHABLE:
        raise ApiError(401, PUBLISHABLE_FORBIDDEN)
    params = {name: value for name, value in params.items() if name != "key"}
    resource = PUBLISHABLE[(route.method, route.path)]
    if resource is None:
        return params
    secret = params.pop("client_secret", None)
    if not secret:
        raise _parameter_missing("client_secret")
    intent = tx.get(path_args[0])
    stored = intent.get("client_secret") if intent is not None and intent.get("object") == resource else None
    # The same answer for an unknown intent and a known one with another's secret:
    # a publishable key learns nothing about intents it holds no secret of.
    if stored is None or not isinstance(secret, str) or not hmac.compare_digest(stored, secret):
        raise ApiError(
            400,
            f"The client_secret provided does not match the client_secret associated with the {_INTENT_NAMES[resource]}.",
            code=_INVALID_CODES[resource],
            param="client_secret",
        )
    return params


def with_card(emulator: Any, tx: Any, route: Any, params: Params) -> Params:
    """A confirm's ``payment_method_data`` card as a new PaymentMethod, named by
    ``payment_method`` (Stripe does this for Stripe.js's card form)."""
    if "payment_method_data" not in params or not route.path.endswith("/confirm"):
        return params
    params = dict(params)
    data = params.pop("payment_method_data")
    params["payment_method"] = _payment_method_from(emulator, tx, data)["id"]
    return params


def _payment_method_from(emulator: Any, tx: Any, data: Any) -> StripeObject:
    """The card of ``payment_method_data`` as a new PaymentMethod (Stripe does this for Stripe.js)."""
    if not isinstance(data, dict):
        raise ApiError(400, "Invalid object", param="payment_method_data")
    if data.get("type") in (None, ""):
        raise _parameter_missing("payment_method_data[type]")
    return emulator._create_payment_method(tx, {"type": data["type"], "card": data.get("card")})


def public_view(found: StripeObject) -> StripeObject:
    """What a publishable key is shown of an object it may read."""
    fields = {"payment_intent": PUBLIC_PAYMENT_INTENT_FIELDS, "setup_intent": PUBLIC_SETUP_INTENT_FIELDS}.get(
        found.get("object")
    )
    return found if fields is None else {key: value for key, value in found.items() if key in fields}
