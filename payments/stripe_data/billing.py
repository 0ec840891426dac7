"""Subscriptions and invoices (API endive: the period on the items and lines)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from payments.stripe_data._fields import expandable_id, strict, text_field


@dataclass(frozen=True)
class InvoiceData:
    id: str
    status: str
    number: str
    amount_due: int
    amount_paid: int
    currency: str
    period_start: int | None
    period_end: int | None
    hosted_invoice_url: str
    invoice_pdf: str
    billing_reason: str
    subscription: str | None
    customer: str | None
    payment_intent: str | None  # the default payment's intent, when `payments` was included
    client_secret: str | None  # `confirmation_secret`, when included
    created: int


@dataclass(frozen=True)
class SubscriptionData:
    id: str
    status: str
    customer: str | None
    price: str | None
    current_period_start: int | None
    current_period_end: int | None
    cancel_at_period_end: bool
    canceled_at: int | None
    ended_at: int | None
    metadata: Mapping[str, str]
    latest_invoice: InvoiceData | None  # when expanded
    created: int
    item_id: str | None = None  # the single item's id (a plan change names it)
    pending_price: str | None = None  # the price of a pending update, waiting for its invoice's payment
    trial_start: int | None = None
    trial_end: int | None = None
    # The pending SetupIntent's client secret (a trial's card to save), when expanded.
    setup_client_secret: str | None = None
    default_payment_method: str | None = None


@dataclass(frozen=True)
class InvoiceLineData:
    description: str
    amount: int
    currency: str
    proration: bool
    period_start: int | None
    period_end: int | None


@dataclass(frozen=True)
class InvoicePreviewData:
    """Stripe's invoice preview of a plan change: what it would bill now."""

    amount_due: int
    total: int
    currency: str
    proration_date: int
    lines: tuple[InvoiceLineData, ...]


@strict
def invoice_from_dict(obj: Mapping[str, Any]) -> InvoiceData:
    parent = obj.get("parent") or {}
    details = parent.get("subscription_details") or {}
    payments = (obj.get("payments") or {}).get("data") or []
    default = next((p for p in payments if p.get("is_default")), payments[0] if payments else None)
    secret = obj.get("confirmation_secret") or {}
    # The service period is on the lines; the invoice's own period looks back
    # (a first invoice's is its creation instant).
    lines = (obj.get("lines") or {}).get("data") or []
    period = (lines[0].get("period") if lines else None) or {}
    return InvoiceData(
        id=obj["id"],
        status=obj.get("status") or "draft",
        number=obj.get("number") or "",
        amount_due=int(obj.get("amount_due") or 0),
        amount_paid=int(obj.get("amount_paid") or 0),
        currency=obj["currency"],
        period_start=period.get("start", obj.get("period_start")),
        period_end=period.get("end", obj.get("period_end")),
        hosted_invoice_url=obj.get("hosted_invoice_url") or "",
        invoice_pdf=obj.get("invoice_pdf") or "",
        billing_reason=obj.get("billing_reason") or "",
        subscription=expandable_id(details.get("subscription")) or expandable_id(obj.get("subscription")),
        customer=expandable_id(obj.get("customer")),
        payment_intent=expandable_id((default or {}).get("payment", {}).get("payment_intent")),
        client_secret=secret.get("client_secret"),
        created=int(obj["created"]),
    )


@strict
def subscription_from_dict(obj: Mapping[str, Any]) -> SubscriptionData:
    """API endive keeps the billing period on the subscription's items."""
    items = (obj.get("items") or {}).get("data") or []
    item = items[0] if items else {}
    latest = obj.get("latest_invoice")
    return SubscriptionData(
        id=obj["id"],
        status=obj["status"],
        customer=expandable_id(obj.get("customer")),
        price=expandable_id(item.get("price")),
        current_period_start=item.get("current_period_start"),
        current_period_end=item.get("current_period_end"),
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        canceled_at=obj.get("canceled_at"),
        ended_at=obj.get("ended_at"),
        metadata=dict(obj.get("metadata") or {}),
        latest_invoice=invoice_from_dict(latest) if isinstance(latest, Mapping) else None,
        created=int(obj["created"]),
        item_id=item.get("id"),
        pending_price=_pending_price(obj.get("pending_update")),
        trial_start=obj.get("trial_start"),
        trial_end=obj.get("trial_end"),
        setup_client_secret=_setup_client_secret(obj.get("pending_setup_intent")),
        default_payment_method=expandable_id(obj.get("default_payment_method")),
    )


def _pending_price(pending: Any) -> str | None:
    if not isinstance(pending, Mapping):
        return None
    items = pending.get("subscription_items") or []
    return expandable_id(items[0].get("price")) if items else None


@strict
def invoice_preview_from_dict(obj: Mapping[str, Any]) -> InvoicePreviewData:
    details = (obj.get("parent") or {}).get("subscription_details") or {}
    lines = []
    for line in (obj.get("lines") or {}).get("data") or []:
        item_details = (line.get("parent") or {}).get("subscription_item_details") or {}
        period = line.get("period") or {}
        lines.append(InvoiceLineData(
            description=line.get("description") or "",
            amount=int(line["amount"]),
            currency=line["currency"],
            proration=bool(item_details.get("proration")),
            period_start=period.get("start"),
            period_end=period.get("end"),
        ))
    return InvoicePreviewData(
        amount_due=int(obj["amount_due"]),
        total=int(obj["total"]),
        currency=obj["currency"],
        proration_date=int(details.get("subscription_proration_date") or obj["created"]),
        lines=tuple(lines),
    )


def _setup_client_secret(setup_intent: Any) -> str | None:
    """An expanded pending SetupIntent's secret while it still needs the customer."""
    if not isinstance(setup_intent, Mapping):
        return None
    if setup_intent.get("status") not in ("requires_payment_method", "requires_confirmation", "requires_action"):
        return None
    return text_field(setup_intent.get("client_secret"), optional=True)
