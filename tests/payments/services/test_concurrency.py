"""What only PostgreSQL can show: row locks under truly concurrent requests."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.test import Client

from events.models import Event
from payments.models import Customer, Payment, WebhookEvent
from payments.services.customers import customer_get_or_create
from payments.services.payments import PayableRef, create_payment_intent
from payments.signals import payment_status_changed
from tests.conftest import WEBHOOK_PATH, make_event, sign
from tests.payments.webhooks.test_views import intent

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (DATABASE_URL): SQLite has no row locks and serializes every writer (runs in CI)",
)


def run_concurrently(n: int, fn):
    barrier = threading.Barrier(n)

    def task(i):
        barrier.wait()
        try:
            return fn(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(task, range(n)))


@pytest.fixture
def sale(transactional_db, django_user_model, catalog):
    user = django_user_model.objects.create_user("alice", email="alice@example.com")
    event = Event.objects.create(user=user, title="Dentist")
    return user, event, catalog["full_eur"]


def test_concurrent_first_requests_create_one_stripe_customer(sale, emulator):
    user, _, _ = sale
    ids = run_concurrently(8, lambda i: customer_get_or_create(user=user).stripe_customer_id)
    assert len(set(ids)) == 1 and ids[0]
    assert Customer.objects.count() == 1
    assert len([e for e in emulator.events() if e.event["type"] == "customer.created"]) == 1


def test_concurrent_create_payment_intent_with_one_key_makes_one_payment_and_one_intent(sale, emulator):
    user, event, price = sale
    results = run_concurrently(
        10,
        lambda i: create_payment_intent(
            user=user, price_id=str(price.pk), payable=PayableRef("event", str(event.pk)), idempotency_key="same"
        ),
    )
    assert len({r.payment.pk for r in results}) == 1
    assert len({r.client_secret for r in results}) == 1
    assert Payment.objects.count() == 1
    assert len([e for e in emulator.events() if e.event["type"] == "payment_intent.created"]) == 1


def test_concurrent_deliveries_of_one_event_change_the_ledger_once(sale):
    user, event, price = sale
    payment = Payment.objects.create(
        user=user, price=price, tier=price.tier, amount=price.unit_amount, currency=price.currency,
        payable_type="event", payable_id=str(event.pk), stripe_payment_intent_id="pi_race",
    )
    fired = []
    receiver = lambda sender, payment, previous_status, **kw: fired.append(payment.status)  # noqa: E731
    payment_status_changed.connect(receiver)
    body = json.dumps(make_event("payment_intent.succeeded", intent(payment, "succeeded")))
    signature = sign(body)
    try:
        statuses = run_concurrently(
            20,
            lambda i: Client().post(WEBHOOK_PATH, data=body, content_type="application/json",
                                    HTTP_STRIPE_SIGNATURE=signature).status_code,
        )
    finally:
        payment_status_changed.disconnect(receiver)
    assert statuses == [200] * 20
    assert fired == ["succeeded"]
    stored = WebhookEvent.objects.get()
    assert (stored.status, stored.attempts) == ("processed", 1)
    payment.refresh_from_db()
    event.refresh_from_db()
    assert payment.status == "succeeded" and event.is_active


def test_concurrent_refunds_never_exceed_the_payment(sale, emulator, django_user_model):
    from django.contrib.auth.models import Permission

    from payments.errors import NotRefundable, RefundExceedsRemaining
    from payments.models import Refund
    from payments.services.refunds import refund_payment

    user, event, price = sale
    result = create_payment_intent(user=user, price_id=str(price.pk), payable=PayableRef("event", str(event.pk)))
    emulator.pay(result.payment.stripe_payment_intent_id)
    from payments import gateway
    from payments.services.payments import apply_payment_intent

    apply_payment_intent(intent=gateway.retrieve_payment_intent(result.payment.stripe_payment_intent_id), snapshot_at=0)
    staff = django_user_model.objects.create_user("cashier", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="add_refund", content_type__app_label="payments"))

    def attempt(i):
        try:
            return refund_payment(actor=staff, payment_id=str(result.payment.pk), amount=1000).refund.amount
        except (RefundExceedsRemaining, NotRefundable) as exc:
            return exc.code

    outcomes = run_concurrently(10, attempt)
    assert sorted(o for o in outcomes if isinstance(o, int)) == [1000, 1000]  # 2999 holds two refunds of 1000
    assert sum(Refund.objects.values_list("amount", flat=True)) == 2000
    assert len([e for e in emulator.events() if e.event["type"] == "refund.created"]) == 2
    payment = Payment.objects.get()
    assert (payment.status, payment.amount_refunded) == ("partially_refunded", 2000)


def test_concurrent_payment_attempts_for_one_payable_leave_one_payable_at_stripe(sale, catalog, emulator):
    """Card form and Checkout page started at once, for two prices, without keys:
    whatever the interleaving, one attempt is left that can take money (a request
    whose payment a newer one closed before its Stripe object existed is told so)."""
    from payments.errors import PayableNotPayable
    from payments.models import PaymentStatus
    from payments.services.checkout import create_checkout_session

    user, event, price = sale
    basic = catalog["basic_eur"]
    payable = PayableRef("event", str(event.pk))

    def attempt(i):
        chosen = price if i % 2 else basic
        try:
            if i % 3:
                return create_payment_intent(user=user, price_id=str(chosen.pk), payable=payable).payment.pk
            return create_checkout_session(
                user=user, price_id=str(chosen.pk), payable=payable,
                success_url="http://localhost:3000/ok", cancel_url="http://localhost:3000/no",
            ).payment.pk
        except PayableNotPayable:
            return "superseded"

    outcomes = run_concurrently(12, attempt)
    assert any(o != "superseded" for o in outcomes)
    live = Payment.objects.exclude(status=PaymentStatus.CANCELED)
    assert live.count() == 1
    # At Stripe too: every other attempt's PaymentIntent is canceled and its page expired.
    for payment in Payment.objects.filter(status=PaymentStatus.CANCELED):
        if payment.stripe_payment_intent_id:
            assert emulator.retrieve(payment.stripe_payment_intent_id)["status"] == "canceled"
        if payment.stripe_checkout_session_id:
            assert emulator.retrieve(payment.stripe_checkout_session_id)["status"] == "expired"
