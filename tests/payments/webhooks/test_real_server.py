"""The webhook endpoint of a real Daphne process on PostgreSQL: a storm of
concurrent deliveries of one event, and a server killed between storing an
event and processing it."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from events.models import Event
from payments.models import Notification, Payment, Transaction, WebhookEvent
from payments.services.payments import PayableRef, create_payment_intent
from tests.conftest import sign

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (DATABASE_URL): concurrent server-side transactions and row locks (runs in CI)",
)


def deliver_http(base: str, body: str, timeout: float = 60) -> int:
    request = urllib.request.Request(
        f"{base}/api/payments/webhook/", data=body.encode(),
        headers={"Content-Type": "application/json", "Stripe-Signature": sign(body)},
    )
    try:
        return urllib.request.urlopen(request, timeout=timeout).status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:  # no answer at all (the server is gone)
        return 0


@pytest.fixture
def paid_at_stripe(django_user_model, catalog, emulator):
    """A payment paid at Stripe (the emulator), its webhooks not delivered yet."""
    user = django_user_model.objects.create_user("alice", email="alice@example.com")
    event = Event.objects.create(user=user, title="Dentist")
    payment = create_payment_intent(user=user, price_id=str(catalog["full_eur"].pk), payable=PayableRef("event", str(event.pk))).payment
    emulator.pay(payment.stripe_payment_intent_id)
    succeeded = next(e.event for e in emulator.events() if e.event["type"] == "payment_intent.succeeded")
    return payment, event, json.dumps(succeeded)


def test_200_concurrent_deliveries_of_one_event_change_the_ledger_once(start_server, paid_at_stripe):
    payment, event, body = paid_at_stripe
    server = start_server(ADMIN_NOTIFY_EMAILS="boss@example.com")
    barrier = threading.Barrier(200)

    def deliver(_):
        barrier.wait()
        return deliver_http(server.base, body)

    with ThreadPoolExecutor(200) as pool:
        statuses = Counter(pool.map(deliver, range(200)))
    assert statuses == Counter({200: 200}), (statuses, server.log.read_text()[-3000:])
    payment.refresh_from_db()
    event.refresh_from_db()
    assert payment.status == "succeeded" and event.is_active
    assert Notification.objects.filter(payment=payment).count() == 1
    assert Transaction.objects.filter(payment=payment, type="charge").count() == 1
    stored = WebhookEvent.objects.get()
    assert (stored.status, stored.attempts) == ("processed", 1)


def test_a_server_killed_between_storing_and_processing_processes_the_redelivery_once(start_server, paid_at_stripe):
    payment, event, body = paid_at_stripe
    server = start_server(ADMIN_NOTIFY_EMAILS="boss@example.com")
    result = {}
    # Hold the payment's row so the server stores the event, then waits inside its transaction.
    with transaction.atomic():
        Payment.objects.select_for_update().get(pk=payment.pk)
        sender = threading.Thread(target=lambda: result.setdefault("status", deliver_http(server.base, body, timeout=30)))
        sender.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:  # read committed: the stored row is visible
                cursor.execute("SELECT status FROM payments_webhookevent")
                rows = cursor.fetchall()
            if rows:
                break
            time.sleep(0.05)
        assert rows == [("received",)], "the event is stored before it is processed"
        server.kill()  # the crash: no response, no rollback handler, the transaction dies with the connection
    sender.join(30)
    assert result.get("status") != 200
    assert WebhookEvent.objects.get().status == "received"
    assert Payment.objects.get(pk=payment.pk).status == "pending"

    # Stripe redelivers (to a new server process): processed exactly once.
    again = start_server(ADMIN_NOTIFY_EMAILS="boss@example.com")
    assert deliver_http(again.base, body) == 200
    assert deliver_http(again.base, body) == 200
    stored = WebhookEvent.objects.get()
    assert (stored.status, stored.attempts) == ("processed", 1)
    payment.refresh_from_db()
    event.refresh_from_db()
    assert payment.status == "succeeded" and event.is_active
    assert Notification.objects.filter(payment=payment).count() == 1
    assert Transaction.objects.filter(payment=payment).count() == 1
