"""Operations: what the management commands (and the admin's "push to Stripe")
run. The catalog pushed to Stripe or pulled from it, reconciliation with
Stripe's state and event list, replay of stored events, the webhook endpoint.

Every use case returns a :class:`Report`: one :class:`Outcome` per row or
object it looked at, a failure of one row never stopping the others (its
message is a ``PaymentsError``'s, or the exception's first line; the
traceback goes to the log). With ``dry_run`` Stripe is only read and nothing
is written anywhere.
"""

from __future__ import annotations

import copy
import logging
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.text import slugify

from payments import gateway
from payments.conf import get_config
from payments.errors import InvalidInput, PaymentsError, SecurityAlarm
from payments.money import format_amount
from payments.ids import int_id
from payments.models import Payment, PaymentStatus, Price, Refund, Subscription, Tier, WebhookEvent
from payments.services import ledger
from payments.services.catalog import price_ensure_at_stripe, tier_ensure_product
from payments.services.payments import apply_payment_intent
from payments.services.refunds import resend_refund
from payments.services.subscriptions import refresh_subscription
from payments.webhooks import processing

logger = logging.getLogger(__name__)

FAILED = "failed"
UNCHANGED = "unchanged"
SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    action: str  # e.g. "price.replaced", "event.healed", "unchanged", "skipped", "failed"
    subject: str  # what it is about, e.g. "price 5 (Automated €9.99)"
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.action == FAILED

    def __str__(self) -> str:
        return f"{self.subject}: {self.action}{f' - {self.detail}' if self.detail else ''}"


@dataclass
class Report:
    dry_run: bool = False
    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, action: str, subject: str, detail: str = "") -> Outcome:
        outcome = Outcome(action, subject, detail)
        self.outcomes.append(outcome)
        return outcome

    def fail(self, subject: str, exc: Exception | str) -> Outcome:
        return self.add(FAILED, subject, exc if isinstance(exc, str) else error_text(exc))

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.failed]

    def counts(self) -> Counter[str]:
        return Counter(o.action for o in self.outcomes)

    def count(self, *actions: str) -> int:
        counts = self.counts()
        return sum(counts[a] for a in actions)

    def count_suffix(self, *suffixes: str) -> int:
        """Outcomes whose action ends in one of ``suffixes`` (``.applied`` ...)."""
        return sum(1 for o in self.outcomes if o.action.endswith(suffixes))

    def lines(self, *, verbose: bool = False, hide: tuple[str, ...] = (UNCHANGED,)) -> list[str]:
        """One line per outcome, failures included; ``hide``'s actions only when verbose."""
        return [str(o) for o in self.outcomes if verbose or o.action not in hide]

    def summary(self) -> str:
        """``price.created=2 unchanged=3 failed=0``: each action's count, failed always shown."""
        counts = self.counts()
        counts.setdefault(FAILED, 0)
        return " ".join(f"{action}={n}" for action, n in sorted(counts.items()))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]


def error_text(exc: Exception) -> str:
    """A PaymentsError's message, with what Stripe said when it came from Stripe (this is
    for operators: "No such product: 'prod_…'" tells them more); else the exception's
    type and first line. Never a traceback."""
    if isinstance(exc, PaymentsError):
        cause = _first_line(exc.__cause__) if exc.__cause__ is not None else ""
        return f"{exc.message} ({cause})" if cause and cause not in exc.message else exc.message
    first_line = _first_line(exc)
    return f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__


def _guarded(report: Report, subject: str, step: Callable[[], None]) -> None:
    """Run one row's step; its failure is recorded and the next row still runs."""
    try:
        step()
    except PaymentsError as exc:
        report.fail(subject, exc)
    except Exception as exc:  # noqa: BLE001 -- one row's bug must not stop the others; logged in full
        logger.exception("operations: %s failed", subject)
        report.fail(subject, exc)


def _would(dry_run: bool, text: str) -> str:
    return f"would {text}" if dry_run else text


def _new_key(prefix: str) -> str:
    """A key for an update that is harmless to repeat: one per attempt (the stripe
    library's own retries of that attempt reuse it)."""
    return f"{prefix}-{uuid.uuid4().hex}"


