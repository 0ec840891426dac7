"""Store an event once, then process it once, whatever the deliveries.

The SQL a delivery costs (the handler's own aside):
- a redelivery of an event already processed (or ignored): ONE query, which
  also names the payment for the log line (``lookup_event``);
- a new event: that query, the INSERT that stores it (committed on its own,
  before anything else), and in the processing transaction one UPDATE that
  claims it (marks it done, under the row's lock, only if nobody else did), then
  the handler. Concurrent deliveries of one event queue on that row lock; the
  first one wins, the others find it done and answer "duplicate". A handler
  error rolls the claim back with everything else, and the failure is recorded.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from datetime import datetime, timezone

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone as dj_timezone

from payments.conf import get_config
from payments.errors import MalformedStripeObject, SecurityAlarm
from payments.models import Payment, WebhookEvent
from payments.services.notifications import notify_alarm
from payments.stripe_data import WebhookEventData, payment_intent_id_of
from payments.webhooks import charge, checkout, customer, invoice, payment_intent, refunds, subscription

logger = logging.getLogger("payments.webhooks")

Handler = Callable[[WebhookEventData], None]

HANDLERS: dict[str, Handler] = {
    **payment_intent.HANDLERS,
    **refunds.HANDLERS,
    **subscription.HANDLERS,
    **invoice.HANDLERS,
    **checkout.HANDLERS,
    **charge.HANDLERS,
    **customer.HANDLERS,
}

DONE = (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED)


@dataclass(frozen=True)
class KnownEvent:
    """What the database knows of a delivery before it is processed: the stored
    event's pk and status (None, None: never stored), and our Payment's id when
    the event's object is (or points to) one of our payments (for the log line)."""

    pk: int | None
    status: str | None
    payment_id: str | None


def lookup_event(event: WebhookEventData) -> KnownEvent:
    """One query: the stored event's pk and status, and the payment it names.

    Three scalar subqueries on unique indexes, so a redelivery costs a single
    round trip whatever the outcome (and no payload is read back)."""
    qn = connection.ops.quote_name
    events, payments = WebhookEvent._meta, Payment._meta
    event_table, payment_table = qn(events.db_table), qn(payments.db_table)
    by_id = f"FROM {event_table} WHERE {qn(events.get_field('stripe_event_id').column)} = %s"
    sql = (
        f"SELECT (SELECT {qn(events.pk.column)} {by_id}), "
        f"(SELECT {qn(events.get_field('status').column)} {by_id}), "
        f"(SELECT {qn(payments.pk.column)} FROM {payment_table} "
        f"WHERE {qn(payments.get_field('stripe_payment_intent_id').column)} = %s)"
    )
    intent = event.payment_intent_id
    with connection.cursor() as cursor:
        cursor.execute(sql, [event.id, event.id, intent])
        pk, status, payment_id = cursor.fetchone()
    if payment_id is not None:
        payment_id = str(uuid.UUID(str(payment_id)))  # SQLite keeps UUIDs as 32 hex digits
    return KnownEvent(pk, status, payment_id)


def payment_id_for_event(event_type: str, obj: Mapping[str, Any]) -> str | None:
    """Our Payment's id when the event's object is (or points to) one of our
    payments, for the log line of an event whose payment ``lookup_event`` did not
    know (processing may have linked it since). One indexed query at most; none
    when the event names no PaymentIntent. A failed query is None: a log line
    never fails the delivery."""
    intent = payment_intent_id_of(event_type, obj)
    if intent is None:
        return None
    try:
        payment_id = Payment.objects.filter(stripe_payment_intent_id=intent).values_list("pk", flat=True).first()
    except DatabaseError:
        return None
    return str(payment_id) if payment_id else None


def searchable_ids(event_type: str, obj) -> dict[str, str]:
    """The identifiers the admin finds a stored event by (indexed columns; the
    payload itself is never searched): its object's id and its PaymentIntent's."""
    object_id = obj.get("id") if isinstance(obj, Mapping) else None
    intent = payment_intent_id_of(event_type, obj) if isinstance(obj, Mapping) else None
    return {
        "object_id": object_id[:255] if isinstance(object_id, str) else "",
        "payment_intent_id": (intent or "")[:255],
    }


