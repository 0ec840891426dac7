"""The catalog: tiers and their prices, public to anyone."""

from __future__ import annotations

import strawberry
import strawberry_django
from django.db.models import Prefetch
from strawberry.scalars import JSON

from payments import models
from payments.cache import catalog_tier, catalog_tiers
from payments.selectors import active_prices

PriceTypeEnum = strawberry.enum(models.Price.Type, name="PriceType")
RecurringInterval = strawberry.enum(models.Price.Interval, name="RecurringInterval")


@strawberry_django.type(models.Tier, name="Tier")
class Tier:
    id: strawberry.ID
    slug: str
    name: str
    description: str
    manifest: JSON
    position: int
    stripe_product_id: str | None

    @strawberry_django.field(
        prefetch_related=[Prefetch("prices", queryset=active_prices(), to_attr="active_prices")],
        description="Active prices only, ordered by currency then amount.",
    )
    def prices(self, root: models.Tier) -> list["Price"]:
        if hasattr(root, "active_prices"):
            return root.active_prices
        return list(active_prices().filter(tier=root))


@strawberry_django.type(models.Price, name="Price")
class Price:
    id: strawberry.ID
    tier: Tier
    currency: str
    unit_amount: int
    type: PriceTypeEnum
    interval: RecurringInterval | None
    interval_count: int | None
    active: bool
    display: str = strawberry_django.field(only=["unit_amount", "currency", "type", "interval", "interval_count"])
    stripe_price_id: str | None
    trial_period_days: int | None = strawberry_django.field(description="RECURRING only; null: no trial.")


@strawberry.type
class Query:
    # The catalog is public and rarely changes: cached in the process, invalidated
    # when a Tier or Price is saved or deleted (payments/cache.py).
    @strawberry_django.field(description="Public; active tiers by position.")
    def tiers(self) -> list[Tier]:
        return catalog_tiers()

    @strawberry_django.field(description="Public.")
    def tier(self, id: strawberry.ID) -> Tier | None:
        return catalog_tier(id)
