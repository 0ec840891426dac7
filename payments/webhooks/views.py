"""The webhook endpoint Stripe posts to: /api/payments/webhook/."""

from __future__ import annotations

import logging
import time

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments import gateway
from payments.conf import get_config
from payments.errors import InvalidWebhook
from payments.logging import webhook_line
from payments.webhooks import processing
from payments.webhooks.processing import KnownEvent, lookup_event, process_event

logger = logging.getLogger("payments.webhooks")


def _log(started: float, outcome: str, *, event=None, known_payment: str | None = None, lookup: bool = False,
         reason: str | None = None) -> None:
    """The delivery's one structured line (``payments.logging.webhook_line``). The
    payment is the one the event's lookup found (no second query); it is looked up
    again after processing (``lookup``) only when processing may have linked it
    (the event overtook the intent's id). Refusals before parsing: WARNING."""
    level = logging.WARNING if reason is not None else logging.INFO
    if not logger.isEnabledFor(level):
        return
    payment_id = known_payment
    if lookup and event is not None and payment_id is None:
        payment_id = processing.payment_id_for_event(event.type, event.object)
    logger.log(
        level,
        "%s",
        webhook_line(
            event_id=event.id if event is not None else None,
            event_type=event.type if event is not None else None,
            outcome=outcome,
            duration_ms=(time.monotonic() - started) * 1000,
            payment_id=payment_id,
            reason=reason,
        ),
    )


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """Verify, store, process. 400: refused and nothing changed; 413: too large,
    not read; 500: stored, processing failed and recorded, Stripe retries; 200:
    done (or done before), and "alarm": a signed event that disagrees with our
    payment, recorded as failed and told to the admins, answered 200 on purpose
    (Stripe would retry a 4xx/5xx for three days with the same signed data, then
    disable the endpoint for every event; the alarm is ours to raise, not Stripe's). One log line per delivery, whatever the answer."""
    started = time.monotonic()
    limit = get_config().webhook_max_bytes
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        _log(started, "too_large", reason=f"Content-Length {declared} > {limit} bytes")
        return JsonResponse({"error": "payload too large"}, status=413)
    body = request.body
    if len(body) > limit:
        _log(started, "too_large", reason=f"body {len(body)} > {limit} bytes")
        return JsonResponse({"error": "payload too large"}, status=413)
    try:
        event = gateway.parse_webhook(body, request.headers.get("Stripe-Signature"))
    except InvalidWebhook as exc:
        _log(started, "refused", reason=str(exc) or type(exc).__name__)
        return JsonResponse({"error": "invalid signature or payload"}, status=400)
    known = KnownEvent(pk=None, status=None, payment_id=None)
    try:
        # One query tells a redelivery (answered at once) and names the payment for the log line.
        known = lookup_event(event)
        outcome = process_event(event, known=known)
    except Exception:
        logger.exception("webhook %s %s failed", event.id, event.type)
        outcome, status = "failed", 500
    else:
        status = 400 if outcome in ("refused", "invalid") else 200
    lookup = known.payment_id is None and outcome not in ("duplicate", "refused")
    _log(started, outcome, event=event, known_payment=known.payment_id, lookup=lookup)
    return JsonResponse({"received": True, "outcome": outcome}, status=status)
