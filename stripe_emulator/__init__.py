"""A stateful emulator of the Stripe API: a Stripe-compatible service of its own.

The emulator is written by hand because no offline Python Stripe emulator
exists (stripe-mock is a Go binary fetched from GitHub and stateless).

It answers Stripe's ``/v1/...`` paths over real HTTP (``http.py``; ``python -m
stripe_emulator`` serves it alone), or in-process to the real ``stripe``
library through the HTTP client adapter in ``inprocess.py``; both end in
``Emulator.handle_http``. It keeps Stripe's state in its own SQLite file
shared by every process of the checkout, follows Stripe's test cards,
idempotency and error shapes, and records events that ``deliver_pending``
POSTs, signed, to the webhook URL (soon after each API call when
``auto_deliver`` is on). ``pay``, ``authenticate`` and ``settle`` play the
customer's browser and bank, and ``complete_checkout``, ``settle_checkout``
and ``expire_checkout`` the customer on a hosted Checkout page (actions.py);
the host's ``stripe_emulator`` management command exposes them to a second
terminal. It accepts exactly the parameters stripe-python's typed request
params (``stripe.params``, the library's pinned API version) declare for each
endpoint (``params.py``); apart from those types and the in-process adapter's
base class it takes nothing from ``stripe``. It never imports the product.
"""

from __future__ import annotations

import functools
import threading

from .api import Emulator, EmulatorConnectionError
from .delivery import HttpSender, Sender
from .store import StoredEvent

__all__ = [
    "Emulator",
    "EmulatorConnectionError",
    "HttpSender",
    "Sender",
    "StoredEvent",
    "get_emulator",
]


def get_emulator() -> Emulator:
    """The process's emulator as a Django host configures it: STRIPE_EMULATOR_DB,
    STRIPE_WEBHOOK_SECRET, STRIPE_EMULATOR_WEBHOOK_URL, STRIPE_EMULATOR_AUTO_DELIVER,
    STRIPE_EMULATOR_PUBLIC_URL (where the browser reaches its pages)."""
    from django.conf import settings

    with _lock:  # one instance per process: injected faults must reach the gateway's
        return _emulator(
            settings.STRIPE_EMULATOR_DB,
            settings.STRIPE_WEBHOOK_SECRET,
            settings.STRIPE_EMULATOR_WEBHOOK_URL,
            getattr(settings, "STRIPE_EMULATOR_AUTO_DELIVER", False),
            getattr(settings, "STRIPE_EMULATOR_PUBLIC_URL", "http://127.0.0.1:8000/_emulator"),
        )


_lock = threading.Lock()


# Bounded: each emulator holds an open SQLite connection, and a test suite
# gives every test its own database file.
@functools.lru_cache(maxsize=8)
def _emulator(db_path: str, webhook_secret: str, webhook_url: str, auto_deliver: bool, public_url: str) -> Emulator:
    return Emulator(db_path=db_path, webhook_secret=webhook_secret, webhook_url=webhook_url, auto_deliver=auto_deliver,
                    public_url=public_url)
