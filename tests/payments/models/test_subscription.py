import itertools
from datetime import datetime, timezone

import pytest

from payments.models import Invoice, Subscription

S = Subscription.Status


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(1_800_000_000 + seconds, tz=timezone.utc)


def snapshot(status, period_start, *, cancel_at_period_end=False, canceled_at=None):
    return {
        "status": status,
        "current_period_start": at(period_start),
        "current_period_end": at(period_start + 30),
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": at(canceled_at) if canceled_at is not None else None,
        "ended_at": None,
    }


# A subscription's life: created incomplete, paid, renewed, a renewal declined,
# paid again, set to cancel at period end, ended.
LIFE = [
    (snapshot(S.INCOMPLETE, 0), 100),
    (snapshot(S.ACTIVE, 0), 101),
    (snapshot(S.ACTIVE, 30), 130),
    (snapshot(S.PAST_DUE, 60), 160),
    (snapshot(S.ACTIVE, 60), 161),
    (snapshot(S.ACTIVE, 60, cancel_at_period_end=True, canceled_at=170), 170),
    ({**snapshot(S.CANCELED, 60, cancel_at_period_end=True, canceled_at=170), "ended_at": at(90)}, 190),
]


@pytest.mark.parametrize("upto", [2, 5, 6, 7])
def test_every_ordering_of_a_subscriptions_snapshots_ends_the_same(upto):
    events = LIFE[:upto]
    expected = None
    for order in itertools.permutations(events):
        sub = Subscription()
        for fields, created in order:
            sub.apply_snapshot(fields, snapshot_at=created)
        state = (sub.status, sub.current_period_start, sub.cancel_at_period_end, sub.ended_at)
        expected = expected or state
        assert state == expected
    last_fields = events[-1][0]
    assert expected == (last_fields["status"], last_fields["current_period_start"],
                        last_fields["cancel_at_period_end"], last_fields["ended_at"])


def test_same_second_tie_goes_to_the_status_further_along():
    sub = Subscription()
    sub.apply_snapshot(snapshot(S.ACTIVE, 0), snapshot_at=5)
    assert not sub.apply_snapshot(snapshot(S.INCOMPLETE, 0), snapshot_at=5)
    assert sub.status == S.ACTIVE


def test_canceled_is_final():
    sub = Subscription()
    sub.apply_snapshot(snapshot(S.CANCELED, 0), snapshot_at=5)
    assert not sub.apply_snapshot(snapshot(S.ACTIVE, 30), snapshot_at=99)
    assert sub.status == S.CANCELED


def test_invoice_paid_is_final_and_order_proof():
    for order in itertools.permutations([("draft", 1), ("open", 2), ("paid", 3)]):
        invoice = Invoice(currency="eur")
        for status, created in order:
            invoice.apply_snapshot({"status": status}, snapshot_at=created)
        assert invoice.status == "paid"
