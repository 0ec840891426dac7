"""``python -m stripe_emulator --port 12111``: the emulator as its own process.

Point a client at it with its base URL (the product: ``STRIPE_API_BASE=http://127.0.0.1:12111``).
It delivers the events of each call, signed with ``--webhook-secret``, to
``--webhook-url`` soon after the call (``--no-auto-deliver``: only when asked).
"""

from __future__ import annotations

import argparse
import os
import socketserver
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .api import Emulator
from .http import App


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        if os.environ.get("STRIPE_EMULATOR_LOG_REQUESTS"):
            super().log_message(format, *args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m stripe_emulator", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--db", default=os.environ.get("STRIPE_EMULATOR_DB", "var/stripe-emulator.sqlite3"),
                        help="its SQLite state file (default: $STRIPE_EMULATOR_DB or var/stripe-emulator.sqlite3)")
    parser.add_argument("--webhook-url", default=os.environ.get(
        "STRIPE_EMULATOR_WEBHOOK_URL", "http://127.0.0.1:8000/api/payments/webhook/"))
    parser.add_argument("--webhook-secret", default=os.environ.get(
        "STRIPE_WEBHOOK_SECRET", "whsec_development_emulator_secret"))
    parser.add_argument("--no-auto-deliver", dest="auto_deliver", action="store_false")
    parser.add_argument("--public-url", default=os.environ.get("STRIPE_EMULATOR_PUBLIC_URL", ""),
                        help="where a browser reaches it, for the URLs of its pages (default: its own address)")
    parser.add_argument("--delivery-delay", type=float, default=0.5, help="seconds after a call (default 0.5)")
    args = parser.parse_args(argv)
    emulator = Emulator(db_path=args.db, webhook_secret=args.webhook_secret, webhook_url=args.webhook_url,
                        auto_deliver=args.auto_deliver, delivery_delay=args.delivery_delay)
    with make_server(args.host, args.port, App(emulator), server_class=_ThreadingServer,
                     handler_class=_QuietHandler) as server:
        emulator.public_url = (args.public_url or f"http://{args.host}:{server.server_port}").rstrip("/")
        print(f"Stripe emulator on http://{args.host}:{server.server_port} (state {args.db});"
              f" webhooks to {args.webhook_url}; Stripe.js stand-in at {emulator.public_url}/js/v3/", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
