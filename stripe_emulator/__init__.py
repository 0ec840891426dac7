"""A stateful emulator of the Stripe API, used when no Stripe secret key is configured.

The emulator is written by hand because no offline Python Stripe emulator
exists (stripe-mock is a Go binary fetched from GitHub and stateless).

It answers the real ``stripe`` library through the HTTP client adapter in
the host's gateway (``Emulator.handle_http``), keeps Stripe's state in its
own SQLite file shared by every process of the checkout, follows Stripe's
test cards, idempotency and error shapes, and records events that
``deliver_pending`` POSTs, signed, to the webhook endpoint. ``pay``,
``authenticate`` and ``settle`` play the customer's browser and bank, and
``complete_checkout``, ``settle_checkout`` and ``expire_checkout`` the
customer on a hosted Checkout page; the ``stripe_emulator`` management
command exposes them to a second terminal.
It accepts exactly the parameters stripe-python's typed request params
(``stripe.params``, the library's pinned API version) declare for each
endpoint (``params.py``); that is all it takes from ``stripe``: it never
calls the library.
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
    """The process's emulator for the configured database file, secret and webhook URL."""
    from django.conf import settings  # the host project's: STRIPE_EMULATOR_DB, ...

    with _lock:  # one instance per process: injected faults must reach the gateway's
        return _emulator(
            settings.STRIPE_EMULATOR_DB, settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_EMULATOR_WEBHOOK_URL
        )


_lock = threading.Lock()


# Bounded: each emulator holds an open SQLite connection, and a test suite
# gives every test its own database file.
@functools.lru_cache(maxsize=8)
def _emulator(db_path: str, webhook_secret: str, webhook_url: str) -> Emulator:
    return Emulator(db_path=db_path, webhook_secret=webhook_secret, webhook_url=webhook_url)