def _insert(event: WebhookEventData) -> int | None:
    """Store the delivery (committed on its own, before any processing): its pk,
    or None when a concurrent delivery of the same event stored it first."""
    fields = {
        "stripe_event_id": event.id,
        "type": event.type,
        "livemode": event.livemode,
        "api_version": event.api_version,
        "stripe_created": datetime.fromtimestamp(event.created, tz=timezone.utc),
        "payload": event.payload,
        **searchable_ids(event.type, event.object),
    }
    try:
        if connection.in_atomic_block:  # a savepoint, so that a caller's transaction survives the conflict
            with transaction.atomic():
                return WebhookEvent.objects.create(**fields).pk
        return WebhookEvent.objects.create(**fields).pk  # autocommit: one statement, no BEGIN/COMMIT
    except IntegrityError:
        return None


def process_event(event: WebhookEventData, *, known: KnownEvent | None = None) -> str:
    """Returns the outcome: "processed", "ignored", "duplicate", "refused" (a live
    event on a test key or the other way round: recorded, never applied), "alarm"
    (a signed event disagreeing with our payment: recorded as failed, nothing
    applied, the admins told), "invalid" (an object we cannot read); raises
    when the handler failed (after recording the traceback on the stored event).

    ``known``: what ``lookup_event`` answered for this event, if the caller asked already."""
    known = known or lookup_event(event)
    pk, status = known.pk, known.status
    if pk is None:
        pk, status = _insert(event), WebhookEvent.Status.RECEIVED
        if pk is None:  # a concurrent delivery stored it first
            pk, status = WebhookEvent.objects.filter(stripe_event_id=event.id).values_list("pk", "status").get()
    if status == WebhookEvent.Status.REFUSED:
        return "refused"
    if status in DONE:
        return "duplicate"
    if event.livemode != get_config().livemode:
        WebhookEvent.objects.filter(pk=pk).update(
            status=WebhookEvent.Status.REFUSED,
            last_error=f"livemode={event.livemode} does not match the configured key's mode",
        )
        logger.warning("webhook %s refused: livemode=%s does not match the configured key", event.id, event.livemode)
        return "refused"
    handler = HANDLERS.get(event.type)
    outcome = WebhookEvent.Status.IGNORED if handler is None else WebhookEvent.Status.PROCESSED
    try:
        with transaction.atomic():
            # Claim: done as of this transaction's commit, unless another delivery
            # got there first. The UPDATE holds the row lock until we commit, so a
            # concurrent delivery waits here, then finds it done.
            claimed = (
                WebhookEvent.objects.filter(pk=pk)
                .exclude(status__in=DONE)
                .update(status=outcome, attempts=F("attempts") + 1, processed_at=dj_timezone.now(), last_error="")
            )
            if not claimed:
                return "duplicate"
            if handler is not None:
                handler(event)
    except SecurityAlarm as alarm:
        # Signed by Stripe, about our payment, and wrong (an amount or currency we
        # never asked for): everything the handler did is rolled back; the event
        # is recorded as failed with the reason, the admins are told once per
        # event, and the answer is 200: a retry brings the same signed data, and
        # the alarm must not be lost in days of 5xx retries (see views.py).
        with transaction.atomic():
            WebhookEvent.objects.filter(pk=pk).update(
                status=WebhookEvent.Status.FAILED, attempts=F("attempts") + 1, processed_at=dj_timezone.now(),
                last_error=f"SECURITY ALARM ({type(alarm).__name__}): {alarm.reason}",
            )
            told = notify_alarm(
                payment_id=alarm.payment_id, webhook_event_id=pk,
                message=f"Stripe event {event.id} ({event.type}) was not applied: {alarm.reason}",
            )
        logger.error(
            "SECURITY ALARM: webhook %s %s not applied: %s (admins %s)", event.id, event.type, alarm.reason,
            f"notified on {told} channel(s)" if told else "told before",
        )
        return "alarm"
    except MalformedStripeObject:
        # Stripe's own data is not what we can read: retrying will not help, so
        # it is recorded (replayable once we can) and answered 400, not 500.
        WebhookEvent.objects.filter(pk=pk).update(
            status=WebhookEvent.Status.FAILED, attempts=F("attempts") + 1, last_error=traceback.format_exc()
        )
        logger.warning("webhook %s %s has an object we cannot read", event.id, event.type)
        return "invalid"
    except Exception:
        WebhookEvent.objects.filter(pk=pk).update(
            status=WebhookEvent.Status.FAILED, attempts=F("attempts") + 1, last_error=traceback.format_exc()
        )
        raise
    if handler is None:
        logger.info("webhook %s of unhandled type %s stored and ignored", event.id, event.type)
    return str(outcome)
