"""Products and Prices, as the catalog sync reads them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from payments.stripe_data._fields import expandable_id, strict


@dataclass(frozen=True)
class ProductData:
    id: str
    name: str
    description: str
    active: bool
    metadata: Mapping[str, str]


@dataclass(frozen=True)
class PriceData:
    id: str
    product: str | None
    currency: str
    unit_amount: int | None  # None for custom / tiered prices
    type: str  # one_time | recurring
    interval: str | None
    interval_count: int | None
    active: bool
    metadata: Mapping[str, str]
    trial_period_days: int | None = None  # recurring.trial_period_days


@strict
def product_from_dict(obj: Mapping[str, Any]) -> ProductData:
    return ProductData(
        id=obj["id"],
        name=obj.get("name") or "",
        description=obj.get("description") or "",
        active=bool(obj.get("active", True)),
        metadata=dict(obj.get("metadata") or {}),
    )


@strict
def price_from_dict(obj: Mapping[str, Any]) -> PriceData:
    recurring = obj.get("recurring") or {}
    amount = obj.get("unit_amount")
    return PriceData(
        id=obj["id"],
        product=expandable_id(obj.get("product")),
        currency=obj["currency"],
        unit_amount=None if amount is None else int(amount),
        type=obj.get("type") or ("recurring" if recurring else "one_time"),
        interval=recurring.get("interval"),
        interval_count=int(recurring["interval_count"]) if recurring.get("interval_count") else None,
        active=bool(obj.get("active", True)),
        metadata=dict(obj.get("metadata") or {}),
        trial_period_days=int(recurring["trial_period_days"]) if recurring.get("trial_period_days") else None,
    )
