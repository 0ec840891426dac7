"""Webhook delivery: how Stripe POSTs a signed event to the endpoint, and the
background delivery that follows the API calls when it is on."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

# (body, headers) -> HTTP status the endpoint answered, 0 when unreachable.
Sender = Callable[[bytes, dict[str, str]], int]


class HttpSender:
    """POSTs to a URL; never raises, so that one unreachable server only leaves events pending."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout

    def __call__(self, body: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except (OSError, ValueError):  # URLError, refused, timeout; ValueError: malformed URL
            return 0


def signed_request(event: dict[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    """The body and headers Stripe sends for ``event``."""
    payload = json.dumps(event)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        "Stripe-Signature": signature_header(payload, secret),
    }
    return payload.encode("utf-8"), headers


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """Stripe's ``Stripe-Signature``: ``t=<unix time>,v1=<HMAC-SHA256 of "t.payload">``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.{payload}".encode("utf-8"), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class AutoDelivery:
    """Runs ``deliver`` (``Emulator.deliver_pending``) on a daemon thread ``delay``
    seconds after the last :meth:`soon`, so that the caller's own transaction has
    committed when its events arrive. While some stay undelivered (the endpoint
    down or refusing) it tries again, waiting twice as long each time up to
    ``MAX_RETRY`` seconds, as Stripe retries."""

    DELAY = 0.5
    MAX_RETRY = 60.0

    def __init__(self, deliver: Callable[[], list[tuple[str, int]]], delay: float = DELAY) -> None:
        self._deliver = deliver
        self._delay = delay
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def soon(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="stripe-emulator-delivery", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        retry = None
        while True:
            woken = self._wake.wait(timeout=retry)
            self._wake.clear()
            if woken:  # a burst of calls: deliver once, after the last
                while self._wake.wait(timeout=self._delay):
                    self._wake.clear()
            try:
                results = self._deliver()
            except Exception:  # never let the thread die: the next call wakes it again
                logger.exception("webhook delivery failed")
                results = [("", 0)]
            if all(200 <= status < 300 for _, status in results):
                retry = None
            else:
                retry = min((retry or 1.0) * 2, self.MAX_RETRY)
