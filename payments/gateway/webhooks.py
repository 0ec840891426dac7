"""Webhooks: the signature of a delivery, the events Stripe keeps, the endpoints it posts to."""

from __future__ import annotations

import json
import re
import time

import stripe

import payments.gateway.client as client
from payments.conf import get_config
from payments.errors import InvalidWebhook, MalformedStripeObject
from payments.stripe_data import WebhookEndpointData, WebhookEventData, event_from_dict, webhook_endpoint_from_dict


# A JSON escape of NUL: \u0000 after an even number of backslashes (an odd number
# means the backslash itself is escaped: the text holds "\u0000", not a NUL).
_JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def parse_webhook(payload: bytes, signature_header: str | None) -> WebhookEventData:
    """Verify Stripe-Signature on the raw body (300 s tolerance) and read the event.

    Raises InvalidWebhook for a bad signature or a body that is not an event.
    """
    secret = get_config().webhook_secret
    tolerance = stripe.Webhook.DEFAULT_TOLERANCE
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, signature_header, secret, tolerance)
        # The library refuses old signatures only; one dated ahead of our clock is refused too.
        if _signed_at(signature_header) > time.time() + tolerance:
            raise ValueError("signature timestamp is in the future")
        if _JSON_NUL.search(text):
            raise ValueError("NUL characters cannot be stored")
        data = json.loads(text)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError, TypeError, IndexError,
            OverflowError, RecursionError) as exc:
        raise InvalidWebhook(str(exc) or type(exc).__name__) from exc
    if not isinstance(data, dict) or data.get("object") != "event":
        raise InvalidWebhook("malformed event: not an event")
    try:
        return event_from_dict(data)
    except MalformedStripeObject as exc:
        raise InvalidWebhook(f"malformed event: {exc}") from exc


def _signed_at(header: str | None) -> int:
    for part in (header or "").split(","):
        key, _, value = part.partition("=")
        if key.strip() == "t":
            return int(value)
    raise ValueError("no timestamp in Stripe-Signature")


def sign_webhook_payload(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe would send for ``payload``."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)



def list_events(*, created_gte: int, types: frozenset[str] | None = None) -> list[WebhookEventData]:
    """Events created at or after ``created_gte`` (Stripe keeps 30 days), oldest first,
    of ``types`` when given (filtered here: the API takes one type per call)."""
    found = []
    for event in client.list_all(client.v1().events.list, {"created": {"gte": created_gte}}):
        data = event.to_dict(for_json=True)
        if types is None or data.get("type") in types:
            found.append(event_from_dict(data))
    found.reverse()  # Stripe lists newest first
    return found


def list_webhook_endpoints() -> list[WebhookEndpointData]:
    return [
        webhook_endpoint_from_dict(e.to_dict()) for e in client.list_all(client.v1().webhook_endpoints.list, {})
    ]


def create_webhook_endpoint(
    *, url: str, enabled_events: list[str], api_version: str, description: str, idempotency_key: str
) -> WebhookEndpointData:
    """The answer carries the signing ``secret``: Stripe shows it this once."""
    endpoint = client.call(
        client.v1().webhook_endpoints.create,
        params={
            "url": url,
            "enabled_events": list(enabled_events),
            "api_version": api_version,
            "description": description,
        },
        options={"idempotency_key": idempotency_key},
    )
    return webhook_endpoint_from_dict(endpoint.to_dict())


def update_webhook_endpoint(
    endpoint_id: str, *, enabled_events: list[str], description: str, idempotency_key: str
) -> WebhookEndpointData:
    """Stripe cannot change an endpoint's api_version (nor show its secret again)."""
    endpoint = client.call(
        client.v1().webhook_endpoints.update,
        endpoint_id,
        params={"enabled_events": list(enabled_events), "description": description},
        options={"idempotency_key": idempotency_key},
    )
    return webhook_endpoint_from_dict(endpoint.to_dict())