# ================================================================== catalog


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
        _guarded(report, tier_subject(tier), lambda tier=tier: _push_tier(tier, stripe, report))
    for price in prices or ():
        _guarded(report, price_subject(price), lambda price=price: _push_price(price, stripe, report))
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
            idempotency_key=_new_key(f"tier-{tier.pk}-product-update"),
        )
    report.add(action, subject, _would(dry_run, f"update {product.id}: {', '.join(changed)}"))


def _price_shape(price: Price, product_id: str | None) -> dict:
    return {
        "currency": price.currency,
        "unit_amount": price.unit_amount,
        "interval": price.interval if price.is_recurring else None,
        "interval_count": price.interval_count if price.is_recurring else None,
        "product": product_id,
    }


def _stripe_shape(data: gateway.PriceData) -> dict:
    return {
        "currency": data.currency,
        "unit_amount": data.unit_amount,
        "interval": data.interval,
        "interval_count": data.interval_count,
        "product": data.product,
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
                current.id, active=active, idempotency_key=_new_key(f"price-{price.pk}-active")
            )
        report.add(action, subject, _would(dry_run, f"{'activate' if active else 'deactivate'} {current.id}"))
    else:
        report.add(UNCHANGED, subject, current.id)
    # A replacement whose old price could not be deactivated then: finish it now.
    predecessor = current.metadata.get("replaces")
    if predecessor and stripe.price(predecessor).active:
        if not dry_run:
            stripe.prices[predecessor] = gateway.set_price_active(
                predecessor, active=False, idempotency_key=_new_key(f"price-{price.pk}-deactivate-old")
            )
        report.add("price.deactivated", subject, _would(dry_run, f"deactivate {predecessor}, replaced by {current.id}"))


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
            ),
        )
        locked.stripe_price_id = new_id
        locked.save(update_fields=["stripe_price_id"])
    detail = f"{current.id} -> {new_id} ({what} changed)"
    if current.active:
        try:
            stripe.prices[current.id] = gateway.set_price_active(
                current.id, active=False, idempotency_key=_new_key(f"price-{price.pk}-deactivate-old")
            )
        except PaymentsError as exc:
            # The new price is stored; the next push deactivates the old one (metadata "replaces").
            report.fail(subject, f"{detail}; deactivating {current.id} failed: {exc.message} (run the push again)")
            return
        detail += f"; {current.id} deactivated"
    report.add("price.replaced", subject, detail)


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

        _guarded(report, f"product {product.id} ({product.name})", step)

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

        _guarded(report, f"stripe price {data.id}", step)
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
        _would(report.dry_run, f"set active={active} as {stripe_id} is at Stripe"),
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
        report.add("tier.linked", tier_subject(named), _would(report.dry_run, f"link to {product.id}"))
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
    report.add("tier.created", f"tier {tier.pk or 'new'} ({tier.slug})", _would(report.dry_run, f"create from {product.id}"))
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
        report.add("price.linked", price_subject(named), _would(report.dry_run, f"link to {data.id}"))
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
        active=True,
        stripe_price_id=data.id,
    )
    if not report.dry_run:
        price.save()
    report.add("price.created", f"price {price.pk or 'new'} ({tier.slug} {price.display})", _would(report.dry_run, f"create from {data.id}"))
    return price


# ================================================================ reconcile

OPEN_PAYMENT_STATUSES = (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING)
OPEN_SUBSCRIPTION_STATUSES = (
    Subscription.Status.INCOMPLETE,
    Subscription.Status.ACTIVE,
    Subscription.Status.PAST_DUE,
    Subscription.Status.TRIALING,
    Subscription.Status.PAUSED,
    Subscription.Status.UNPAID,
)
EVENT_RETENTION = timedelta(days=30)  # Stripe lists events of the last 30 days
RETRYABLE_EVENT_STATUSES = (WebhookEvent.Status.FAILED, WebhookEvent.Status.RECEIVED)

