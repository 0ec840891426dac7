"""Helpers for the operations commands' tests: run a command, pay without delivering."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from events.models import Event
from payments.models import Payment, PaymentStatus
from payments.services.payments import PayableRef, create_payment_intent


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
