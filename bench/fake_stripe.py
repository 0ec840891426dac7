"""A fake Stripe on loopback for the "Against dj-stripe" phase:
``python -m bench.fake_stripe <spec.json>`` serves, until terminated, the
objects of ``bench.objects`` for the payments of the spec (the same objects the
events carry), on ``127.0.0.1:<spec port>``.

A server under test reaches it as Stripe's API base (``STRIPE_API_BASE`` for
ours, dj-stripe's ``STRIPE_API_HOST`` for dj-stripe): ``GET /v1/<kind>/<id>``
with ``expand[]`` (a nested id replaced by its object, dotted paths too) and
``GET /v1/account``. Anything else is answered 404 with a Stripe error body and
counted as ``unknown``. Every call is counted by route; ``GET /__bench/stats``
(not counted) answers the counts. Plain ``http.server`` with HTTP/1.1
keep-alive, one thread per connection: its CPU is its own process's, never the
servers' under test.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from bench import objects

EXPANDABLE = {"customer": "customers", "payment_method": "payment_methods", "latest_charge": "charges",
              "charge": "charges", "payment_intent": "payment_intents", "balance_transaction": "balance_transactions"}


class Fake:
    def __init__(self, payments: list[dict], created: int):
        self.by_suffix = {objects.suffix(p["intent"]): p for p in payments}
        self.created = created
        self.calls: Counter = Counter()
        self.unknown: list[str] = []
        self.lock = threading.Lock()

    def count(self, route: str, unknown: str | None = None) -> None:
        with self.lock:
            self.calls[route] += 1
            if unknown and len(self.unknown) < 20:
                self.unknown.append(unknown)

    def get(self, kind: str, object_id: str) -> dict | None:
        if kind == "account":
            return objects.account(self.created)
        return objects.find(kind, object_id, self.by_suffix, self.created)

    def expand(self, obj: dict, path: str) -> None:
        head, _, rest = path.partition(".")
        value = obj.get(head)
        if isinstance(value, str) and head in EXPANDABLE:
            found = self.get(EXPANDABLE[head], value)
            if found is not None:
                obj[head] = value = found
        if rest and isinstance(value, dict):
            self.expand(value, rest)

    def answer(self, method: str, target: str) -> tuple[int, dict]:
        parts = urlsplit(target)
        segments = [s for s in parts.path.split("/") if s]
        expand = [v for k, v in parse_qsl(parts.query) if k in ("expand[]", "expand")]
        if method == "GET" and segments == ["v1", "account"]:
            self.count("GET /v1/account")
            return 200, self.get("account", "")
        if method == "GET" and len(segments) == 3 and segments[0] == "v1":
            obj = self.get(segments[1], segments[2])
            if obj is not None:
                self.count(f"GET /v1/{segments[1]}/:id")
                for path in expand:
                    self.expand(obj, path)
                return 200, obj
        self.count("unknown", f"{method} {target}")
        return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                               "message": f"The fake Stripe has no {method} {parts.path}"}}


def handler_for(fake: Fake):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the Stripe clients expect

        def _reply(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Request-Id", "req_bench")
            self.end_headers()
            self.wfile.write(body)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            if self.path == "/__bench/stats":
                with fake.lock:
                    stats = {"calls": sum(v for k, v in fake.calls.items()), "by_route": dict(fake.calls),
                             "unknown": list(fake.unknown)}
                return self._reply(200, stats)
            self._reply(*fake.answer(self.command, self.path))

        do_GET = do_POST = do_DELETE = _handle

        def log_message(self, format, *args):  # quiet: one line per call would be most of its work
            pass

    return Handler


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[1]).read_text())
    fake = Fake(spec["payments"], spec["created"])
    server = ThreadingHTTPServer(("127.0.0.1", spec["port"]), handler_for(fake))
    server.daemon_threads = True
    print(f"fake Stripe on 127.0.0.1:{spec['port']}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
