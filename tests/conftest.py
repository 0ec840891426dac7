"""Shared fixtures: a fresh Stripe emulator per test (the real stripe library
talks to it through the gateway), signed webhook delivery through the real
endpoint, a GraphQL client, and a small catalog."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from django.test import Client

from payments import gateway
from stripe_emulator import get_emulator
from payments.models import Price, Tier

WEBHOOK_PATH = "/api/payments/webhook/"


@pytest.fixture(autouse=True)
def emulator(tmp_path, settings):
    """Every test starts with an empty Stripe (the emulator on its own file)."""
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_emulator"
    settings.STRIPE_WEBHOOK_SECRET = settings.DEVELOPMENT_WEBHOOK_SECRET
    settings.STRIPE_EMULATOR_DB = str(tmp_path / "stripe-emulator.sqlite3")
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    gateway.reset_client()
    yield get_emulator()
    gateway.reset_client()


class ClientSender:
    """Delivers the emulator's signed events through Django's full request stack."""

    def __init__(self, client: Client):
        self.client = client
        self.responses = []

    def __call__(self, body: bytes, headers: dict[str, str]) -> int:
        response = self.client.post(
            WEBHOOK_PATH,
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"],
        )
        self.responses.append(response)
        return response.status_code


@pytest.fixture
def deliver(emulator, db) -> Callable[[], list[tuple[str, int]]]:
    """Deliver every pending emulator event to our webhook endpoint, in order."""
    sender = ClientSender(Client())
    return lambda: emulator.deliver_pending(sender=sender)


def sign(payload: str, *, secret: str | None = None, timestamp: int | None = None) -> str:
    from django.conf import settings

    return gateway.sign_webhook_payload(payload, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp)


def post_event(client: Client, event: dict, **kwargs):
    body = json.dumps(event)
    return client.post(
        WEBHOOK_PATH, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body, **kwargs)
    )


def make_event(event_type: str, obj: dict, *, created: int | None = None, event_id: str | None = None) -> dict:
    """A Stripe event in the pinned API version's shape, for hand-made deliveries."""
    from itertools import count

    make_event.counter = getattr(make_event, "counter", count(1))
    return {
        "id": event_id or f"evt_test_{next(make_event.counter):06d}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": created if created is not None else int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


class GraphQL:
    def __init__(self, client: Client):
        self.client = client

    def __call__(self, query: str, variables: dict | None = None) -> dict:
        response = self.client.post(
            "/graphql/", data=json.dumps({"query": query, "variables": variables or {}}), content_type="application/json"
        )
        assert response.status_code == 200, response.content
        return response.json()

    def ok(self, query: str, variables: dict | None = None) -> dict:
        result = self(query, variables)
        assert "errors" not in result, result["errors"]
        return result["data"]


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", email="alice@example.com", password="pw-alice")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("mallory", email="mallory@example.com", password="pw-mallory")


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user("staff", email="staff@example.com", password="pw-staff", is_staff=True)


@pytest.fixture
def anon_gql(db) -> GraphQL:
    return GraphQL(Client())


@pytest.fixture
def gql(user) -> GraphQL:
    client = Client()
    client.force_login(user)
    return GraphQL(client)


@pytest.fixture
def gql_as() -> Callable:
    def make(u) -> GraphQL:
        client = Client()
        client.force_login(u)
        return GraphQL(client)

    return make


@pytest.fixture
def catalog(db) -> dict:
    basic = Tier.objects.create(slug="automated", name="Automated", manifest={"email": ["-7d", "-1d"]}, position=1)
    full = Tier.objects.create(slug="full", name="Full Escalation", manifest={"sms": ["-1d"]}, position=2)
    return {
        "basic": basic,
        "full": full,
        "basic_eur": Price.objects.create(tier=basic, currency="eur", unit_amount=999),
        "basic_usd": Price.objects.create(tier=basic, currency="usd", unit_amount=1099),
        "full_eur": Price.objects.create(tier=full, currency="eur", unit_amount=2999),
        "full_monthly": Price.objects.create(
            tier=full, currency="eur", unit_amount=1999, type="recurring", interval="month", interval_count=1
        ),
    }


@pytest.fixture
def start_server(transactional_db, settings, tmp_path):
    """start(**env) -> a real Daphne process on the test database (tests.live_server)."""
    from tests.live_server import server_starter

    start, stop_all = server_starter(settings, tmp_path)
    yield start
    stop_all()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that started Daphne servers shows their logs (the tracebacks of
    what the client saw as "Unexpected error.", a webhook's 500)."""
    outcome = yield
    report = outcome.get_result()
    start = item.funcargs.get("start_server") if report.failed and report.when == "call" else None
    for n, server in enumerate(getattr(start, "servers", ())):
        try:
            report.sections.append((f"daphne-{n} log ({server.log})", server.log_excerpt()))
        except OSError as error:  # the report must not hide the test's own failure
            report.sections.append((f"daphne-{n} log", f"unreadable: {error}"))


@pytest.fixture
def ledger_at_once(monkeypatch):
    """The ledger's rows completed at once instead of after the commit.

    A ``db`` test runs in one transaction that never commits, so the commit
    callback that fetches a ledger row's balance transaction
    (services.ledger.complete_after_commit) never runs there. Tests about the
    ledger's amounts use this; the rule itself (no Stripe call inside the
    webhook's transaction) is tested on real commits in
    tests/payments/webhooks/test_no_stripe_under_lock.py."""
    from payments.services import ledger

    monkeypatch.setattr(ledger, "complete_after_commit", lambda row: ledger.complete(row.pk))
