"""Checkout Sessions: Stripe's hosted payment pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import payments.gateway.client as client
from payments.stripe_data import CheckoutSessionData, checkout_session_from_dict


def create_checkout_session(
    *,
    mode: str,
    customer_id: str,
    success_url: str,
    cancel_url: str,
    client_reference_id: str,
    metadata: Mapping[str, str],
    idempotency_key: str,
    price_id: str | None = None,
    amount: int | None = None,
    currency: str | None = None,
    product_id: str | None = None,
) -> CheckoutSessionData:
    """A hosted Checkout page for one item: a Stripe Price, or (``amount``) an
    amount of our own on a product. Mode "payment" (the intent carries our
    metadata too) or "subscription"."""
    if price_id:
        item: dict[str, Any] = {"price": price_id, "quantity": 1}
    else:
        item = {"price_data": {"currency": currency, "unit_amount": amount, "product": product_id}, "quantity": 1}
    params: dict[str, Any] = {
        "mode": mode,
        "line_items": [item],
        "customer": customer_id,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "metadata": dict(metadata),
    }
    if mode == "payment":
        params["payment_intent_data"] = {"metadata": dict(metadata)}
    else:
        params["subscription_data"] = {"metadata": dict(metadata)}
    session = client.call(
        client.v1().checkout.sessions.create, params=params, options={"idempotency_key": idempotency_key}
    )
    return checkout_session_from_dict(session.to_dict())


def retrieve_checkout_session(session_id: str) -> CheckoutSessionData:
    return checkout_session_from_dict(client.call(client.v1().checkout.sessions.retrieve, session_id).to_dict())


def expire_checkout_session(session_id: str) -> CheckoutSessionData:
    """Close an open Checkout page so it can no longer be paid; Stripe refuses
    it for a session that is complete already (ProviderError)."""
    return checkout_session_from_dict(client.call(client.v1().checkout.sessions.expire, session_id).to_dict())
