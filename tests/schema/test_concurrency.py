"""GraphQL mutations hammered through a real Daphne process on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from events.models import Event
from payments.models import Customer, Payment
from tests.live_server import Browser

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (DATABASE_URL): concurrent server-side transactions and row locks (runs in CI)",
)

CREATE = """mutation($input: CreatePaymentIntentInput!) { createPaymentIntent(input: $input) {
  __typename ... on CreatePaymentIntentPayload { clientSecret payment { id } } ... on OperationInfo { messages { code } } } }"""


def test_50_concurrent_create_payment_intent_with_one_key(start_server, django_user_model, catalog, emulator):
    user = django_user_model.objects.create_user("alice", email="alice@example.com", password="pw")
    event = Event.objects.create(user=user, title="Dentist")
    server = start_server()
    browser = Browser(server)
    browser.login("alice", "pw")
    variables = {"input": {"priceId": str(catalog["full_eur"].pk), "payable": {"type": "event", "id": str(event.pk)},
                           "idempotencyKey": "double-click"}}
    barrier = threading.Barrier(50)

    def attempt(_):
        barrier.wait()
        return browser.graphql(CREATE, variables)

    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(attempt, range(50)))
    assert all("errors" not in a for a in answers), [a for a in answers if "errors" in a][:3]
    payloads = [a["data"]["createPaymentIntent"] for a in answers]
    assert {p["__typename"] for p in payloads} == {"CreatePaymentIntentPayload"}, payloads[:3]
    assert len({p["payment"]["id"] for p in payloads}) == 1
    assert len({p["clientSecret"] for p in payloads}) == 1
    assert Payment.objects.count() == 1 and Customer.objects.count() == 1
    assert len([e for e in emulator.events() if e.event["type"] == "payment_intent.created"]) == 1
    assert len([e for e in emulator.events() if e.event["type"] == "customer.created"]) == 1
