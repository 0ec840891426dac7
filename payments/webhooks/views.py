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
from payments.webhooks.processing import process_event

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
    try:
        outcome = process_event(event)
    except Exception:
        logger.exception("webhook %s %s failed", event.id, event.type)
        outcome, status = "failed", 500
    else:
        status = 400 if outcome == "refused" else 200
    logger.info(
        "%s",
        webhook_line(
            event_id=event.id, event_type=event.type, obj=event.object, outcome=outcome,
            duration_ms=(time.monotonic() - started) * 1000,
        ),
    )
    return JsonResponse({"received": True, "outcome": outcome}, status=status)
