"""``payments_reconcile``: heal what webhooks missed (events Stripe has and we
lack, open payments and subscriptions read again, refunds never answered)."""

from __future__ import annotations

import copy
import logging
import time
from datetime import datetime, timedelta

from django.utils import timezone as dj_timezone

from payments import gateway
from payments.errors import PaymentsError
from payments.money import format_amount
from payments.models import Payment, PaymentStatus, Price, Refund, Subscription, WebhookEvent
from payments.services import ledger
from payments.services.payments import apply_payment_intent
from payments.services.refunds import resend_refund
from payments.services.subscription_sync import refresh_subscription

from payments.operations.replay import RETRYABLE_EVENT_STATUSES
from payments.webhooks import processing
from payments.services.reports import (
    UNCHANGED, Report, guarded, would,
)

logger = logging.getLogger(__name__)



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
REREAD_BATCH = 500  # pending re-reads per run, oldest first; the rest wait for the next run
REREAD_SUBJECT = "pending re-read of subscription"

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
    3. subscriptions whose re-read from Stripe is pending (an event showed
       another plan or cancel request than ours and Stripe could not be read
       after its commit), oldest first, ``REREAD_BATCH`` of them: read and
       applied, the mark cleared (kept when Stripe cannot be read); then the
       subscriptions not ended that this did not read: read and applied;
    4. refunds recorded over ``pending_older_than`` ago that Stripe never
       answered (PENDING, no Stripe id: the request lost its answer, or never
       reached Stripe) and nobody re-sent since: sent again with their own
       idempotency key, so Stripe makes each at most once;
    5. ledger rows still incomplete (their balance transaction is fetched after
       the webhook's commit, and Stripe could not be reached then): completed.
    Events go first: what they settle needs no extra read. Actions: event.healed,
    payment.applied, subscription.reread, subscription.applied, refund.applied (sent again),
    ledger.completed, unchanged, failed (and event.known, not reported by the
    command, for events already processed here).
    """
    report = Report(dry_run=dry_run)
    cutoff = dj_timezone.now() - pending_older_than
    _reconcile_events(report, since)
    _reconcile_payments(report, cutoff)
    _reconcile_subscriptions(report, read=_reconcile_rereads(report))
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

        guarded(report, subject, step)


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

        guarded(report, subject, step)


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

        guarded(report, subject, step)


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
                report.add("payment.applied", subject, would(report.dry_run, f"move {before} -> {after} ({intent.id} is {intent.status})"))
            else:
                report.add(UNCHANGED, subject, f"{before} ({intent.id} is {intent.status})")

        guarded(report, subject, step)


def _subscription_state(sub: Subscription) -> tuple:
    return (sub.status, sub.cancel_at_period_end, sub.current_period_end)


def reread_counts(report: Report) -> tuple[int, int]:
    """(re-read, failed) of the pending re-reads pass."""
    mine = [o for o in report.outcomes if o.subject.startswith(REREAD_SUBJECT)]
    return sum(1 for o in mine if not o.failed), sum(1 for o in mine if o.failed)


def rereads_pending() -> int:
    return Subscription.objects.filter(stripe_reread_requested_at__isnull=False).count()


def _plan(subscription: Subscription) -> tuple:
    return (subscription.price, subscription.cancel_at_period_end, subscription.status)


def _plan_change_text(before: tuple, after: tuple) -> str:
    (price, cancel, status), (new_price, new_cancel, new_status) = before, after
    changes = []
    if new_price != price:
        label = lambda p: f"{p.tier.slug} {p.display}" if isinstance(p, Price) else str(p)  # noqa: E731
        changes.append(f"plan {label(price)} -> {label(new_price)}")
    if new_cancel != cancel:
        changes.append(f"cancel at period end {'on' if new_cancel else 'off'}")
    if new_status != status:
        changes.append(f"{status} -> {new_status}")
    return ", ".join(changes) or "as we had it"


def _reconcile_rereads(report: Report) -> set[int]:
    """The pending re-reads, oldest first; the pks it read (or tried to)."""
    pending = list(
        Subscription.objects.filter(stripe_reread_requested_at__isnull=False, stripe_subscription_id__isnull=False)
        .select_related("price__tier").order_by("stripe_reread_requested_at", "pk")[:REREAD_BATCH]
    )
    for subscription in pending:
        subject = f"{REREAD_SUBJECT} {subscription.pk}"

        def step(subscription=subscription, subject=subject) -> None:
            since = f"pending since {subscription.stripe_reread_requested_at:%Y-%m-%d %H:%M:%S}"
            before = _plan(subscription)
            if report.dry_run:
                data = gateway.retrieve_subscription(subscription.stripe_subscription_id)
                price = Price.objects.select_related("tier").filter(stripe_price_id=data.price).first() or data.price
                after = (price, data.cancel_at_period_end, data.status)
                report.add("subscription.reread", subject, would(True, f"take {_plan_change_text(before, after)} ({since})"))
                return
            applied = refresh_subscription(subscription=subscription)
            applied = Subscription.objects.select_related("price__tier").get(pk=applied.pk)
            newer = " (a newer request stays pending)" if applied.stripe_reread_requested_at else ""
            report.add("subscription.reread", subject, f"{_plan_change_text(before, _plan(applied))} ({since}){newer}")

        guarded(report, subject, step)
    return {subscription.pk for subscription in pending}


def _reconcile_subscriptions(report: Report, read: set[int] = frozenset()) -> None:
    subscriptions = Subscription.objects.filter(
        status__in=OPEN_SUBSCRIPTION_STATUSES, stripe_subscription_id__isnull=False
    ).exclude(pk__in=read).order_by("pk")
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
                    would(report.dry_run, f"move {before[0]} -> {after_status}"
                           f"{' (cancels at period end)' if after_cancel else ''}"),
                )
            else:
                report.add(UNCHANGED, subject, before[0])

        guarded(report, subject, step)
