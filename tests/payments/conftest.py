"""Helpers for the operations commands' tests: run a command, pay without delivering;
a running subscription whose plan is moved at Stripe (its re-read, tests/payments/services
and payments_reconcile's)."""

from __future__ import annotations

import io
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from events.models import Event
from payments.models import Payment, PaymentStatus, Price, Subscription
from payments.services.catalog import price_ensure_at_stripe
from payments.services.payments import PayableRef, create_payment_intent
from payments.services.subscriptions import create_subscription


class Ran:
    def __init__(self, out: str, err: str, error: CommandError | None):
        self.out, self.err, self.error = out, err, error

    def __repr__(self) -> str:
        return f"<Ran error={self.error!r}\n{self.out}\n{self.err}>"


def run(name: str, *args: str, fails: bool = False) -> Ran:
    """``manage.py name args``; ``fails``: it must end with a CommandError (a non-zero exit)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
    except CommandError as exc:
        ran = Ran(out.getvalue(), err.getvalue(), exc)
        assert fails, ran
        return ran
    ran = Ran(out.getvalue(), err.getvalue(), None)
    assert not fails, f"expected a failure: {ran!r}"
    return ran


@pytest.fixture
def start(user, catalog) -> Callable[..., Payment]:
    """A payment for a new event of the user, its PaymentIntent created, not paid."""

    def make(price_key: str = "full_eur") -> Payment:
        event = Event.objects.create(user=user, title="Dentist")
        price = catalog[price_key]
        return create_payment_intent(user=user, price_id=str(price.pk), payable=PayableRef("event", str(event.pk))).payment

    return make


@pytest.fixture
def paid_undelivered(start, emulator) -> Callable[..., Payment]:
    """Paid at Stripe, but none of its webhooks reached us."""

    def make(card: str = "4242424242424242") -> Payment:
        payment = start()
        result = emulator.pay(payment.stripe_payment_intent_id, card)
        assert result["error"] is None, result
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.PENDING
        return payment

    return make


def ok_all(results) -> None:
    assert results and all(code == 200 for _, code in results), results


@pytest.fixture
def monthly(catalog) -> dict[str, Price]:
    basic = Price.objects.create(
        tier=catalog["basic"], currency="eur", unit_amount=999, type="recurring", interval="month", interval_count=1
    )
    return {"basic": basic, "full": catalog["full_monthly"]}


@pytest.fixture
def on_basic(user, monthly, emulator, deliver, django_capture_on_commit_callbacks) -> Subscription:
    """ACTIVE on the Basic monthly plan, its events delivered and their commit callbacks run."""
    subscription = create_subscription(user=user, price_id=str(monthly["basic"].pk)).subscription
    first = Payment.objects.get(payable_type="subscription")
    assert emulator.pay(first.stripe_payment_intent_id)["error"] is None
    with django_capture_on_commit_callbacks(execute=True):
        ok_all(deliver())
    subscription.refresh_from_db()
    assert (subscription.status, subscription.price_id) == ("active", monthly["basic"].pk)
    assert subscription.stripe_reread_requested_at is None
    return subscription


def move_plan_at_stripe(emulator, subscription: Subscription, price: Price) -> None:
    """A plan change made at Stripe itself (the Dashboard), billed and applied at once:
    only its events (not delivered yet) tell us."""
    stripe_id = subscription.stripe_subscription_id
    item = emulator.retrieve(stripe_id)["items"]["data"][0]["id"]
    stripe_price = price_ensure_at_stripe(price=price)
    body, status, _ = emulator.handle_http(
        "POST", f"https://api.stripe.com/v1/subscriptions/{stripe_id}", {},
        urlencode({"items[0][id]": item, "items[0][price]": stripe_price, "proration_behavior": "always_invoice"}),
    )
    assert status == 200, body
    assert emulator.retrieve(stripe_id)["items"]["data"][0]["price"]["id"] == stripe_price


@pytest.fixture
def reread_unreachable(monkeypatch, emulator):
    """Each re-read after an event's commit finds Stripe unreachable (a connection error
    for its one request); any other read of Stripe goes through."""
    from payments.services import subscription_sync

    real = subscription_sync._reread

    def unreachable(stripe_subscription_id: str) -> None:
        emulator.inject_fault("connection_error", path_prefix=f"/v1/subscriptions/{stripe_subscription_id}")
        real(stripe_subscription_id)

    monkeypatch.setattr(subscription_sync, "_reread", unreachable)
