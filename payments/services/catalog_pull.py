"""The catalog pulled from Stripe (``payments_sync_catalog --pull``, and a Dashboard
price met on an adopted subscription: ``import_stripe_price``); it returns a Report
(services/reports.py). The push is services/catalog_sync.py."""

from __future__ import annotations

import logging

from django.utils.text import slugify

from payments import gateway
from payments.errors import PaymentsError
from payments.ids import int_id
from payments.models import Price, Tier
from payments.services.catalog_sync import price_subject, tier_subject
from payments.services.reports import SKIPPED, UNCHANGED, Report, guarded, would

logger = logging.getLogger(__name__)


def _unique_slug(base: str, taken: set[str]) -> str:
    base = (slugify(base) or "product")[:40]
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def catalog_pull(*, dry_run: bool = False) -> Report:
    """Make our catalog know Stripe's products and prices.

    A Product or Price is linked to its row by Stripe id, else by the metadata
    our push writes (``tier_id`` and ``slug`` / ``price_id``) to a row without a
    Stripe id; an active one we do not have becomes a new Tier (slug from its
    name) or Price. Linked rows take Stripe's active flag. A Stripe Price that a
    row's newer price replaced is left alone, as are archived objects we never had.
    """
    report = Report(dry_run=dry_run)
    try:
        products = list(reversed(gateway.list_products()))  # oldest first
        prices = list(reversed(gateway.list_prices()))
    except PaymentsError as exc:
        report.fail("catalog", f"could not list Stripe's products and prices: {exc.message}")
        return report
    tiers = {t.pk: t for t in Tier.objects.all()}
    by_product = {t.stripe_product_id: t for t in tiers.values() if t.stripe_product_id}
    slugs = {t.slug for t in tiers.values()}
    position = max((t.position for t in tiers.values()), default=0)
    for product in products:
        def step(product=product) -> None:
            nonlocal position
            tier = by_product.get(product.id)
            if tier is None:
                tier = _pull_link_or_create_tier(product, tiers, slugs, position + 1, report)
                if tier is None:
                    return
                position = max(position, tier.position)
                by_product[product.id] = tier
                return
            _pull_active_flag(tier, product.active, tier_subject(tier), product.id, report)

        guarded(report, f"product {product.id} ({product.name})", step)

    rows = {p.pk: p for p in Price.objects.select_related("tier")}
    by_price = {p.stripe_price_id: p for p in rows.values() if p.stripe_price_id}
    for data in prices:
        def step(data=data) -> None:
            row = by_price.get(data.id)
            if row is None:
                row = _pull_link_or_create_price(data, rows, by_product, report)
                if row is not None:
                    by_price[data.id] = row
                return
            _pull_active_flag(row, data.active, price_subject(row), data.id, report)

        guarded(report, f"stripe price {data.id}", step)
    return report


def import_stripe_price(stripe_price_id: str) -> Price | None:
    """Our Price for a Stripe Price we do not have (e.g. a subscription made in the
    Dashboard): linked or created exactly as ``catalog_pull`` would, its Tier too;
    None for one ``catalog_pull`` would skip (archived and never ours)."""
    report = Report()
    data = gateway.retrieve_price(stripe_price_id)
    tier = Tier.objects.filter(stripe_product_id=data.product).first() if data.product else None
    if tier is None and data.product:
        tiers = {t.pk: t for t in Tier.objects.all()}
        position = max((t.position for t in tiers.values()), default=0) + 1
        tier = _pull_link_or_create_tier(
            gateway.retrieve_product(data.product), tiers, {t.slug for t in tiers.values()}, position, report
        )
    price = None
    if tier is not None:
        named_id = data.metadata.get("price_id", "")
        rows = {p.pk: p for p in Price.objects.select_related("tier").filter(pk=int_id(named_id))} if int_id(named_id) else {}
        price = _pull_link_or_create_price(data, rows, {data.product: tier}, report)
        named = rows.get(int_id(named_id))
        if price is None and named is not None and named.tier_id == tier.pk and named.stripe_price_id:
            # A Stripe Price that the row's newer one replaced: subscriptions keep the old
            # price at Stripe, and what they are for is that row (its tier).
            price = named
    for line in report.lines(verbose=True):
        logger.info("importing Stripe price %s: %s", stripe_price_id, line)
    return price


