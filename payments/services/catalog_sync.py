"""The catalog pushed to Stripe (``payments_sync_catalog``, the admin's "push to
Stripe"); it returns a Report (services/reports.py). The pull is
services/catalog_pull.py."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from payments import gateway
from payments.errors import PaymentsError
from payments.models import Price, Tier
from payments.services.catalog import price_ensure_at_stripe, tier_ensure_product
from payments.services.reports import UNCHANGED, Report, guarded, new_key, would


def tier_subject(tier: Tier) -> str:
    return f"tier {tier.pk} ({tier.slug})"


def price_subject(price: Price) -> str:
    return f"price {price.pk} ({price})"


class _StripeCatalog:
    """Stripe's products and prices, read once: all listed up front (a whole-catalog
    push), or retrieved one by one as rows ask (the admin's few selected rows)."""

    def __init__(self, *, listed: bool) -> None:
        self.products: dict[str, gateway.ProductData] = {}
        self.prices: dict[str, gateway.PriceData] = {}
        if listed:
            self.products = {p.id: p for p in gateway.list_products()}
            self.prices = {p.id: p for p in gateway.list_prices()}

    def product(self, product_id: str) -> gateway.ProductData:
        if product_id not in self.products:
            self.products[product_id] = gateway.retrieve_product(product_id)
        return self.products[product_id]

    def price(self, price_id: str) -> gateway.PriceData:
        if price_id not in self.prices:
            self.prices[price_id] = gateway.retrieve_price(price_id)
        return self.prices[price_id]


def catalog_push(
    *, tiers: Iterable[Tier] | None = None, prices: Iterable[Price] | None = None, dry_run: bool = False
) -> Report:
    """Make Stripe show our catalog. Without ``tiers`` and ``prices``: every row.

    - An active Tier or Price without a Stripe id: its Product / Price is created
      (``catalog.tier_ensure_product`` / ``price_ensure_at_stripe``).
    - A Tier whose name, description or active flag differ from its Product's:
      the Product is updated (an inactive tier's Product is deactivated).
    - A Price whose amount, currency, interval or tier differ from its Stripe
      Price's (Stripe prices are immutable; someone edited the row): a new
      Stripe Price is created, stored on the row, and the old one deactivated.
      Subscriptions at Stripe keep the old price: nothing to do for them.
    - A Price inactive here (or of an inactive tier) but active at Stripe: deactivated
      there; active again here: activated there.
    Tiers go first, so that their prices find their Products.
    """
    report = Report(dry_run=dry_run)
    whole = tiers is None and prices is None
    if whole:
        tiers = Tier.objects.order_by("position", "pk")
        prices = Price.objects.select_related("tier").order_by("tier__position", "tier_id", "pk")
    try:
        stripe = _StripeCatalog(listed=whole)
    except PaymentsError as exc:
        report.fail("catalog", f"could not list Stripe's products and prices: {exc.message}")
        return report
    for tier in tiers or ():
        guarded(report, tier_subject(tier), lambda tier=tier: _push_tier(tier, stripe, report))
    for price in prices or ():
        guarded(report, price_subject(price), lambda price=price: _push_price(price, stripe, report))
    return report


def _push_tier(tier: Tier, stripe: _StripeCatalog, report: Report) -> None:
    tier = Tier.objects.get(pk=tier.pk)  # fresh: another row's step (or person) may have changed it
    subject, dry_run = tier_subject(tier), report.dry_run
    if not tier.stripe_product_id:
        if not tier.active:
            report.add(UNCHANGED, subject, "inactive and not at Stripe")
            return
        if dry_run:
            report.add("product.created", subject, "would create its Product")
            return
        product_id = tier_ensure_product(tier=tier)
        report.add("product.created", subject, product_id)
        return
    product = stripe.product(tier.stripe_product_id)
    wanted = {"name": tier.name, "description": tier.description or "", "active": tier.active}
    have = {"name": product.name, "description": product.description, "active": product.active}
    changed = [key for key in wanted if wanted[key] != have[key]]
    if not changed:
        report.add(UNCHANGED, subject, product.id)
        return
    if have["active"] and not wanted["active"]:
        action = "product.deactivated"
    elif wanted["active"] and not have["active"]:
        action = "product.activated"
    else:
        action = "product.updated"
    if not dry_run:
        stripe.products[product.id] = gateway.update_product(
            product.id,
            name=tier.name,
            description=tier.description or "",
            active=tier.active,
            metadata={"tier_id": str(tier.pk), "slug": tier.slug},
            idempotency_key=new_key(f"tier-{tier.pk}-product-update"),
        )
    report.add(action, subject, would(dry_run, f"update {product.id}: {', '.join(changed)}"))


def _price_shape(price: Price, product_id: str | None) -> dict:
    return {
        "currency": price.currency,
        "unit_amount": price.unit_amount,
        "interval": price.interval if price.is_recurring else None,
        "interval_count": price.interval_count if price.is_recurring else None,
        "product": product_id,
        "trial_period_days": price.trial_period_days if price.is_recurring else None,
    }


def _stripe_shape(data: gateway.PriceData) -> dict:
    return {
        "currency": data.currency,
        "unit_amount": data.unit_amount,
        "interval": data.interval,
        "interval_count": data.interval_count,
        "product": data.product,
        "trial_period_days": data.trial_period_days,
    }


def _push_price(price: Price, stripe: _StripeCatalog, report: Report) -> None:
    price = Price.objects.select_related("tier").get(pk=price.pk)
    subject, dry_run = price_subject(price), report.dry_run
    active = price.active and price.tier.active
    if not price.stripe_price_id:
        if not active:
            report.add(UNCHANGED, subject, "inactive and not at Stripe")
            return
        if dry_run:
            report.add("price.created", subject, "would create its Stripe Price")
            return
        report.add("price.created", subject, price_ensure_at_stripe(price=price))
        return

    current = stripe.price(price.stripe_price_id)
    wanted = _price_shape(price, price.tier.stripe_product_id or current.product)
    have = _stripe_shape(current)
    differs = [key for key in wanted if wanted[key] != have[key]]
    if differs and active:
        _replace_price(price, current, differs, stripe, report)
        return
    if current.active != active:
        action = "price.activated" if active else "price.deactivated"
        if not dry_run:
            stripe.prices[current.id] = gateway.set_price_active(
                current.id, active=active, idempotency_key=new_key(f"price-{price.pk}-active")
            )
        report.add(action, subject, would(dry_run, f"{'activate' if active else 'deactivate'} {current.id}"))
    else:
        report.add(UNCHANGED, subject, current.id)
    # A replacement whose old price could not be deactivated then: finish it now.
    predecessor = current.metadata.get("replaces")
    if predecessor and stripe.price(predecessor).active:
        if not dry_run:
            stripe.prices[predecessor] = gateway.set_price_active(
                predecessor, active=False, idempotency_key=new_key(f"price-{price.pk}-deactivate-old")
            )
        report.add("price.deactivated", subject, would(dry_run, f"deactivate {predecessor}, replaced by {current.id}"))


def _replace_price(
    price: Price, current: gateway.PriceData, differs: list[str], stripe: _StripeCatalog, report: Report
) -> None:
    """Stripe prices are immutable: a new one for the row, the old one deactivated."""
    subject, dry_run = price_subject(price), report.dry_run
    what = ", ".join(differs)
    if dry_run:
        report.add("price.replaced", subject, f"would replace {current.id} ({what} changed) and deactivate it")
        return
    product_id = tier_ensure_product(tier=price.tier)
    with transaction.atomic():
        locked = Price.objects.select_for_update().get(pk=price.pk)
        if locked.stripe_price_id != current.id:
            report.fail(subject, f"its Stripe price changed meanwhile (now {locked.stripe_price_id}); run again")
            return
        # Keyed by the price it replaces: a lost answer, retried, makes it once.
        # Stripe under lock, kept: an operator command, once per changed price: the row
        # must not be replaced twice concurrently (two Stripe Prices).
        new_id = gateway.create_price(
            product_id=product_id,
            currency=locked.currency,
            unit_amount=locked.unit_amount,
            interval=locked.interval if locked.is_recurring else None,
            interval_count=locked.interval_count if locked.is_recurring else None,
            metadata={"price_id": str(locked.pk), "replaces": current.id},
            idempotency_key=(
                f"price-{locked.pk}-replaces-{current.id}-{locked.currency}-{locked.unit_amount}"
                f"-{locked.interval or ''}-{locked.interval_count or ''}-{product_id}"
                + (f"-trial-{locked.trial_period_days}" if locked.trial_period_days else "")
            ),
            trial_period_days=locked.trial_period_days if locked.is_recurring else None,
        )
        locked.stripe_price_id = new_id
        locked.save(update_fields=["stripe_price_id"])
    detail = f"{current.id} -> {new_id} ({what} changed)"
    if current.active:
        try:
            stripe.prices[current.id] = gateway.set_price_active(
                current.id, active=False, idempotency_key=new_key(f"price-{price.pk}-deactivate-old")
            )
        except PaymentsError as exc:
            # The new price is stored; the next push deactivates the old one (metadata "replaces").
            report.fail(subject, f"{detail}; deactivating {current.id} failed: {exc.message} (run the push again)")
            return
        detail += f"; {current.id} deactivated"
    report.add("price.replaced", subject, detail)
