"""The one ``stripe.StripeClient`` and the one way a call reaches Stripe.

Built from settings with a pinned API version and explicit network retries.
``STRIPE_API_BASE`` points it at another Stripe (a local stand-in as its own
process) and ``STRIPE_HTTP_CLIENT`` names the ``stripe.HTTPClient`` class it
sends through (a stand-in inside this process), so the same code path runs in
development, in the tests and against Stripe.

Every resource module sends through ``call`` (one log line per call, and
``stripe.*Error`` translated into payments.errors ``from`` the original), and
looks ``call`` and ``get_client`` up on this module at each call, so a test or
a benchmark that wraps them here sees every request.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from typing import Any

import stripe
from django.utils.module_loading import import_string

from payments.conf import get_config
from payments.errors import CardDeclined, IdempotencyConflict, ProviderError, ProviderUnavailable
from payments.logging import log_stripe_call, request_id_of

# The key sent when none is configured: a local stand-in accepts any test key.
NO_SECRET_KEY = "sk_test_local"

# The installed stripe-python's version (it pins the API version we speak).
STRIPE_VERSION: str = stripe.VERSION


@functools.cache
def _client(
    secret_key: str, api_version: str, max_network_retries: int, api_base: str, http_client: str
) -> stripe.StripeClient:
    options: dict[str, Any] = {}
    if api_base:
        options["base_addresses"] = {"api": api_base}
    if http_client:
        options["http_client"] = import_string(http_client)()
    return stripe.StripeClient(
        secret_key or NO_SECRET_KEY, stripe_version=api_version, max_network_retries=max_network_retries, **options
    )


def get_client() -> stripe.StripeClient:
    config = get_config()
    return _client(
        config.secret_key, config.api_version, config.max_network_retries, config.api_base, config.http_client
    )


def v1() -> Any:
    """The client's ``v1`` services (``client.v1().refunds.create``), through ``get_client``."""
    return get_client().v1


def reset_client() -> None:
    """Forget the cached client (tests that change settings call this)."""
    _client.cache_clear()


def translate(exc: stripe.StripeError) -> Exception:
    """The project's own error for a stripe error (the caller raises it ``from exc``)."""
    message = exc.user_message or "Stripe refused the request."
    if isinstance(exc, stripe.CardError):
        decline_code = (exc.error.decline_code if exc.error else None) or exc.code or ""
        return CardDeclined(message, decline_code=decline_code)
    if isinstance(exc, stripe.IdempotencyError):
        return IdempotencyConflict("This idempotencyKey was already used with different input.")
    if isinstance(exc, (stripe.APIConnectionError, stripe.RateLimitError)):
        return ProviderUnavailable("Stripe is unreachable right now; retry with the same idempotencyKey.")
    if isinstance(exc, stripe.APIError) and (exc.http_status or 500) >= 500:
        return ProviderUnavailable("Stripe is unavailable right now; retry with the same idempotencyKey.")
    if exc.http_status == 409:  # a request with the same idempotency key is still running at Stripe
        return ProviderUnavailable("Stripe is still working on this request; retry with the same idempotencyKey.")
    return ProviderError("Stripe refused the request.", http_status=exc.http_status, stripe_code=exc.code)


def call(fn, *args, **kwargs):
    """Every call that reaches Stripe: one structured log line, our own errors."""
    started = time.monotonic()
    try:
        result = fn(*args, **kwargs)
    except stripe.StripeError as exc:
        log_stripe_call(fn, started, outcome=type(exc).__name__, request_id=exc.request_id)
        raise translate(exc) from exc
    log_stripe_call(fn, started, outcome="ok", request_id=request_id_of(result))
    return result


def list_all(list_fn, params: Mapping[str, Any]) -> list[Any]:
    """Every item of a Stripe list, page by page (``starting_after``), each page one ``call``."""
    items: list[Any] = []
    page_params = {"limit": 100, **params}
    while True:
        page = call(list_fn, params=page_params)
        data = list(page.data)
        items.extend(data)
        if not page.has_more or not data:
            return items
        page_params = {**page_params, "starting_after": data[-1].id}
