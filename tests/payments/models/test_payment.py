import itertools

import pytest

from payments.models import Payment, PaymentStatus

S = PaymentStatus


def fresh() -> Payment:
    return Payment(amount=100, currency="eur")


def test_status_follows_the_newest_snapshot():
    p = fresh()
    assert p.apply_intent_status("requires_action", snapshot_at=10)
    assert p.status == S.REQUIRES_ACTION
    assert p.apply_intent_status("processing", snapshot_at=11)
    assert p.status == S.PROCESSING


def test_a_late_older_snapshot_changes_nothing():
    p = fresh()
    p.apply_intent_status("processing", snapshot_at=20)
    assert not p.apply_intent_status("requires_action", snapshot_at=10)
    assert p.status == S.PROCESSING


@pytest.mark.parametrize("late", ["processing", "requires_action", "requires_payment_method", "canceled"])
def test_succeeded_is_never_left(late):
    p = fresh()
    p.apply_intent_status("succeeded", snapshot_at=10)
    assert not p.apply_intent_status(late, snapshot_at=99)
    assert p.status == S.SUCCEEDED


def test_requires_payment_method_with_an_error_is_failed_and_keeps_the_code():
    p = fresh()
    p.apply_intent_status("requires_payment_method", snapshot_at=5, failure_code="insufficient_funds", failure_message="No money")
    assert (p.status, p.failure_code, p.failure_message) == (S.FAILED, "insufficient_funds", "No money")
    # The customer retries with another card on the same payment.
    p.apply_intent_status("succeeded", snapshot_at=6)
    assert p.status == S.SUCCEEDED
    assert p.failure_code == "insufficient_funds"  # the last failed attempt's code stays readable


def test_same_second_tie_goes_to_the_status_further_along():
    p = fresh()
    p.apply_intent_status("processing", snapshot_at=7)
    assert not p.apply_intent_status("requires_action", snapshot_at=7)
    assert p.status == S.PROCESSING


def test_unknown_stripe_status_is_refused():
    with pytest.raises(ValueError):
        fresh().apply_intent_status("weird", snapshot_at=1)


SNAPSHOTS = [
    ("requires_action", 1, ""),
    ("requires_payment_method", 2, "card_declined"),
    ("processing", 3, ""),
    ("succeeded", 4, ""),
]


@pytest.mark.parametrize("order", list(itertools.permutations(SNAPSHOTS)))
def test_every_ordering_reaches_the_same_state(order):
    p = fresh()
    for status, at, code in order:
        p.apply_intent_status(status, snapshot_at=at, failure_code=code)
    assert (p.status, p.failure_code) == (S.SUCCEEDED, "card_declined")


def test_an_authoritative_snapshot_decides_a_same_second_tie():
    p = fresh()
    p.apply_intent_status("processing", snapshot_at=7)
    assert p.snapshot_is_ambiguous("requires_payment_method", snapshot_at=7, failure_code="card_declined")
    assert p.apply_intent_status("requires_payment_method", snapshot_at=7, failure_code="card_declined", authoritative=True)
    assert p.status == S.FAILED
    assert not p.snapshot_is_ambiguous("processing", snapshot_at=8)
