"""Store an event once, then process it once, whatever the deliveries."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import datetime, timezone

from django.db import transaction
from django.db.models import F
from django.utils import timezone as dj_timezone

from payments.conf import get_config
from payments.gateway import WebhookEventData
from payments.models import WebhookEvent
from payments.webhooks import checkout, invoice, payment_intent, refunds, subscription

logger = logging.getLogger("payments.webhooks")

Handler = Callable[[WebhookEventData], None]

HANDLERS: dict[str, Handler] = {
    **payment_intent.HANDLERS,
    **refunds.HANDLERS,
    **subscription.HANDLERS,
    **invoice.HANDLERS,
    **checkout.HANDLERS,
}

DONE = (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED)


def store_event(event: WebhookEventData) -> tuple[WebhookEvent, bool]:
    """Record the delivery before anything else (committed on its own)."""
    return WebhookEvent.objects.get_or_create(
        stripe_event_id=event.id,
        defaults={
            "type": event.type,
            "livemode": event.livemode,
            "api_version": event.api_version,
            "stripe_created": datetime.fromtimestamp(event.created, tz=timezone.utc),
            "payload": event.payload,
        },
    )


def process_event(event: WebhookEventData) -> str:
    """Returns the outcome: "processed", "ignored", "duplicate", "refused" (a live
    event on a test key or the other way round: recorded, never applied); raises
    when the handler failed (after recording the traceback on the stored event)."""
    record, created = store_event(event)
    if record.status == WebhookEvent.Status.REFUSED:
        return "refused"
    if not created and record.status in DONE:
        return "duplicate"
    if event.livemode != get_config().livemode:
        WebhookEvent.objects.filter(pk=record.pk).update(
            status=WebhookEvent.Status.REFUSED,
            last_error=f"livemode={event.livemode} does not match the configured key's mode",
        )
        logger.warning("webhook %s refused: livemode=%s does not match the configured key", event.id, event.livemode)
        return "refused"
    handler = HANDLERS.get(event.type)
    try:
        with transaction.atomic():
            # Concurrent deliveries of one event queue here; the first one wins.
            record = WebhookEvent.objects.select_for_update().get(pk=record.pk)
            if record.status in DONE:
                return "duplicate"
            if handler is None:
                record.status = WebhookEvent.Status.IGNORED
            else:
                handler(event)
                record.status = WebhookEvent.Status.PROCESSED
            record.attempts += 1
            record.processed_at = dj_timezone.now()
            record.last_error = ""
            record.save(update_fields=["status", "attempts", "processed_at", "last_error"])
    except Exception:
        WebhookEvent.objects.filter(pk=record.pk).update(
            status=WebhookEvent.Status.FAILED, attempts=F("attempts") + 1, last_error=traceback.format_exc()
        )
        raise
    if handler is None:
        logger.info("webhook %s of unhandled type %s stored and ignored", event.id, event.type)
    return record.status
