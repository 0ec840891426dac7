"""GET /healthz: does this process reach its database and its channel layer?

200 ``{"status": "ok", "database": "ok", "channel_layer": "ok"}``; otherwise 503
with the failing part "error" and a short reason under "errors" (the
exception's type only: the endpoint is public; details go to the log).
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

CHANNEL_LAYER_TIMEOUT = 2.0  # seconds for the send + receive round trip


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _check_channel_layer() -> None:
    """Send a message to a fresh channel and read it back."""
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")

    async def round_trip() -> None:
        channel = await layer.new_channel("healthz.")
        nonce = uuid.uuid4().hex
        await layer.send(channel, {"type": "healthz.ping", "nonce": nonce})
        message = await layer.receive(channel)
        if message.get("nonce") != nonce:
            raise RuntimeError("received another message than the one sent")

    await asyncio.wait_for(round_trip(), CHANNEL_LAYER_TIMEOUT)


def _reason(exc: BaseException) -> str:
    return "timeout" if isinstance(exc, (TimeoutError, asyncio.TimeoutError)) else type(exc).__name__


@never_cache
@require_safe
async def healthz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": sync_to_async(_check_database),
        "channel_layer": _check_channel_layer,
    }
    body: dict = {"status": "ok"}
    errors: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await check()
        except Exception as exc:  # noqa: BLE001 -- any failure means "not healthy"
            logger.warning("healthz: %s check failed", name, exc_info=True)
            body[name], errors[name] = "error", _reason(exc)
        else:
            body[name] = "ok"
    if errors:
        body["status"] = "error"
        body["errors"] = errors
    return JsonResponse(body, status=503 if errors else 200)
