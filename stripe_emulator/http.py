"""The emulator's HTTP face: a WSGI app answering Stripe's ``/v1/...`` paths, so
anything that can be pointed at a base URL (stripe-python's ``base_addresses``,
curl, another language's library) talks to it as to Stripe.

Mounted under a prefix (``App(emulator, prefix="/_emulator")``) it strips the
prefix first. A request without an API key (an ``Authorization: Bearer`` header,
or the ``key`` parameter Stripe.js sends) is refused as Stripe refuses it (401);
any secret key is accepted, a publishable one only for what Stripe lets it do
(publishable.py). The API answers CORS as api.stripe.com does: any origin, no
credentials, preflights included, so a page on any origin calls it with the
publishable key. The browser's pages (the Stripe.js stand-in, 3-D Secure,
hosted Checkout) are pages.py's table. An injected connection fault or timeout
(the in-process tests' tool) has no HTTP equivalent here and is answered 503.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl
from collections.abc import Callable, Iterable
from typing import Any

from . import pages
from .api import Emulator, EmulatorConnectionError

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

_REASONS = {200: "OK", 204: "No Content", 303: "See Other", 400: "Bad Request", 401: "Unauthorized",
            402: "Payment Required", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 410: "Gone",
            429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
# api.stripe.com's CORS: any origin, never credentials (the browser sends the publishable key, no cookie).
_CORS = [("Access-Control-Allow-Origin", "*"),
         ("Access-Control-Expose-Headers", "Request-Id, Idempotency-Key, Idempotent-Replayed, Stripe-Should-Retry")]
_PREFLIGHT_MAX_AGE = "300"


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
        method = environ["REQUEST_METHOD"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        query = environ.get("QUERY_STRING") or ""
        if not path.startswith("/v1/"):
            found = pages.answer(self.emulator, method, path, query, body)
            if found is None:
                return _json(start_response, 404, _error(f"Unrecognized request URL ({method}: {path})."), cors=False)
            start_response(_status(found.status), [("Content-Type", found.content_type), *found.headers.items()])
            return [found.body]
        if method == "OPTIONS":
            return _preflight(start_response, headers)
        if not (headers.get("Authorization", "").removeprefix("Bearer ").strip() or _key_param(query, body)):
            message = "You did not provide an API key. Provide it in the Authorization header (Bearer auth)."
            return _json(start_response, 401, _error(message))
        url = f"http://emulator{path}" + (f"?{query}" if query else "")
        try:
            text, status, response_headers = self.emulator.handle_http(method, url, headers, body)
        except EmulatorConnectionError as exc:
            return _json(start_response, 503, _error(f"Emulated {exc}.", "api_error"))
        start_response(_status(status), [*response_headers.items(), *_CORS])
        return [text.encode("utf-8")]


def _error(message: str, type_: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"type": type_, "message": message}}


def _status(status: int) -> str:
    return f"{status} {_REASONS.get(status, 'Unknown')}"


def _json(start_response: StartResponse, status: int, body: dict[str, Any], *, cors: bool = True) -> list[bytes]:
    start_response(_status(status), [("Content-Type", "application/json"), *(_CORS if cors else [])])
    return [json.dumps(body).encode("utf-8")]


def _preflight(start_response: StartResponse, headers: dict[str, str]) -> list[bytes]:
    """Any origin may call the API (with the publishable key): the methods and the
    headers it asks for are allowed, no credentials."""
    asked = headers.get("Access-Control-Request-Headers", "")
    start_response(_status(204), [
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS"),
        *([("Access-Control-Allow-Headers", asked)] if asked else []),
        ("Access-Control-Max-Age", _PREFLIGHT_MAX_AGE),
        ("Content-Length", "0"),
    ])
    return [b""]


def _key_param(query: str, body: bytes) -> str:
    for name, value in parse_qsl(query) + parse_qsl(body.decode("utf-8", "replace")):
        if name == "key":
            return value
    return ""
