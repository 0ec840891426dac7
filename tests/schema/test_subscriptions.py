"""paymentStatus over a real WebSocket (graphql-transport-ws) against real
Daphne processes: the viewer from the session cookie, the current state at
once, then each change pushed when a signed webhook is processed."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from websockets.sync.client import connect

from events.models import Event
from payments.models import Payment
from tests.conftest import make_event, sign
from tests.payments.webhooks.test_views import intent

ROOT = Path(__file__).resolve().parents[2]
SUBSCRIBE = "subscription($id: ID!) { paymentStatus(paymentId: $id) { id status amount failureCode } }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Server:
    """A Daphne process serving config.asgi on the test database."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = _free_port()
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"],
            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"daphne did not start:\n{log.read_text()}")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture
def start_server(transactional_db, settings, tmp_path):
    servers: list[Server] = []

    def start(**extra: str) -> Server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "REDIS_URL"))}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=_database_url(),
            STRIPE_EMULATOR_DB=settings.STRIPE_EMULATOR_DB,
            DEBUG="true",
            LOG_LEVEL="WARNING",
            **extra,
        )
        server = Server(env, tmp_path / f"daphne-{len(servers)}.log")
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


class Browser:
    """An HTTP client with a cookie jar, like a browser tab of the React app."""

    def __init__(self, server: Server):
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        self.opener.open(f"{self.server.base}/graphql/?query=%7B__typename%7D").read()  # gets the csrftoken cookie
        request = urllib.request.Request(
            f"{self.server.base}/graphql/",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": self.cookie("csrftoken"),
                     "Referer": self.server.base + "/graphql/"},
        )
        return json.loads(self.opener.open(request).read())

    def login(self, username: str, password: str) -> None:
        result = self.graphql(
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { username } }",
            {"u": username, "p": password},
        )
        assert result["data"]["login"]["username"] == username, result

    @contextlib.contextmanager
    def websocket(self, server: Server | None = None):
        """A graphql-transport-ws connection, acknowledged, carrying this browser's cookies."""
        server = server or self.server
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.jar)
        with connect(
            f"ws://127.0.0.1:{server.port}/graphql/",
            subprotocols=["graphql-transport-ws"],
            additional_headers={"Cookie": cookies, "Origin": server.base},
            open_timeout=10,
        ) as ws:
            ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
            yield ws


def subscribe(ws, payment_id, op_id: str = "1") -> None:
    ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": SUBSCRIBE, "variables": {"id": str(payment_id)}}}))


def receive(ws) -> dict:
    message = json.loads(ws.recv(timeout=15))
    assert message["type"] in {"next", "error", "complete"}, message
    return message


def post_webhook(server: Server, event: dict) -> int:
    body = json.dumps(event)
    request = urllib.request.Request(
        f"{server.base}/api/payments/webhook/", data=body.encode(),
        headers={"Content-Type": "application/json", "Stripe-Signature": sign(body)},
    )
    return urllib.request.urlopen(request).status


@pytest.fixture
def sale(django_user_model, catalog):
    owner = django_user_model.objects.create_user("owner", password="pw-owner")
    django_user_model.objects.create_user("stranger", password="pw-stranger")
    event = Event.objects.create(user=owner, title="Dentist")
    price = catalog["basic_eur"]
    payment = Payment.objects.create(
        user=owner, price=price, tier=price.tier, amount=price.unit_amount, currency=price.currency,
        payable_type="event", payable_id=str(event.pk), stripe_payment_intent_id="pi_live_1",
    )
    return payment


def test_owner_sees_the_current_state_then_each_change(start_server, sale):
    server = start_server()
    browser = Browser(server)
    browser.login("owner", "pw-owner")
    with browser.websocket() as ws:
        subscribe(ws, sale.pk)
        first = receive(ws)
        assert first["payload"]["data"]["paymentStatus"] == {"id": str(sale.pk), "status": "PENDING", "amount": 999, "failureCode": None}

        now = int(time.time())
        declined = {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline", "message": "Your card was declined."}
        assert post_webhook(server, make_event("payment_intent.payment_failed", intent(sale, "requires_payment_method", error=declined), created=now)) == 200
        assert receive(ws)["payload"]["data"]["paymentStatus"]["status"] == "FAILED"
        assert post_webhook(server, make_event("payment_intent.processing", intent(sale, "processing"), created=now + 1)) == 200
        assert post_webhook(server, make_event("payment_intent.succeeded", intent(sale, "succeeded"), created=now + 2)) == 200
        statuses = [receive(ws)["payload"]["data"]["paymentStatus"] for _ in range(2)]
        assert [s["status"] for s in statuses] == ["PROCESSING", "SUCCEEDED"]
        assert statuses[-1]["failureCode"] == "generic_decline"
    sale.refresh_from_db()
    assert sale.status == "succeeded"


def test_someone_else_gets_an_error_and_no_data(start_server, sale):
    server = start_server()
    browser = Browser(server)
    browser.login("stranger", "pw-stranger")
    with browser.websocket() as ws:
        subscribe(ws, sale.pk)
        message = receive(ws)
        assert message["type"] == "next"
        assert message["payload"]["data"] is None
        assert [e["message"] for e in message["payload"]["errors"]] == ["No such payment, or not yours."]
        assert receive(ws)["type"] == "complete"


def test_anonymous_websocket_gets_an_error(start_server, sale):
    server = start_server()
    with Browser(server).websocket() as ws:
        subscribe(ws, sale.pk)
        message = receive(ws)
        assert message["payload"]["data"] is None
        assert [e["message"] for e in message["payload"]["errors"]] == ["No such payment, or not yours."]


def test_login_over_the_websocket_makes_the_same_viewer(start_server, sale):
    server = start_server()
    with Browser(server).websocket() as ws:
        login = "mutation { login(username: \"owner\", password: \"pw-owner\") { username } }"
        ws.send(json.dumps({"id": "login", "type": "subscribe", "payload": {"query": login}}))
        assert receive(ws)["payload"]["data"] == {"login": {"username": "owner"}}
        assert receive(ws)["type"] == "complete"
        subscribe(ws, sale.pk)
        assert receive(ws)["payload"]["data"]["paymentStatus"]["status"] == "PENDING"
        ws.send(json.dumps({"id": "logout", "type": "subscribe", "payload": {"query": "mutation { logout }"}}))
        assert receive(ws)["payload"]["data"] == {"logout": True}
        assert receive(ws)["type"] == "complete"
        subscribe(ws, sale.pk, op_id="2")
        assert receive(ws)["payload"]["data"] is None


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: two server processes share changes through Redis (runs in CI)")
def test_change_processed_by_one_process_reaches_a_subscriber_of_another(start_server, sale):
    redis = os.environ["REDIS_URL"]
    a, b = start_server(REDIS_URL=redis), start_server(REDIS_URL=redis)
    browser = Browser(a)
    browser.login("owner", "pw-owner")
    with browser.websocket(a) as ws:
        subscribe(ws, sale.pk)
        assert receive(ws)["payload"]["data"]["paymentStatus"]["status"] == "PENDING"
        assert post_webhook(b, make_event("payment_intent.succeeded", intent(sale, "succeeded"))) == 200
        assert receive(ws)["payload"]["data"]["paymentStatus"]["status"] == "SUCCEEDED"