_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, *, now: datetime | None = None) -> datetime:
    """``2h``, ``3d``, ``90m``, ``1w`` (ago), or an ISO 8601 date/datetime (UTC when
    no offset). InvalidInput otherwise."""
    text = value.strip()
    match = _DURATION.match(text)
    if match:
        return (now or dj_timezone.now()) - timedelta(**{_UNITS[match[2]]: int(match[1])})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"not a duration (2h, 3d) nor an ISO date/datetime: {value!r}", field="since") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def reconcile(
    *,
    since: datetime,
    pending_older_than: timedelta = timedelta(minutes=15),
    dry_run: bool = False,
) -> Report:
    """Heal what webhooks missed, in three passes:

    1. Stripe's events since ``since`` (of the types we handle) that we have no
       WebhookEvent for, or whose row is failed / received, are processed through
       ``processing.process_event`` exactly as a delivery is (stored first);
    2. payments still PENDING / REQUIRES_ACTION / PROCESSING with a PaymentIntent,
       created over ``pending_older_than`` ago: the intent is read and applied
       (snapshot time: now);
    3. subscriptions not ended: read and applied;
    4. refunds recorded over ``pending_older_than`` ago that Stripe never
       answered (PENDING, no Stripe id: the request lost its answer, or never
       reached Stripe) and nobody re-sent since: sent again with their own
       idempotency key, so Stripe makes each at most once;
    5. ledger rows still incomplete (their balance transaction is fetched after
       the webhook's commit, and Stripe could not be reached then): completed.
    Events go first: what they settle needs no extra read. Actions: event.healed,
    payment.applied, subscription.applied, refund.applied (sent again),
    ledger.completed, unchanged, failed (and event.known, not reported by the
    command, for events already processed here).
    """
    report = Report(dry_run=dry_run)
    cutoff = dj_timezone.now() - pending_older_than
    _reconcile_events(report, since)
    _reconcile_payments(report, cutoff)
    _reconcile_subscriptions(report)
    _reconcile_refunds(report, cutoff)
    _reconcile_ledger(report)
    return report


def _reconcile_ledger(report: Report) -> None:
    for row in ledger.incomplete_rows().iterator():
        subject = f"ledger row {row.pk} ({row.type} of payment {row.payment_id})"

        def step(row=row, subject=subject) -> None:
            if report.dry_run:
                report.add("ledger.completed", subject, "would fetch its balance transaction from Stripe")
                return
            done = ledger.complete(row.pk)
            if done is not None:
                report.add("ledger.completed", subject, f"{format_amount(done.net, done.currency)} net ({done.stripe_balance_transaction_id})")
            elif ledger.incomplete_rows().filter(pk=row.pk).exists():
                report.fail(subject, "Stripe could not give its balance transaction yet")
            else:
                report.add(UNCHANGED, subject, "completed meanwhile")

        _guarded(report, subject, step)


def _reconcile_refunds(report: Report, cutoff: datetime) -> None:
    refunds = Refund.objects.filter(
        status=Refund.Status.PENDING, stripe_refund_id__isnull=True, created_at__lte=cutoff
    ).order_by("created_at", "pk")
    for refund in refunds.iterator():
        subject = f"refund {refund.pk} ({format_amount(refund.amount, refund.currency)} of payment {refund.payment_id})"

        def step(refund=refund, subject=subject) -> None:
            if report.dry_run:
                report.add("refund.applied", subject, "would send it to Stripe again (its answer never came)")
                return
            sent = resend_refund(refund=refund)
            if sent is None:
                report.add(UNCHANGED, subject, "being sent by another request")
            else:
                report.add("refund.applied", subject, f"sent again: {sent.stripe_refund_id or '-'} is {sent.status}")

        _guarded(report, subject, step)


def _reconcile_events(report: Report, since: datetime) -> None:
    try:
        events = gateway.list_events(created_gte=int(since.timestamp()), types=frozenset(processing.HANDLERS))
    except PaymentsError as exc:
        report.fail("events", f"could not list Stripe's events: {exc.message}")
        return
    ids = [e.id for e in events]
    known: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        known.update(WebhookEvent.objects.filter(stripe_event_id__in=chunk).values_list("stripe_event_id", "status"))
    for event in events:
        subject = f"event {event.id} ({event.type})"
        status = known.get(event.id)
        if status is not None and status not in RETRYABLE_EVENT_STATUSES:
            report.add("event.known", subject, status)
            continue
        why = "never received" if status is None else f"stored {status}"
        if report.dry_run:
            report.add("event.healed", subject, f"would process ({why})")
            continue

        def step(event=event, subject=subject, why=why) -> None:
            outcome = processing.process_event(event)
            if outcome == "duplicate":  # a delivery got there first
                report.add(UNCHANGED, subject, "processed meanwhile")
            else:
                report.add("event.healed", subject, f"{outcome} ({why})")

        _guarded(report, subject, step)


