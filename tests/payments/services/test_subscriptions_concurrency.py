"""A user's subscription starts under truly concurrent requests: what only PostgreSQL
can show (row locks). Each start runs under the user's Customer row lock."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from payments import gateway
from payments.errors import AlreadySubscribed
from payments.models import Customer, Price, Subscription
from payments.services.subscriptions import (
    create_subscription,
    start_subscription_checkout,
)
from tests.payments.services.test_concurrency import run_concurrently

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (DATABASE_URL): SQLite has no row locks and serializes every writer (runs in CI)",
)

URLS = {"success_url": "http://localhost:3000/paid", "cancel_url": "http://localhost:3000/cart"}


@pytest.fixture
def shop(transactional_db, django_user_model, catalog):
    user = django_user_model.objects.create_user("alice", email="alice@example.com")
    basic_monthly = Price.objects.create(
        tier=catalog["basic"], currency="eur", unit_amount=999, type="recurring", interval="month", interval_count=1
    )
    return user, [catalog["full_monthly"], basic_monthly]


def stripe_list(emulator, path: str) -> list[dict]:
    body, status, _ = emulator.handle_http(
        "GET", f"https://api.stripe.com{path}", {"Authorization": f"Bearer {gateway.NO_SECRET_KEY}"}, None
    )
    assert status == 200, body
    return json.loads(body)["data"]


def start(user, price):
    try:
        return create_subscription(user=user, price_id=str(price.pk))
    except AlreadySubscribed as exc:
        return exc.code


def test_concurrent_starts_for_one_price_make_one_subscription(shop, emulator):
    user, (monthly, _) = shop
    results = run_concurrently(8, lambda i: start(user, monthly))
    assert len({r.subscription.pk for r in results}) == 1
    assert len({r.client_secret for r in results}) == 1 and results[0].client_secret
    assert Subscription.objects.count() == 1 and Customer.objects.count() == 1
    assert len([e for e in emulator.events() if e.event["type"] == "customer.subscription.created"]) == 1


def test_concurrent_starts_for_two_prices_leave_exactly_one_that_can_be_paid(shop, emulator):
    user, prices = shop
    results = run_concurrently(8, lambda i: start(user, prices[i % 2]))
    assert all(not isinstance(r, str) for r in results), results  # nothing runs yet: nobody is refused
    open_rows = Subscription.objects.filter(status="incomplete")
    assert open_rows.count() == 1
    customer = Customer.objects.get(user=user).stripe_customer_id
    at_stripe = stripe_list(emulator, f"/v1/subscriptions?customer={customer}&status=all&limit=100")
    assert [s["id"] for s in at_stripe if s["status"] == "incomplete"] == [open_rows.get().stripe_subscription_id]
    # Every other row is closed, here and (if it got there) at Stripe.
    assert set(Subscription.objects.exclude(status="incomplete").values_list("status", "closed_reason")) == {
        ("canceled", "superseded")
    }
    assert all(s["status"] == "canceled" for s in at_stripe if s["id"] != open_rows.get().stripe_subscription_id)


def test_concurrent_starts_after_one_runs_are_all_already_subscribed(shop, emulator):
    user, prices = shop
    first = create_subscription(user=user, price_id=str(prices[0].pk))
    emulator.pay(gateway.retrieve_invoice(emulator.retrieve(first.subscription.stripe_subscription_id)["latest_invoice"]).payment_intent)
    from payments.services.subscription_sync import refresh_subscription

    assert refresh_subscription(subscription=first.subscription).status == "active"
    results = run_concurrently(8, lambda i: start(user, prices[i % 2]))
    assert results == ["already_subscribed"] * 8
    assert Subscription.objects.count() == 1


def test_concurrent_subscription_checkouts_leave_one_open_page(shop, emulator):
    user, prices = shop

    def open_page(i):
        return start_subscription_checkout(user=user, price_id=str(prices[i % 2].pk), idempotency_key=None, **URLS).id

    pages = run_concurrently(8, open_page)
    customer = Customer.objects.get(user=user)
    still_open = stripe_list(emulator, f"/v1/checkout/sessions?customer={customer.stripe_customer_id}&status=open&limit=100")
    assert len(still_open) == 1 and still_open[0]["id"] in pages
    assert customer.subscription_checkout_attempts.order_by("-created_at", "-id").first().stripe_checkout_session_id == still_open[0]["id"]


@pytest.mark.parametrize("attempt", range(3))
def test_an_invoice_and_its_subscription_delivered_at_once_end_linked_with_one_payment(attempt, shop, emulator):
    """The events of a subscription made in the Dashboard and of its paid first invoice,
    all delivered at the same moment: the invoice ends linked, with one Payment."""
    from django.test import Client

    from payments.models import Invoice, Payment
    from tests.conftest import post_event
    from tests.schema.test_subscriptions import LIFE_WITH_INVOICES, dashboard_subscription, events_of, first_invoice_intent

    user, (monthly, _) = shop
    stripe_id = dashboard_subscription(emulator, user, monthly)
    assert emulator.pay(first_invoice_intent(emulator, stripe_id))["error"] is None
    events = events_of(emulator, LIFE_WITH_INVOICES)
    statuses = run_concurrently(len(events), lambda i: post_event(Client(), events[i]).status_code)
    assert statuses == [200] * len(events)
    subscription = Subscription.objects.get()
    invoice = Invoice.objects.get()
    assert (subscription.status, invoice.status, invoice.subscription_id) == ("active", "paid", subscription.pk)
    payment = Payment.objects.get()
    assert (payment.status, payment.payable_id) == ("succeeded", str(subscription.pk))
