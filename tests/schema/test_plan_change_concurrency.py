"""changeSubscription hammered through a real Daphne process on PostgreSQL: many
requests for one plan change bill one proration, whatever their keys."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from payments.models import Payment, PlanChange, Price, Subscription
from payments.services import subscriptions as subscription_services
from tests.conftest import ClientSender
from tests.live_server import Browser

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (DATABASE_URL): concurrent server-side transactions and row locks (runs in CI)",
)

CHANGE = """mutation($input: ChangeSubscriptionInput!) { changeSubscription(input: $input) {
  __typename ... on ChangeSubscriptionPayload { clientSecret subscription { tier { slug } } }
  ... on OperationInfo { messages { code } } } }"""


@pytest.mark.parametrize("keys", ["one key", "a key each"])
def test_20_concurrent_changes_to_one_price_bill_one_proration(keys, start_server, django_user_model, catalog, emulator):
    user = django_user_model.objects.create_user("alice", email="alice@example.com", password="pw")
    basic = Price.objects.create(tier=catalog["basic"], currency="eur", unit_amount=999, type="recurring",
                                 interval="month", interval_count=1)
    started = subscription_services.create_subscription(user=user, price_id=str(basic.pk))
    first = Payment.objects.get(payable_type="subscription")
    assert emulator.pay(first.stripe_payment_intent_id)["error"] is None
    results = emulator.deliver_pending(sender=ClientSender(Client()))
    assert all(code == 200 for _, code in results), results
    assert Subscription.objects.get().status == "active"

    server = start_server()
    browser = Browser(server)
    browser.login("alice", "pw")
    barrier = threading.Barrier(20)

    def attempt(i):
        barrier.wait()
        key = "double-click" if keys == "one key" else f"tab-{i}"
        return browser.graphql(CHANGE, {"input": {"subscriptionId": str(started.subscription.pk),
                                                   "priceId": str(catalog["full_monthly"].pk), "idempotencyKey": key}})

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(attempt, range(20)))
    assert all("errors" not in a for a in answers), [a for a in answers if "errors" in a][:3]
    payloads = [a["data"]["changeSubscription"] for a in answers]
    changed = [p for p in payloads if p["__typename"] == "ChangeSubscriptionPayload"]
    refused = [p for p in payloads if p["__typename"] == "OperationInfo"]
    if keys == "one key":
        assert len(changed) == 20 and PlanChange.objects.count() == 1
    else:  # the first changes the plan; the others find it on that price already
        assert len(changed) == 1 and PlanChange.objects.count() == 1
        assert {m["code"] for p in refused for m in p["messages"]} == {"INVALID_INPUT"}
    assert {p["subscription"]["tier"]["slug"] for p in changed} == {"full"}
    prorations = [
        s.event for s in emulator.events()
        if s.event["type"] == "invoice.created" and s.event["data"]["object"]["billing_reason"] == "subscription_update"
    ]
    assert len(prorations) == 1
    assert len([s for s in emulator.events() if s.event["type"] == "charge.succeeded"]) == 2  # the first invoice, the proration
