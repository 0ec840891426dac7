"""Subscriptions and their invoices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import payments.gateway.client as client
from payments.stripe_data import (
    InvoiceData,
    InvoicePreviewData,
    SubscriptionData,
    invoice_from_dict,
    invoice_preview_from_dict,
    subscription_from_dict,
)

_SUBSCRIPTION_EXPAND = ["latest_invoice.confirmation_secret", "latest_invoice.payments", "pending_setup_intent"]


def create_subscription(
    *, customer_id: str, price_id: str, metadata: Mapping[str, str], idempotency_key: str,
    trial_period_days: int | None = None,
) -> SubscriptionData:
    """default_incomplete: the first invoice waits for the customer to confirm its
    payment with Stripe.js (the confirmation secret comes back expanded). With
    ``trial_period_days`` it starts trialing, nothing due, and its pending SetupIntent
    (expanded) saves the card the first renewal is charged to."""
    params: dict[str, Any] = {
        "customer": customer_id,
        "items": [{"price": price_id}],
        "payment_behavior": "default_incomplete",
        "payment_settings": {"save_default_payment_method": "on_subscription"},
        "metadata": dict(metadata),
        "expand": _SUBSCRIPTION_EXPAND,
    }
    if trial_period_days:  # ours decides (one trial per customer and tier), not the price's
        params["trial_period_days"] = trial_period_days
    sub = client.call(
        client.v1().subscriptions.create, params=params, options={"idempotency_key": idempotency_key}
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


# ------------------------------------------------- plan changes (issue 15)


def _change_items(item_id: str, price_id: str) -> list[dict[str, str]]:
    return [{"id": item_id, "price": price_id}]


def preview_subscription_change(
    *, subscription_id: str, item_id: str, price_id: str, proration_date: int | None = None
) -> InvoicePreviewData:
    """Stripe's invoice preview of moving the item to ``price_id`` (always_invoice: the
    proration invoice that would be charged now). A read: no idempotency key."""
    details: dict[str, Any] = {"items": _change_items(item_id, price_id), "proration_behavior": "always_invoice"}
    if proration_date is not None:
        details["proration_date"] = proration_date
    invoice = client.call(
        client.v1().invoices.create_preview,
        params={"subscription": subscription_id, "subscription_details": details},
    )
    return invoice_preview_from_dict(invoice.to_dict())


def change_subscription_price(
    *, subscription_id: str, item_id: str, price_id: str, proration_date: int | None, idempotency_key: str
) -> SubscriptionData:
    """Move the single item to ``price_id``, billing the proration now
    (always_invoice) and applying the change only once that invoice is paid
    (pending_if_incomplete): unpaid, the answer carries ``pending_price`` and the
    open invoice's confirmation secret."""
    params: dict[str, Any] = {
        "items": _change_items(item_id, price_id),
        "proration_behavior": "always_invoice",
        "payment_behavior": "pending_if_incomplete",
        "expand": _SUBSCRIPTION_EXPAND,
    }
    if proration_date is not None:
        params["proration_date"] = proration_date
    sub = client.call(
        client.v1().subscriptions.update, subscription_id, params=params,
        options={"idempotency_key": idempotency_key},
    )
    return subscription_from_dict(sub.to_dict())
