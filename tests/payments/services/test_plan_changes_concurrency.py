"""Plan changes of two users at once, on PostgreSQL (row locks): one user's change
never waits for another's, whatever prices they move between.

A change locks the user's Customer row and the Subscription row (the lock order of
services/subscriptions.py), and nothing else: a SELECT ... FOR UPDATE that joins
the subscription's Price (``select_related``) without ``of=("self",)`` also locks
that Price row, which every subscriber of the price shares. Two users moving in
opposite directions (A from P to Q, B from Q to P) then each held their current
price and waited, at the INSERT of their PlanChange (a foreign key check: a KEY
SHARE lock on the new price), for the other's: PostgreSQL aborted one with
"deadlock detected" (40P01), which the client saw as "Unexpected error."."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from payments.models import Payment, PlanChange, Price, Subscription
from payments.services import plan_changes
from payments.services import subscriptions as subscription_services
from payments.services.idempotency import IdempotentRequest
from tests.payments.services.test_concurrency import run_concurrently

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (DATABASE_URL): SQLite has no row locks and serializes every writer (runs in CI)",
)


def subscribed(django_user_model, emulator, deliver, name: str, price: Price) -> Subscription:
    user = django_user_model.objects.create_user(name, email=f"{name}@example.com")
    started = subscription_services.create_subscription(user=user, price_id=str(price.pk))
    first = Payment.objects.get(payable_type="subscription", user=user)
    assert emulator.pay(first.stripe_payment_intent_id)["error"] is None
    assert all(code == 200 for _, code in deliver()), "the first invoice's events"
    subscription = Subscription.objects.get(pk=started.subscription.pk)
    assert subscription.status == "active"
    return subscription


def test_two_users_swapping_prices_at_once_both_change(transactional_db, django_user_model, catalog, emulator,
                                                      deliver, monkeypatch):
    p = Price.objects.create(tier=catalog["basic"], currency="eur", unit_amount=999, type="recurring",
                             interval="month", interval_count=1)
    q = catalog["full_monthly"]
    a = subscribed(django_user_model, emulator, deliver, "alice", p)
    b = subscribed(django_user_model, emulator, deliver, "bob", q)

    # Both changes hold their locks (Customer, Subscription) before either writes its
    # PlanChange: the interleaving in which locking a price deadlocked, every time.
    both_locked = threading.Barrier(2, timeout=20)
    create = IdempotentRequest.create

    def create_when_both_locked(self, **fields):
        if self.scope is plan_changes.PLAN_CHANGES:
            both_locked.wait()
        return create(self, **fields)

    monkeypatch.setattr(IdempotentRequest, "create", create_when_both_locked)
    moves = [(a, q), (b, p)]

    def change(i):
        subscription, price = moves[i]
        try:
            return plan_changes.change_subscription(
                user=subscription.user, subscription_id=str(subscription.pk), price_id=str(price.pk)
            )
        except Exception as exc:  # what the resolver would have masked as "Unexpected error."
            return exc

    results = run_concurrently(2, change)
    failures = [f"{type(r).__name__}: {r}" for r in results if not isinstance(r, plan_changes.PlanChangeResult)]
    assert not failures, failures
    assert Subscription.objects.get(pk=a.pk).price_id == q.pk
    assert Subscription.objects.get(pk=b.pk).price_id == p.pk
    assert PlanChange.objects.count() == 2
    prorations = [
        s.event for s in emulator.events()
        if s.event["type"] == "invoice.created" and s.event["data"]["object"]["billing_reason"] == "subscription_update"
    ]
    assert len(prorations) == 2
