"""services/subscriptions.py: the subscription Checkout pages a user opens, kept
as SubscriptionCheckoutAttempt rows (the public behaviour is asserted in
tests/schema/test_subscriptions.py; this is what the rows remember)."""

from __future__ import annotations

import pytest

from payments import gateway
from payments.errors import IdempotencyConflict
from payments.models import Customer, SubscriptionCheckoutAttempt
from payments.services.subscriptions import create_subscription, start_subscription_checkout
from tests.schema.test_subscriptions import other_monthly

URLS = {"success_url": "http://localhost:3000/paid", "cancel_url": "http://localhost:3000/cart"}


def page(user, price, key=None, **urls):
    return start_subscription_checkout(user=user, price_id=str(price.pk), idempotency_key=key, **{**URLS, **urls})


def attempts(user):
    return list(
        SubscriptionCheckoutAttempt.objects.filter(customer__user=user)
        .order_by("created_at", "id")
        .values_list("stripe_checkout_session_id", "idempotency_key", "status")
    )


def test_each_page_opened_is_an_attempt_with_its_key_and_fingerprint(user, catalog, emulator):
    first = page(user, catalog["full_monthly"], "k1")
    attempt = SubscriptionCheckoutAttempt.objects.get()
    assert (attempt.customer, attempt.stripe_checkout_session_id) == (Customer.objects.get(user=user), first.id)
    assert attempt.idempotency_key == "k1" and len(attempt.request_fingerprint) == 64
    assert page(user, catalog["full_monthly"], "k1").id == first.id
    assert SubscriptionCheckoutAttempt.objects.count() == 1  # a replay records nothing


def test_the_open_page_reused_under_another_key_is_recorded_for_that_key(user, catalog, emulator):
    first = page(user, catalog["full_monthly"], "k1")
    assert page(user, catalog["full_monthly"], "k2").id == first.id
    assert page(user, catalog["full_monthly"]).id == first.id  # without a key: nothing to remember
    assert attempts(user) == [(first.id, "k1", "open"), (first.id, "k2", "open")]
    with pytest.raises(IdempotencyConflict):
        page(user, other_monthly(catalog), "k2")


def test_a_key_replays_its_own_page_after_a_newer_one_closed_it(user, catalog, emulator):
    """Replay answers the first answer: the page the key opened, now expired,
    never a new page under an old key."""
    first = page(user, catalog["full_monthly"], "k1")
    second = page(user, other_monthly(catalog), "k2")
    assert second.id != first.id
    again = page(user, catalog["full_monthly"], "k1")
    assert (again.id, again.status) == (first.id, "expired")
    assert attempts(user) == [(first.id, "k1", "expired"), (second.id, "k2", "open")]


def test_a_page_seen_expired_is_not_read_from_stripe_again(user, catalog, emulator, monkeypatch):
    first = page(user, catalog["full_monthly"])
    created = create_subscription(user=user, price_id=str(other_monthly(catalog).pk))  # expires the page
    assert emulator.retrieve(first.id)["status"] == "expired" and attempts(user) == [(first.id, None, "expired")]
    read = []
    real = gateway.retrieve_checkout_session
    monkeypatch.setattr(gateway, "retrieve_checkout_session", lambda session_id: read.append(session_id) or real(session_id))
    second = page(user, catalog["full_monthly"])
    assert second.id != first.id and first.id not in read
    assert emulator.retrieve(created.subscription.stripe_subscription_id)["status"] == "canceled"