def _reconcile_payments(report: Report, cutoff: datetime) -> None:
    payments = Payment.objects.filter(
        status__in=OPEN_PAYMENT_STATUSES, stripe_payment_intent_id__isnull=False, created_at__lte=cutoff
    ).order_by("created_at", "pk")
    for payment in payments.iterator():
        subject = f"payment {payment.pk}"

        def step(payment=payment, subject=subject) -> None:
            before = payment.status
            intent = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
            now = int(time.time())
            if report.dry_run:
                preview = copy.copy(payment)
                preview.apply_intent_status(
                    intent.status, snapshot_at=now,
                    failure_code=intent.failure_code, failure_message=intent.failure_message,
                )
                after = preview.status
            else:
                applied = apply_payment_intent(intent=intent, snapshot_at=now, authoritative=True)
                after = applied.status if applied is not None else before
            if after != before:
                report.add("payment.applied", subject, _would(report.dry_run, f"move {before} -> {after} ({intent.id} is {intent.status})"))
            else:
                report.add(UNCHANGED, subject, f"{before} ({intent.id} is {intent.status})")

        _guarded(report, subject, step)


def _subscription_state(sub: Subscription) -> tuple:
    return (sub.status, sub.cancel_at_period_end, sub.current_period_end)


def _reconcile_subscriptions(report: Report) -> None:
    subscriptions = Subscription.objects.filter(
        status__in=OPEN_SUBSCRIPTION_STATUSES, stripe_subscription_id__isnull=False
    ).order_by("pk")
    for subscription in subscriptions.iterator():
        subject = f"subscription {subscription.pk}"

        def step(subscription=subscription, subject=subject) -> None:
            before = _subscription_state(subscription)
            if report.dry_run:
                data = gateway.retrieve_subscription(subscription.stripe_subscription_id)
                after_status, after_cancel = data.status, data.cancel_at_period_end
                changed = (after_status, after_cancel) != before[:2]
            else:
                after = _subscription_state(refresh_subscription(subscription=subscription))
                after_status, after_cancel = after[:2]
                changed = after != before
            if changed:
                report.add(
                    "subscription.applied", subject,
                    _would(report.dry_run, f"move {before[0]} -> {after_status}"
                           f"{' (cancels at period end)' if after_cancel else ''}"),
                )
            else:
                report.add(UNCHANGED, subject, before[0])

        _guarded(report, subject, step)


# =================================================================== replay


def replay_events(
    *,
    ids: Iterable[str] = (),
    event_type: str | None = None,
    since: datetime | None = None,
    statuses: Iterable[str] = RETRYABLE_EVENT_STATUSES,
    dry_run: bool = False,
) -> Report:
    """Stored events (failed or received, by default), oldest first, processed
    again through ``processing.process_event``. ``event_type`` may end in ``*``.
    An id asked for but not stored is a failure (``payments_reconcile`` fetches
    events from Stripe); one stored with another status is skipped."""
    report = Report(dry_run=dry_run)
    ids = list(dict.fromkeys(ids))
    statuses = list(statuses)
    events = WebhookEvent.objects.filter(status__in=statuses)
    if ids:
        events = events.filter(stripe_event_id__in=ids)
    if event_type:
        events = (
            events.filter(type__startswith=event_type[:-1]) if event_type.endswith("*") else events.filter(type=event_type)
        )
    if since is not None:
        events = events.filter(stripe_created__gte=since)
    events = list(events.order_by("stripe_created", "received_at", "pk"))
    found = {e.stripe_event_id for e in events}
    missing = [i for i in ids if i not in found]
    other = dict(WebhookEvent.objects.filter(stripe_event_id__in=missing).values_list("stripe_event_id", "status"))
    for event_id in missing:
        if event_id in other:
            report.add(SKIPPED, f"event {event_id}", f"{other[event_id]}, not {' or '.join(statuses)}")
        else:
            report.fail(f"event {event_id}", "not stored here (payments_reconcile fetches missed events from Stripe)")
    for record in events:
        subject = f"event {record.stripe_event_id} ({record.type})"
        if dry_run:
            report.add("event.replayed", subject, f"would process again (stored {record.status}, {record.attempts} attempts)")
            continue

        def step(record=record, subject=subject) -> None:
            outcome = processing.process_event(gateway.event_from_dict(record.payload))
            if outcome == "alarm":  # recorded as failed again (the admins were told the first time)
                record.refresh_from_db(fields=["last_error"])
                raise SecurityAlarm(record.last_error, payment_id=None)
            report.add("event.replayed", subject, outcome)

        _guarded(report, subject, step)
    return report


