"""The one idempotency helper every money mutation uses, on a real model
(Subscription: scope ``user``; Refund's ``requested_by`` is the same code)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from payments.errors import IdempotencyConflict, InvalidInput
from payments.models import Subscription
from payments.services.idempotency import (
    Scope,
    check_idempotency_key,
    idempotent_request,
    request_fingerprint,
    stripe_key,
)

SUBSCRIPTIONS = Scope(Subscription, owner="user")


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice")


@pytest.fixture
def price(catalog):
    return catalog["full_monthly"]


def request(user, key, *, price_id="1"):
    return idempotent_request(SUBSCRIPTIONS, user=user, key=key, operation="createSubscription", price=price_id)


def create(req, price):
    return req.create(user=req.user, price=price, tier=price.tier)


# ------------------------------------------------ fingerprint and key


def test_the_fingerprint_is_the_same_for_the_same_input_in_any_order_and_64_hex_characters():
    one = request_fingerprint("refund", amount=5, description="x" * 5000)
    assert one == request_fingerprint("refund", description="x" * 5000, amount=5)
    assert len(one) == 64 and int(one, 16) >= 0


def test_the_fingerprint_tells_operations_and_inputs_apart():
    base = request_fingerprint("createCheckoutSession", price="1")
    assert base != request_fingerprint("createPaymentIntent", price="1")
    assert base != request_fingerprint("createCheckoutSession", price="2")
    assert base != request_fingerprint("createCheckoutSession", price="1", payable=None)


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_a_key_of_no_or_more_than_255_characters_is_invalid_input(key):
    with pytest.raises(InvalidInput) as caught:
        check_idempotency_key(key)
    assert caught.value.field == "idempotencyKey"


def test_a_key_of_255_characters_or_none_is_accepted(db, alice):
    check_idempotency_key("k" * 255)
    check_idempotency_key(None)
    with pytest.raises(InvalidInput):
        request(alice, "")


# ------------------------------------------------ earlier attempts


def test_without_a_key_there_is_no_earlier_attempt_and_every_request_creates_one(alice, price):
    first, made_first = create(request(alice, None), price)
    second, made_second = create(request(alice, None), price)
    assert made_first and made_second and first.pk != second.pk
    assert request(alice, None).earlier() is None
    assert first.idempotency_key is None and first.request_fingerprint == request(alice, None).fingerprint


def test_the_same_key_with_the_same_input_finds_the_first_attempt(alice, price):
    first, _ = create(request(alice, "k1"), price)
    assert request(alice, "k1").earlier() == first
    assert request(alice, "k2").earlier() is None


def test_the_same_key_with_other_input_is_a_conflict(alice, price):
    create(request(alice, "k1"), price)
    with pytest.raises(IdempotencyConflict) as caught:
        request(alice, "k1", price_id="2").earlier()
    assert caught.value.field == "idempotencyKey"


def test_keys_are_scoped_to_the_user(alice, price, django_user_model):
    bob = django_user_model.objects.create_user("bob")
    mine, _ = create(request(alice, "k1"), price)
    assert request(bob, "k1", price_id="2").earlier() is None  # no conflict with alice's key
    theirs, made = create(request(bob, "k1", price_id="2"), price)
    assert made and theirs.pk != mine.pk and theirs.user == bob


# ------------------------------------------------ the insert that loses a race


def test_an_insert_that_loses_to_the_same_key_replays_the_winner(alice, price):
    """What a request that checked before the winner committed meets: the unique
    constraint, answered with the winner's attempt."""
    winner, _ = create(request(alice, "k1"), price)
    with transaction.atomic():
        again, made = create(request(alice, "k1"), price)
        assert Subscription.objects.count() == 1  # the caller's transaction goes on
    assert (again, made) == (winner, False)


def test_an_insert_that_loses_to_the_same_key_with_other_input_is_a_conflict(alice, price):
    create(request(alice, "k1"), price)
    with pytest.raises(IdempotencyConflict):
        create(request(alice, "k1", price_id="2"), price)
    assert Subscription.objects.count() == 1


def test_another_constraint_is_not_answered_as_a_replay(alice, price):
    Subscription.objects.create(user=alice, price=price, tier=price.tier, stripe_subscription_id="sub_1")
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            request(alice, "k1").create(user=alice, price=price, tier=price.tier, stripe_subscription_id="sub_1")
        # Only the savepoint was rolled back: the caller's transaction is usable.
        assert Subscription.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL): concurrent writers")
def test_concurrent_inserts_with_one_key_make_one_attempt(transactional_db, django_user_model, catalog):
    from tests.payments.services.test_concurrency import run_concurrently

    user = django_user_model.objects.create_user("carol")
    price = catalog["full_monthly"]

    def attempt(i):
        with transaction.atomic():
            row, made = create(request(user, "double-click"), price)
            return row.pk, made

    results = run_concurrently(8, attempt)
    assert len({pk for pk, _ in results}) == 1
    assert sorted(made for _, made in results) == [False] * 7 + [True]
    assert Subscription.objects.count() == 1


# ------------------------------------------------ Stripe's keys


def test_stripe_keys_name_the_row_and_the_call():
    assert stripe_key("payment", "0b7c", "intent") == "payment-0b7c-intent"
    assert stripe_key("payment", 7, "checkout", "after", "none") == "payment-7-checkout-after-none"
    assert stripe_key("refund", 12) == "refund-12"
    assert stripe_key("subscription", 3, "closed-refund", "pay_9") == "subscription-3-closed-refund-pay_9"
