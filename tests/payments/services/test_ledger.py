"""The ledger knows every balance transaction type of the pinned API version
(read from stripe-python's typed class), and records one it does not know with
its gross, fee and net instead of failing the webhook that brought it."""

from __future__ import annotations

import logging

import pytest

from events.models import Event
from payments import gateway
from payments.models import Payment, Refund, Transaction, WebhookEvent
from payments.services.ledger import KINDS, kind_of
from payments.services.payments import PayableRef, create_payment_intent

# A db test never commits: the ledger's after-commit completion runs at once (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("ledger_at_once")


@pytest.fixture
def payment(user, catalog, emulator, deliver) -> Payment:
    event = Event.objects.create(user=user, title="Dentist")
    result = create_payment_intent(user=user, price_id=str(catalog["full_eur"].pk), payable=PayableRef("event", str(event.pk)))
    emulator.pay(result.payment.stripe_payment_intent_id)
    assert all(code == 200 for _, code in deliver())
    return Payment.objects.get(pk=result.payment.pk)


def test_every_type_of_the_installed_stripe_python_has_a_kind():
    assert set(KINDS) == gateway.BALANCE_TRANSACTION_TYPES
    assert {"payment", "payment_refund", "payment_failure_refund", "refund_failure", "adjustment"} <= set(KINDS)
    assert kind_of("payment") == Transaction.Type.CHARGE
    assert kind_of("payment_refund") == Transaction.Type.REFUND
    assert kind_of("payment_failure_refund") == Transaction.Type.REFUND_FAILURE
    assert kind_of("adjustment") == Transaction.Type.OTHER
    assert kind_of("a_type_of_2030") == Transaction.Type.UNKNOWN


def _refund_whose_balance_transaction_is(emulator, payment, stripe_type: str) -> dict:
    """A Dashboard refund whose balance transaction Stripe gives ``stripe_type``
    (the emulator's are card ones: "refund")."""
    refund = emulator.dashboard_refund(payment.stripe_payment_intent_id, amount=500)["refund"]
    refund = emulator.retrieve(refund["id"])
    if not refund.get("balance_transaction"):
        emulator.advance_refunds()
        refund = emulator.retrieve(refund["id"])
    with emulator._store.transaction() as tx:
        txn = tx.get(refund["balance_transaction"])
        txn["type"] = txn["reporting_category"] = stripe_type
        tx.put(txn)
    return txn


@pytest.mark.parametrize("stripe_type", ["payment_refund", "a_type_of_2030"])
def test_a_refund_whose_balance_transaction_is_not_a_card_one_does_not_fail_its_webhook(
    emulator, deliver, payment, stripe_type, caplog
):
    txn = _refund_whose_balance_transaction_is(emulator, payment, stripe_type)
    with caplog.at_level(logging.WARNING, logger="payments.services.ledger"):
        statuses = deliver()
    assert statuses and all(code == 200 for _, code in statuses), statuses
    assert not WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED).exists()
    row = Transaction.objects.get(stripe_balance_transaction_id=txn["id"])
    assert (row.stripe_type, row.gross, row.fee, row.net, row.currency) == (
        stripe_type, txn["amount"], txn["fee"], txn["net"], txn["currency"]
    )
    assert row.refund == Refund.objects.get(stripe_refund_id=txn["source"])
    if stripe_type == "payment_refund":
        assert row.type == Transaction.Type.REFUND
    else:
        assert row.type == Transaction.Type.UNKNOWN
        assert "a_type_of_2030" in caplog.text
    payment.refresh_from_db()
    assert payment.amount_refunded == 500
