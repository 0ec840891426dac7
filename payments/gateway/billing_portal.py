"""The customer portal's sessions."""

from __future__ import annotations

import payments.gateway.client as client
from payments.stripe_data._fields import text_field


def create_billing_portal_session(*, customer_id: str, return_url: str, idempotency_key: str) -> str:
    """The customer portal's URL for the customer (Stripe's default portal configuration)."""
    session = client.call(
        client.v1().billing_portal.sessions.create,
        params={"customer": customer_id, "return_url": return_url},
        options={"idempotency_key": idempotency_key},
    )
    return text_field(session.url)
