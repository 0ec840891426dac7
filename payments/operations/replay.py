"""Stored webhook events processed again once their cause is fixed: the one path
for ``payments_replay_events`` and the admin's "Reprocess" action."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime


from payments import gateway
from payments.errors import SecurityAlarm
from payments.models import WebhookEvent

from payments.webhooks import processing
from payments.services.reports import (
    SKIPPED, Report, guarded,
)

logger = logging.getLogger(__name__)




RETRYABLE_EVENT_STATUSES = (WebhookEvent.Status.FAILED, WebhookEvent.Status.RECEIVED)


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

        guarded(report, subject, step)
    return report
