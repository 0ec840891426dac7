"""Our catalog at Stripe: a Product per Tier, a Price per Price."""

from __future__ import annotations

from django.db import transaction

from payments import gateway
from payments.models import Price, Tier
from payments.services.idempotency import stripe_key


def tier_ensure_product(*, tier: Tier) -> str:
    """The tier's Stripe Product, created once (under the tier's row lock)."""
    if tier.stripe_product_id:
        return tier.stripe_product_id
    with transaction.atomic():
        tier = Tier.objects.select_for_update().get(pk=tier.pk)
        if not tier.stripe_product_id:
            # Stripe under lock, kept: the idempotency key alone would make one Product (same key,
            # same answer), but only for Stripe's key lifetime (24 h) and only if
            # every caller sends the same parameters; the lock makes the
            # check-create-store one step, and it is taken once per tier ever.
            tier.stripe_product_id = gateway.create_product(
                name=tier.name,
                description=tier.description,
                metadata={"tier_id": str(tier.pk), "slug": tier.slug},
                idempotency_key=stripe_key("tier", tier.pk, "product"),
            )
            tier.save(update_fields=["stripe_product_id"])
    return tier.stripe_product_id


def price_ensure_at_stripe(*, price: Price) -> str:
    """The price's Stripe Price, created once with its product. Stripe prices are
    immutable: a changed amount is a new Price row (and a new Stripe Price)."""
    if price.stripe_price_id:
        return price.stripe_price_id
    product_id = tier_ensure_product(tier=price.tier)
    with transaction.atomic():
        price = Price.objects.select_for_update().get(pk=price.pk)
        if not price.stripe_price_id:
            # Stripe under lock, kept: exactly one Stripe Price per row (prices are immutable, a
            # second one would be charged from by whoever stored it last); as for
            # the Product, taken once per price ever, never on a payment's path
            # after the first.
            price.stripe_price_id = gateway.create_price(
                product_id=product_id,
                currency=price.currency,
                unit_amount=price.unit_amount,
                interval=price.interval,
                interval_count=price.interval_count,
                metadata={"price_id": str(price.pk)},
                idempotency_key=stripe_key(
                    "price", price.pk, price.currency, price.unit_amount,
                    *(("trial", price.trial_period_days) if price.trial_period_days else ()),
                ),
                trial_period_days=price.trial_period_days,
            )
            price.save(update_fields=["stripe_price_id"])
    return price.stripe_price_id
