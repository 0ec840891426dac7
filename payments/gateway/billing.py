"""Subscriptions and their invoices."""

from __future__ import annotations

from collections.abc import Mapping

import payments.gateway.client as client
from payments.stripe_data import InvoiceData, SubscriptionData, invoice_from_dict, subscription_from_dict

_SUBSCRIPTION_EXPAND = ["latest_invoice.confirmation_secret", "latest_invoice.payments"]


def create_subscription(
    *, customer_id: str, price_id: str, metadata: Mapping[str, str], idempotency_key: str
) -> SubscriptionData:
    """default_incomplete: the first invoice waits for the customer to confirm its
    payment with Stripe.js (the confirmation secret comes back expanded)."""
    sub = client.call(
        client.v1().subscriptions.create,
        params={
            "customer": customer_id,
            "items": [{"price": price_id}],
            "payment_behavior": "default_incomplete",
            "payment_settings": {"save_default_payment_method": "on_subscription"},
            "metadata": dict(metadata),
            "expand": _SUBSCRIPTION_EXPAND,
        },
        options={"idempotency_key": idempotency_key},
    )
    return subscription_from_dict(sub.to_dict())


def retrieve_subscription(subscription_id: str) -> SubscriptionData:
    sub = client.call(
        client.v1().subscriptions.retrieve, subscription_id, params={"expand": _SUBSCRIPTION_EXPAND}
    )
    return subscription_from_dict(sub.to_dict())


def set_cancel_at_period_end(*, subscription_id: str, cancel: bool, idempotency_key: str) -> SubscriptionData:
    sub = client.call(
        client.v1().subscriptions.update,
        subscription_id,
        params={"cancel_at_period_end": cancel},
        options={"idempotency_key": idempotency_key},
    )
    return subscription_from_dict(sub.to_dict())


def cancel_subscription_now(*, subscription_id: str) -> SubscriptionData:
    sub = client.call(client.v1().subscriptions.cancel, subscription_id)
    return subscription_from_dict(sub.to_dict())


def retrieve_invoice(invoice_id: str) -> InvoiceData:
    invoice = client.call(client.v1().invoices.retrieve, invoice_id, params={"expand": ["payments"]})
    return invoice_from_dict(invoice.to_dict())
