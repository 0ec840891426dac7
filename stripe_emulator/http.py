"""The emulator's HTTP face: a WSGI app answering Stripe's ``/v1/...`` paths, so
anything that can be pointed at a base URL (stripe-python's ``base_addresses``,
curl, another language's library) talks to it as to Stripe.

Mounted under a prefix (``App(emulator, prefix="/_emulator")``) it strips the
prefix first. A request without an API key is refused as Stripe refuses it
(401); any key is accepted. An injected connection fault or timeout (the
in-process tests' tool) has no HTTP equivalent here and is answered 503.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from . import portal
from .api import Emulator, EmulatorConnectionError

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 404: "Not Found",
            409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


class App:
    def __init__(self, emulator: Emulator | Callable[[], Emulator], prefix: str = "") -> None:
        """``emulator``: one, or a callable giving it per request (a host's settings may change)."""
        self._emulator = emulator
        self.prefix = prefix.rstrip("/")

    @property
    def emulator(self) -> Emulator:
        return self._emulator if isinstance(self._emulator, Emulator) else self._emulator()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if self.prefix and path.startswith(self.prefix):
            path = path[len(self.prefix):] or "/"
        headers = {
            key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        if portal.handles(path):  # the customer portal's page
            return portal.serve(self.emulator, environ, path, start_response)
        if not path.startswith("/v1/"):
            return _json(start_response, 404, _error(f"Unrecognized request URL ({environ['REQUEST_METHOD']}: {path})."))
        if not headers.get("Authorization", "").removeprefix("Bearer ").strip():
            message = "You did not provide an API key. Provide it in the Authorization header (Bearer auth)."
            return _json(start_response, 401, _error(message))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        query = environ.get("QUERY_STRING") or ""
        url = f"http://emulator{path}" + (f"?{query}" if query else "")
        try:
            text, status, response_headers = self.emulator.handle_http(environ["REQUEST_METHOD"], url, headers, body)
        except EmulatorConnectionError as exc:
            return _json(start_response, 503, _error(f"Emulated {exc}.", "api_error"))
        start_response(_status(status), [(k, v) for k, v in response_headers.items()])
        return [text.encode("utf-8")]


def _error(message: str, type_: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"type": type_, "message": message}}


def _status(status: int) -> str:
    return f"{status} {_REASONS.get(status, 'Unknown')}"


def _json(start_response: StartResponse, status: int, body: dict[str, Any]) -> list[bytes]:
    start_response(_status(status), [("Content-Type", "application/json")])
    return [json.dumps(body).encode("utf-8")]
