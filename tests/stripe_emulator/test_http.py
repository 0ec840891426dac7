"""stripe_emulator/http.py: the WSGI app that answers Stripe's /v1 paths."""

from __future__ import annotations

import io
import json

from stripe_emulator.http import App


def _call(app: App, method: str, path: str, headers: dict[str, str] | None = None) -> tuple[str, dict]:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "wsgi.input": io.BytesIO(b"")}
    environ.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()})
    status = []
    body = b"".join(app(environ, lambda s, h: status.append(s)))
    return status[0], json.loads(body)


def test_the_http_app_answers_stripe_paths_as_stripe_does(emulator):
    app = App(emulator, prefix="/_emulator")
    auth = {"Authorization": "Bearer sk_test_anything"}
    status, body = _call(app, "GET", "/_emulator/v1/balance", auth)
    assert status == "200 OK" and body["object"] == "balance"
    status, body = _call(app, "GET", "/_emulator/v1/balance")
    assert status == "401 Unauthorized" and body["error"]["type"] == "invalid_request_error"
    status, body = _call(app, "GET", "/_emulator/v1/nothing", auth)
    assert status == "404 Not Found"
    status, body = _call(app, "GET", "/_emulator/elsewhere", auth)
    assert status == "404 Not Found"