def _pull_active_flag(row: Tier | Price, active: bool, subject: str, stripe_id: str, report: Report) -> None:
    if row.active == active:
        report.add(UNCHANGED, subject, stripe_id)
        return
    if not report.dry_run:
        type(row).objects.filter(pk=row.pk).update(active=active)
        row.active = active
    report.add(
        "tier.updated" if isinstance(row, Tier) else "price.updated",
        subject,
        would(report.dry_run, f"set active={active} as {stripe_id} is at Stripe"),
    )


def _pull_link_or_create_tier(
    product: gateway.ProductData, tiers: dict[int, Tier], slugs: set[str], position: int, report: Report
) -> Tier | None:
    subject = f"product {product.id} ({product.name})"
    tier_id = product.metadata.get("tier_id", "")
    named = tiers.get(int_id(tier_id))
    if named is not None and product.metadata.get("slug", named.slug) != named.slug:
        named = None  # another database's tier of that id: not ours
    if named is not None:
        if named.stripe_product_id:
            report.add(SKIPPED, subject, f"names {tier_subject(named)}, which is linked to {named.stripe_product_id}")
            return None
        if not report.dry_run:
            linked = Tier.objects.filter(pk=named.pk, stripe_product_id__isnull=True).update(stripe_product_id=product.id)
            if not linked:
                report.fail(subject, f"{tier_subject(named)} was linked meanwhile; run again")
                return None
            named.stripe_product_id = product.id
        report.add("tier.linked", tier_subject(named), would(report.dry_run, f"link to {product.id}"))
        _pull_active_flag(named, product.active, tier_subject(named), product.id, report)
        return named
    if not product.active:
        report.add(SKIPPED, subject, "archived at Stripe and not ours")
        return None
    tier = Tier(
        slug=_unique_slug(product.name, slugs),
        name=product.name[:100],
        description=product.description,
        position=position,
        active=True,
        stripe_product_id=product.id,
    )
    if not report.dry_run:
        tier.save()
    report.add("tier.created", f"tier {tier.pk or 'new'} ({tier.slug})", would(report.dry_run, f"create from {product.id}"))
    return tier


def _pull_link_or_create_price(
    data: gateway.PriceData, rows: dict[int, Price], by_product: dict[str, Tier], report: Report
) -> Price | None:
    subject = f"stripe price {data.id}"
    price_id = data.metadata.get("price_id", "")
    named = rows.get(int_id(price_id))
    tier = by_product.get(data.product or "")
    if named is not None and tier is not None and named.tier_id == tier.pk:
        if named.stripe_price_id:
            report.add(SKIPPED, subject, f"replaced: {price_subject(named)} is {named.stripe_price_id}")
            return None
        if not report.dry_run:
            linked = Price.objects.filter(pk=named.pk, stripe_price_id__isnull=True).update(stripe_price_id=data.id)
            if not linked:
                report.fail(subject, f"{price_subject(named)} was linked meanwhile; run again")
                return None
            named.stripe_price_id = data.id
        report.add("price.linked", price_subject(named), would(report.dry_run, f"link to {data.id}"))
        _pull_active_flag(named, data.active, price_subject(named), data.id, report)
        return named
    if tier is None:
        report.add(SKIPPED, subject, f"its product {data.product} is not one of our tiers")
        return None
    if not data.active:
        report.add(SKIPPED, subject, "archived at Stripe and not ours")
        return None
    if data.unit_amount is None or (data.type == "recurring" and data.interval not in Price.Interval.values):
        report.add(SKIPPED, subject, "not a fixed amount (or an unknown interval): create it by hand")
        return None
    recurring = data.type == "recurring"
    price = Price(
        tier=tier,
        currency=data.currency.lower(),
        unit_amount=data.unit_amount,
        type=Price.Type.RECURRING if recurring else Price.Type.ONE_TIME,
        interval=data.interval if recurring else None,
        interval_count=(data.interval_count or 1) if recurring else None,
        trial_period_days=data.trial_period_days if recurring else None,
        active=True,
        stripe_price_id=data.id,
    )
    if not report.dry_run:
        price.save()
    report.add("price.created", f"price {price.pk or 'new'} ({tier.slug} {price.display})", would(report.dry_run, f"create from {data.id}"))
    return price
