"""No Stripe call while a row is locked (issue 13, part 2).

A real ``payment_intent.succeeded`` names its ``latest_charge``; the charge's
balance transaction (the ledger's gross, fee and net) used to be fetched from
Stripe inside the webhook's transaction, with the Payment and event rows locked
(13 statements and a Stripe round trip there). It is now fetched after the
commit, completing the ledger row written incomplete in the transaction; when
Stripe cannot be reached then, ``payments_reconcile`` completes it.

These tests run on real transactions (transactional_db), so "inside the
webhook's transaction" is ``connection.in_atomic_block`` and the commit
callbacks run as in production."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client

from events.models import Event
from payments import gateway
from payments.models import Payment, PaymentStatus, Transaction, WebhookEvent
from payments.operations.reconcile import reconcile
from payments.services.payments import PayableRef, create_payment_intent
from tests.conftest import WEBHOOK_PATH

pytestmark = pytest.mark.django_db(transaction=True)

# Statements inside the transaction of a real payment_intent.succeeded, at most
# (8 exactly here): claim the event, lock the payment (+ tier), save it, look
# for / write the charge's incomplete ledger row, lock and activate the event,
# the refunds' sum. (Each admin address to tell of the sale adds its
# Notification row.) After the commit: the Stripe call and one UPDATE.
MAX_IN_TRANSACTION = 8


class Recorder:
    """Every gateway call and SQL statement of one delivery, with whether a
    transaction (so possibly a row lock) was open at the time."""

    def __init__(self, monkeypatch):
        self.calls: list[tuple[str, bool]] = []
        self.statements: list[tuple[str, bool]] = []
        # Every request to Stripe goes through gateway.client.call (one log line, our errors).
        real_call = gateway.client.call

        def call(fn, *args, **kwargs):
            owner = getattr(fn, "__self__", None)
            self.calls.append((f"{type(owner).__name__}.{fn.__name__}", connection.in_atomic_block))
            return real_call(fn, *args, **kwargs)

        monkeypatch.setattr(gateway.client, "call", call)

    def __call__(self, execute, sql, params, many, context):
        self.statements.append((sql, connection.in_atomic_block))
        return execute(sql, params, many, context)

    def reset(self):
        self.calls.clear()
        self.statements.clear()

    @property
    def in_transaction(self) -> list[str]:
        return [sql for sql, atomic in self.statements if atomic]


@pytest.fixture
def recorder(monkeypatch):
    return Recorder(monkeypatch)


@pytest.fixture
def paid(user, catalog, emulator):
    """A payment whose intent the customer paid at Stripe: the events are pending."""
    event = Event.objects.create(user=user, title="Dentist")
    result = create_payment_intent(user=user, price_id=str(catalog["full_eur"].pk), payable=PayableRef("event", str(event.pk)))
    emulator.pay(result.payment.stripe_payment_intent_id)
    return result.payment


def deliver_recording(emulator, recorder, only: str) -> dict[str, int]:
    """Deliver every pending event; record the one of type ``only``."""
    client = Client()
    statuses = {}

    def send(body: bytes, headers: dict[str, str]) -> int:
        kind = json.loads(body)["type"]
        if kind == only:
            recorder.reset()
            with connection.execute_wrapper(recorder):
                response = client.post(WEBHOOK_PATH, data=body, content_type="application/json",
                                       HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"])
        else:
            response = client.post(WEBHOOK_PATH, data=body, content_type="application/json",
                                   HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"])
        statuses[kind] = response.status_code
        return response.status_code

    emulator.deliver_pending(sender=send)
    return statuses


def test_a_real_succeeded_event_calls_stripe_only_after_its_commit(paid, emulator, recorder):
    succeeded = [e.event for e in emulator.events() if e.event["type"] == "payment_intent.succeeded"]
    assert succeeded and succeeded[0]["data"]["object"]["latest_charge"]  # a real one

    statuses = deliver_recording(emulator, recorder, "payment_intent.succeeded")

    assert statuses["payment_intent.succeeded"] == 200
    assert recorder.calls == [("ChargeService.retrieve", False)]  # the balance transaction, after the commit
    assert len(recorder.in_transaction) <= MAX_IN_TRANSACTION, recorder.in_transaction
    after = [sql for sql, atomic in recorder.statements if not atomic and sql.startswith("UPDATE")]
    assert len(after) == 1 and "payments_transaction" in after[0]  # the row completed after the commit
    payment = Payment.objects.get(pk=paid.pk)
    assert payment.status == PaymentStatus.SUCCEEDED
    row = Transaction.objects.get(payment=payment)
    assert (row.type, row.gross, row.fee, row.net, row.currency) == ("charge", 2999, 117, 2882, "eur")
    assert row.stripe_source_id == succeeded[0]["data"]["object"]["latest_charge"]
    assert row.stripe_balance_transaction_id.startswith("txn_")


def test_stripe_unreachable_after_the_commit_leaves_the_row_incomplete_for_reconcile(paid, emulator, recorder):
    emulator.inject_fault("connection_error", path_prefix="/v1/charges")
    statuses = deliver_recording(emulator, recorder, "payment_intent.succeeded")

    # The payment is paid and its event processed: the ledger's amounts are what waits.
    assert statuses["payment_intent.succeeded"] == 200
    assert Payment.objects.get(pk=paid.pk).status == PaymentStatus.SUCCEEDED
    assert WebhookEvent.objects.get(type="payment_intent.succeeded").status == WebhookEvent.Status.PROCESSED
    row = Transaction.objects.get(payment=paid)
    assert (row.is_complete, row.gross, row.stripe_balance_transaction_id) == (False, None, None)

    report = reconcile(since=row.recorded_at)
    assert [(o.action, o.subject) for o in report.outcomes if o.action == "ledger.completed"] == [
        ("ledger.completed", f"ledger row {row.pk} (charge of payment {paid.pk})")
    ]
    row.refresh_from_db()
    assert (row.gross, row.fee, row.net) == (2999, 117, 2882)
    assert Transaction.objects.count() == 1
    # Done once: a second reconcile has nothing to complete.
    assert not [o for o in reconcile(since=row.recorded_at).outcomes if o.subject.startswith("ledger row")]


def test_the_push_leaves_before_the_ledgers_stripe_call(paid, emulator, recorder, monkeypatch):
    """The commit's callbacks run in the order they were registered: the payment's
    push is registered first, so a subscriber hears of the success without waiting
    for the balance transaction's round trip to Stripe (nor the sale's notifications)."""
    from channels.layers import get_channel_layer

    from payments.live import payment_group

    layer = get_channel_layer()
    real_group_send = layer.group_send

    async def group_send(group, message):
        recorder.calls.append((f"push {group}", connection.in_atomic_block))
        return await real_group_send(group, message)

    monkeypatch.setattr(layer, "group_send", group_send)
    statuses = deliver_recording(emulator, recorder, "payment_intent.succeeded")

    assert statuses["payment_intent.succeeded"] == 200
    assert recorder.calls == [(f"push {payment_group(paid.pk)}", False), ("ChargeService.retrieve", False)]
