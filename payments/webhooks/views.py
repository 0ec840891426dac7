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
from payments.logging import kv, payment_id_for_event
from payments.webhooks.processing import KnownEvent, lookup_event, process_event

logger = logging.getLogger("payments.webhooks")


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """Verify, store, process. 400: refused and nothing changed; 500: stored,
    processing failed and recorded, Stripe retries; 200: done (or done before)."""
    started = time.monotonic()
    limit = get_config().webhook_max_bytes
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return JsonResponse({"error": "payload too large"}, status=413)
    body = request.body
    if len(body) > limit:
        return JsonResponse({"error": "payload too large"}, status=413)
    try:
        event = gateway.parse_webhook(body, request.headers.get("Stripe-Signature"))
    except InvalidWebhook as exc:
        logger.warning("webhook refused: %s", exc)
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
    if logger.isEnabledFor(logging.INFO):
        # payments.logging.webhook_line's line, naming the payment the lookup above
        # found (webhook_line would query again); looked up after processing only
        # when processing may have linked it (the event overtook the intent's id).
        payment = known.payment_id
        if payment is None and outcome not in ("duplicate", "refused"):
            payment = payment_id_for_event(event.type, event.object)
        duration_ms = (time.monotonic() - started) * 1000
        logger.info(
            "webhook %s",
            kv(event=event.id, type=event.type, outcome=outcome, duration_ms=duration_ms, payment=payment),
        )
    return JsonResponse({"received": True, "outcome": outcome}, status=status)