# ========================================================== webhook endpoint

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
ENDPOINT_DESCRIPTION = "payments backend (manage.py payments_webhook_setup)"


@dataclass(frozen=True)
class WebhookSetup:
    action: str  # created | updated | unchanged | would create | would update
    url: str
    enabled_events: tuple[str, ...]
    api_version: str
    endpoint: gateway.WebhookEndpointData | None = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # the endpoint works, but not as it should: exit non-zero
    warnings: tuple[str, ...] = ()

    @property
    def secret(self) -> str | None:
        return self.endpoint.secret if self.action == "created" and self.endpoint else None


def check_webhook_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput(f"not an absolute http(s) URL: {url!r}", field="url")
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise InvalidInput(
            f"refusing {url!r}: Stripe must post to https (http only for localhost / 127.0.0.1)", field="url"
        )
    return url.strip()


def webhook_endpoint_setup(*, url: str, dry_run: bool = False) -> WebhookSetup:
    """Create the endpoint for ``url`` (or update the one there is) with exactly the
    event types we handle and our pinned API version. Stripe shows the signing
    secret only in the answer to the creation. Raises PaymentsError."""
    url = check_webhook_url(url)
    events = tuple(sorted(processing.HANDLERS))
    version = get_config().api_version
    same_url = [e for e in gateway.list_webhook_endpoints() if e.url == url]
    if not same_url:
        if dry_run:
            return WebhookSetup("would create", url, events, version)
        endpoint = gateway.create_webhook_endpoint(
            url=url, enabled_events=list(events), api_version=version, description=ENDPOINT_DESCRIPTION,
            idempotency_key=_new_key("webhook-endpoint-create"),
        )
        return WebhookSetup("created", url, events, version, endpoint=endpoint)

    endpoint, others = same_url[0], same_url[1:]
    added = tuple(sorted(set(events) - set(endpoint.enabled_events)))
    removed = tuple(sorted(set(endpoint.enabled_events) - set(events)))
    problems, warnings = [], []
    if endpoint.api_version != version:
        problems.append(
            f"{endpoint.id} sends events in API version {endpoint.api_version or 'the account default'}, not {version}:"
            " Stripe cannot change an endpoint's version. Delete it (Dashboard > Webhooks) and run this again;"
            " a new signing secret will be printed."
        )
    if endpoint.status != "enabled":
        warnings.append(f"{endpoint.id} is {endpoint.status}: enable it in the Dashboard to receive events")
    if others:
        warnings.append(
            f"other endpoints for the same URL: {', '.join(e.id for e in others)} (each signs with its own secret;"
            " delete the extra ones)"
        )
    if list(endpoint.enabled_events) == list(events):
        action = "unchanged"
    elif dry_run:
        action = "would update"
    else:
        endpoint = gateway.update_webhook_endpoint(
            endpoint.id, enabled_events=list(events), description=ENDPOINT_DESCRIPTION,
            idempotency_key=_new_key("webhook-endpoint-update"),
        )
        action = "updated"
    return WebhookSetup(
        action, url, events, version, endpoint=endpoint, added=added, removed=removed,
        problems=tuple(problems), warnings=tuple(warnings),
    )
