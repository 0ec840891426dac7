"""The in-process transport: a ``stripe.HTTPClient`` handing the stripe library's
requests to this process's emulator instead of the network, for the tests and
``make run``. A Django project picks it by setting, as it picks an email backend:
``STRIPE_HTTP_CLIENT = "stripe_emulator.inprocess.HTTPClient"``.

The other way to reach the emulator is over HTTP (``python -m stripe_emulator``,
or the product's dev server): then no adapter is needed, only a base URL.
"""

from __future__ import annotations

from typing import Any

import stripe

from . import get_emulator
from .api import Emulator, EmulatorConnectionError


class HTTPClient(stripe.HTTPClient):
    """Answers from ``emulator``, or from :func:`stripe_emulator.get_emulator` (the
    host's settings) looked up per request, so a test's new settings apply."""

    name = "stripe-emulator-inprocess"

    def __init__(self, emulator: Emulator | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._emulator = emulator

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        emulator = self._emulator or get_emulator()
        try:
            return emulator.handle_http(method, url, headers or {}, post_data)
        except EmulatorConnectionError as exc:
            raise stripe.APIConnectionError(f"Could not reach Stripe (emulated {exc}).", should_retry=True) from exc

    def request_stream(self, method, url, headers, post_data=None, *, _usage=None):
        raise NotImplementedError("the emulator does not stream")

    def close(self):
        pass
