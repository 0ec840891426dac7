"""Checkout Sessions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from payments.stripe_data._fields import expandable_id, strict


@dataclass(frozen=True)
class CheckoutSessionData:
    id: str
    url: str
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    mode: str
    payment_intent: str | None
    subscription: str | None
    customer: str | None
    client_reference_id: str | None
    metadata: Mapping[str, str]
    amount_total: int | None
    currency: str | None
    expires_at: int | None
    created: int


@strict
def checkout_session_from_dict(obj: Mapping[str, Any]) -> CheckoutSessionData:
    return CheckoutSessionData(
        id=obj["id"],
        url=obj.get("url") or "",
        status=obj.get("status") or "open",
        payment_status=obj.get("payment_status") or "unpaid",
        mode=obj.get("mode") or "payment",
        payment_intent=expandable_id(obj.get("payment_intent")),
        subscription=expandable_id(obj.get("subscription")),
        customer=expandable_id(obj.get("customer")),
        client_reference_id=obj.get("client_reference_id"),
        metadata=dict(obj.get("metadata") or {}),
        amount_total=obj.get("amount_total"),
        currency=obj.get("currency"),
        expires_at=obj.get("expires_at"),
        created=int(obj["created"]),
    )
