"""The re-read of a subscription whose event showed another plan or cancel request
than ours (services.subscription_sync): recorded on the row with the event, done
after its commit, left pending when Stripe cannot be read, and never cleared by a
read that began before a newer request. Against the emulator, events delivered
through the webhook endpoint, their commit callbacks run as after a real commit.
(payments_reconcile's reading of the pending ones: test_payments_reconcile.py.)"""

from __future__ import annotations

import dataclasses

import pytest

from payments import gateway
from payments.models import Subscription
from payments.services.subscription_sync import apply_subscription, refresh_subscription
from payments.services.subscriptions import cancel_subscription
from tests.payments.conftest import move_plan_at_stripe, ok_all


@pytest.fixture
def delivered(deliver, django_capture_on_commit_callbacks):
    def run() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            ok_all(deliver())

    return run


def test_a_plan_changed_at_stripe_is_read_after_the_events_commit_and_leaves_no_mark(
    on_basic, monthly, emulator, delivered
):
    move_plan_at_stripe(emulator, on_basic, monthly["full"])
    delivered()
    on_basic.refresh_from_db()
    assert (on_basic.price_id, on_basic.tier_id) == (monthly["full"].pk, monthly["full"].tier_id)
    assert on_basic.stripe_reread_requested_at is None


def test_the_need_is_recorded_with_the_event(on_basic, monthly, emulator, deliver):
    """No commit callback runs: the event's transaction alone leaves the mark."""
    move_plan_at_stripe(emulator, on_basic, monthly["full"])
    ok_all(deliver())
    on_basic.refresh_from_db()
    assert on_basic.stripe_reread_requested_at is not None
    assert on_basic.price_id == monthly["basic"].pk  # an event is a hint: the plan waits for the read


def test_a_reread_that_cannot_reach_stripe_stays_pending(on_basic, monthly, emulator, delivered, reread_unreachable):
    move_plan_at_stripe(emulator, on_basic, monthly["full"])
    delivered()
    on_basic.refresh_from_db()
    assert on_basic.price_id == monthly["basic"].pk
    assert on_basic.stripe_reread_requested_at is not None

    # A later event that agrees with us does not settle it: only a read of Stripe does.
    pending = on_basic.stripe_reread_requested_at
    data = gateway.retrieve_subscription(on_basic.stripe_subscription_id)
    agreeing = dataclasses.replace(data, price=monthly["basic"].stripe_price_id)
    apply_subscription(data=agreeing, snapshot_at=data.created + 1)
    assert Subscription.objects.get(pk=on_basic.pk).stripe_reread_requested_at == pending

    refresh_subscription(subscription=Subscription.objects.get(pk=on_basic.pk))
    on_basic.refresh_from_db()
    assert on_basic.price_id == monthly["full"].pk and on_basic.stripe_reread_requested_at is None


def test_a_later_authoritative_answer_clears_it(on_basic, monthly, emulator, delivered, reread_unreachable, user):
    move_plan_at_stripe(emulator, on_basic, monthly["full"])
    delivered()
    assert Subscription.objects.get(pk=on_basic.pk).stripe_reread_requested_at is not None

    # The customer cancels at the period's end: Stripe's answer is the subscription as it is now.
    cancel_subscription(user=user, subscription_id=str(on_basic.pk))
    on_basic.refresh_from_db()
    assert on_basic.cancel_at_period_end and on_basic.price_id == monthly["full"].pk
    assert on_basic.stripe_reread_requested_at is None


def test_a_read_begun_before_a_newer_request_does_not_clear_it(
    on_basic, monthly, emulator, deliver, delivered, reread_unreachable, monkeypatch
):
    """A re-read is pending; a read of Stripe begins (the plan still Basic there);
    while Stripe answers, the plan moves at Stripe and its event records a newer
    request. The read's answer, older than that, must not clear it."""
    move_plan_at_stripe(emulator, on_basic, monthly["full"])
    delivered()
    move_plan_at_stripe(emulator, on_basic, monthly["basic"])  # and back, before anyone read it
    delivered()
    on_basic.refresh_from_db()
    first_request = on_basic.stripe_reread_requested_at
    assert first_request is not None and on_basic.price_id == monthly["basic"].pk

    real_read = gateway.retrieve_subscription

    def read_while_the_plan_moves(stripe_subscription_id):
        data = real_read(stripe_subscription_id)  # Basic, as Stripe has it now
        monkeypatch.setattr(gateway, "retrieve_subscription", real_read)
        move_plan_at_stripe(emulator, on_basic, monthly["full"])
        ok_all(deliver())  # its event, committed while our read is on its way back
        return data

    monkeypatch.setattr(gateway, "retrieve_subscription", read_while_the_plan_moves)
    refresh_subscription(subscription=on_basic)
    on_basic.refresh_from_db()
    assert on_basic.price_id == monthly["basic"].pk  # the stale answer's plan
    assert on_basic.stripe_reread_requested_at is not None
    assert on_basic.stripe_reread_requested_at > first_request  # the newer request stays

    refresh_subscription(subscription=Subscription.objects.get(pk=on_basic.pk))  # a read begun after it
    on_basic.refresh_from_db()
    assert on_basic.price_id == monthly["full"].pk and on_basic.stripe_reread_requested_at is None
