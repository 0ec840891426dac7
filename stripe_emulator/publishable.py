"""What a publishable key (``pk_...``, the browser's: Stripe.js) may do: the few
endpoints Stripe.js calls, each on one object named with that object's
``client_secret``. Everything else answers as Stripe answers a publishable key
on a secret-key endpoint."""

from __future__ import annotations

from .common import ApiError, Params
from .routes import _Route
from .store import Tx

# (method, path) -> the resource whose client_secret the request must carry
# (None: no object, e.g. creating a PaymentMethod from the card form).
PUBLISHABLE: dict[tuple[str, str], str | None] = {
    ("POST", "/v1/payment_methods"): None,
    ("GET", "/v1/setup_intents/{id}"): "setup_intent",
    ("POST", "/v1/setup_intents/{id}/confirm"): "setup_intent",
}


def is_publishable(authorization: str) -> bool:
    return authorization.removeprefix("Bearer ").strip().startswith("pk_")


def authorize(tx: Tx, route: _Route, path_args: tuple[str, ...], params: Params) -> Params:
    """The request's parameters without ``client_secret``, once it is allowed; else ApiError."""
    key = (route.method, route.path)
    if key not in PUBLISHABLE:
        raise ApiError(
            401,
            "This API call cannot be made with a publishable API key. Please use a secret API key."
            " You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.",
        )
    params = dict(params)
    secret = params.pop("client_secret", None)
    resource = PUBLISHABLE[key]
    if resource is None:
        return params
    found = tx.get(path_args[0]) if path_args else None
    if found is None or found.get("object") != resource:
        raise ApiError(404, f"No such {resource}: '{path_args[0]}'", code="resource_missing", param="intent")
    if not secret:
        raise ApiError(400, "Missing required param: client_secret.", code="parameter_missing", param="client_secret")
    if secret != found["client_secret"]:
        raise ApiError(
            400,
            f"The client_secret provided does not match the client_secret associated with the {resource}.",
            code="resource_missing",
            param="client_secret",
        )
    return params
