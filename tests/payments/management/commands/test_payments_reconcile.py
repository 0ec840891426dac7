"""payments_reconcile: events never delivered, open payments and live subscriptions
read again from Stripe, against the emulator (nothing is delivered unless said)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from django.utils import timezone

from events.models import Event
from payments.models import Payment, PaymentStatus, Refund, Subscription, WebhookEvent
from payments.services.reports import parse_since
from payments.services.subscriptions import create_subscription
from payments.webhooks import processing
from tests.payments.conftest import move_plan_at_stripe, ok_all, run

# A db test never commits: the ledger's after-commit completion runs at once (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("ledger_at_once")

NO_EVENTS = ("--since", "2999-01-01")  # nothing in Stripe's event list: only the payments and subscriptions passes


def summary(ran) -> str:
    return ran.out.strip().splitlines()[-1]


def make_old(payment: Payment, minutes: int = 20) -> None:
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))


def test_a_payment_whose_webhooks_never_came_is_healed_from_the_event_list(paid_undelivered):
    payment = paid_undelivered()
    ran = run("payments_reconcile")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    event = Event.objects.get(pk=payment.payable_id)
    assert event.is_active and event.tier_id == payment.tier_id  # the payable is fulfilled
    stored = WebhookEvent.objects.get(type="payment_intent.succeeded")
    assert stored.status == WebhookEvent.Status.PROCESSED
    assert f"event {stored.stripe_event_id} (payment_intent.succeeded): event.healed - processed (never received)" in ran.out
    # Only the types we handle are fetched (customer.created, payment_intent.created, charge.failed are not;
    # charge.succeeded is: it tells what paid and the receipt).
    assert sorted(WebhookEvent.objects.values_list("type", flat=True)) == ["charge.succeeded", "payment_intent.succeeded"]
    assert "healed=2 failed=0" in summary(ran)
    payment.refresh_from_db()
    assert (payment.card_last4, bool(payment.receipt_url)) == ("4242", True)

    again = run("payments_reconcile")
    assert "applied=0 healed=0 failed=0" in summary(again), again
    assert WebhookEvent.objects.count() == 2


def test_an_old_open_payment_is_read_from_stripe_and_applied(paid_undelivered):
    payment = paid_undelivered()
    # Too young: it may still be in the customer's hands.
    ran = run("payments_reconcile", *NO_EVENTS)
    assert "examined=0" in summary(ran)
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING

    make_old(payment)
    ran = run("payments_reconcile", *NO_EVENTS)
    assert f"payment {payment.pk}: payment.applied - move pending -> succeeded" in ran.out, ran
    assert "examined=1 applied=1 healed=0 failed=0" in summary(ran)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert Event.objects.get(pk=payment.payable_id).is_active
    assert not WebhookEvent.objects.exists()  # read from the PaymentIntent, not from events

    assert "examined=0" in summary(run("payments_reconcile", *NO_EVENTS))  # settled: no longer examined


def test_pending_older_than(start, emulator):
    payment = start()
    emulator.pay(payment.stripe_payment_intent_id, "4000002500003155")  # 3-D Secure: requires_action
    make_old(payment, minutes=5)
    assert "examined=0" in summary(run("payments_reconcile", *NO_EVENTS))
    ran = run("payments_reconcile", *NO_EVENTS, "--pending-older-than", "4")
    assert "pending -> requires_action" in ran.out and "applied=1" in summary(ran)
    # Still open: examined again, nothing to apply.
    ran = run("payments_reconcile", *NO_EVENTS, "--pending-older-than", "0")
    assert "examined=1 applied=0" in summary(ran)
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.REQUIRES_ACTION
    assert "whole minutes" in str(run("payments_reconcile", "--pending-older-than", "-1", fails=True).error)


def test_a_dashboard_refund_never_delivered_is_found_in_the_event_list(paid_undelivered, emulator, deliver):
    payment = paid_undelivered()
    ok_all(deliver())
    assert emulator.dashboard_refund(payment.stripe_payment_intent_id, amount=1000)["error"] is None
    assert not Refund.objects.exists()

    ran = run("payments_reconcile")
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.payment_id) == (1000, Refund.Status.SUCCEEDED, payment.pk)
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 1000)
    assert "refund.created): event.healed" in ran.out and "failed=0" in summary(ran)

    again = run("payments_reconcile")
    assert "healed=0 failed=0" in summary(again)
    assert Refund.objects.count() == 1


def test_a_failed_or_received_event_row_is_processed_again(paid_undelivered, deliver, monkeypatch):
    payments = [paid_undelivered(), paid_undelivered()]

    def broken(event):
        raise RuntimeError("handler bug")

    with monkeypatch.context() as patch:
        patch.setitem(processing.HANDLERS, "payment_intent.succeeded", broken)
        deliver()
    failed, received = WebhookEvent.objects.filter(type="payment_intent.succeeded").order_by("stripe_created", "pk")
    assert failed.status == received.status == WebhookEvent.Status.FAILED
    # The other one only stored (the process died before processing it).
    WebhookEvent.objects.filter(pk=received.pk).update(status=WebhookEvent.Status.RECEIVED, attempts=0, last_error="")

    ran = run("payments_reconcile")
    assert f"{failed.stripe_event_id} (payment_intent.succeeded): event.healed - processed (stored failed)" in ran.out
    assert f"{received.stripe_event_id} (payment_intent.succeeded): event.healed - processed (stored received)" in ran.out
    assert "healed=2 failed=0" in summary(ran)
    assert all(Payment.objects.get(pk=p.pk).status == PaymentStatus.SUCCEEDED for p in payments)


def test_subscriptions_are_read_from_stripe_and_applied(user, catalog, emulator):
    subscription = create_subscription(user=user, price_id=str(catalog["full_monthly"].pk)).subscription
    first = Payment.objects.get(payable_type="subscription")
    emulator.pay(first.stripe_payment_intent_id)  # first invoice paid; nothing delivered
    assert Subscription.objects.get(pk=subscription.pk).status == "incomplete"

    ran = run("payments_reconcile", *NO_EVENTS)
    assert f"subscription {subscription.pk}: subscription.applied - move incomplete -> active" in ran.out, ran
    assert "examined=1 applied=1" in summary(ran)  # the invoice's payment is too young to be examined
    assert Subscription.objects.get(pk=subscription.pk).status == "active"

    emulator.advance_subscription(Subscription.objects.get().stripe_subscription_id, succeed=False)
    ran = run("payments_reconcile", *NO_EVENTS)
    assert "move active -> past_due" in ran.out
    Subscription.objects.filter(pk=subscription.pk).update(status="canceled")
    assert "examined=0" in summary(run("payments_reconcile", *NO_EVENTS))  # ended: not examined


@pytest.fixture
def reread_pending(on_basic, monthly, emulator, deliver, django_capture_on_commit_callbacks, reread_unreachable):
    """Its plan moved to Full at Stripe; the event came, the re-read after its commit found Stripe unreachable."""
    move_plan_at_stripe(emulator, on_basic, monthly["full"])
    with django_capture_on_commit_callbacks(execute=True):
        ok_all(deliver())
    on_basic.refresh_from_db()
    assert on_basic.price_id == monthly["basic"].pk and on_basic.stripe_reread_requested_at is not None
    return on_basic


def test_a_pending_reread_takes_stripes_plan_and_clears_the_mark(reread_pending, monthly):
    subscription = reread_pending
    ran = run("payments_reconcile", *NO_EVENTS)
    assert (
        f"pending re-read of subscription {subscription.pk}: subscription.reread - plan automated €9.99 / month"
        " -> full €19.99 / month (pending since" in ran.out
    ), ran
    # Read once: the live subscriptions' pass skips it.
    assert "examined=1 applied=0 healed=0 failed=0 reread=1 reread_failed=0 reread_pending=0" in summary(ran)
    subscription.refresh_from_db()
    assert (subscription.price_id, subscription.tier_id) == (monthly["full"].pk, monthly["full"].tier_id)
    assert subscription.stripe_reread_requested_at is None
    assert "reread=0 reread_failed=0 reread_pending=0" in summary(run("payments_reconcile", *NO_EVENTS))


def test_a_pending_reread_stays_while_stripe_is_unreachable(reread_pending, monthly, emulator):
    subscription = reread_pending
    pending = subscription.stripe_reread_requested_at
    emulator.inject_fault("connection_error", path_prefix=f"/v1/subscriptions/{subscription.stripe_subscription_id}")
    ran = run("payments_reconcile", *NO_EVENTS, fails=True)
    assert f"pending re-read of subscription {subscription.pk}: failed - Stripe is unreachable" in ran.out, ran
    assert "failed=1 reread=0 reread_failed=1 reread_pending=1" in summary(ran)
    subscription.refresh_from_db()
    assert subscription.price_id == monthly["basic"].pk and subscription.stripe_reread_requested_at == pending

    dry = run("payments_reconcile", *NO_EVENTS, "--dry-run")  # Stripe back: listed, nothing changed
    assert "subscription.reread - would take plan automated €9.99 / month -> full €19.99 / month" in dry.out, dry
    assert Subscription.objects.get(pk=subscription.pk).stripe_reread_requested_at == pending

    assert "reread=1 reread_failed=0 reread_pending=0" in summary(run("payments_reconcile", *NO_EVENTS))
    assert Subscription.objects.get(pk=subscription.pk).price_id == monthly["full"].pk


def test_pending_rereads_go_oldest_first_in_a_bounded_batch(reread_pending, monthly, monkeypatch):
    from payments.operations import reconcile

    subscription = reread_pending
    newer = Subscription.objects.create(  # a row of a subscription Stripe no longer knows: its read fails
        user=subscription.user, price=monthly["basic"], tier=monthly["basic"].tier, status="canceled",
        stripe_subscription_id="sub_gone", stripe_reread_requested_at=timezone.now(),
    )
    monkeypatch.setattr(reconcile, "REREAD_BATCH", 1)
    ran = run("payments_reconcile", *NO_EVENTS)
    assert f"re-read of subscription {subscription.pk}: subscription.reread" in ran.out
    assert f"re-read of subscription {newer.pk}" not in ran.out
    assert "reread=1 reread_failed=0 reread_pending=1" in summary(ran)
    ran = run("payments_reconcile", *NO_EVENTS, fails=True)
    assert f"re-read of subscription {newer.pk}: failed" in ran.out and "reread_pending=1" in summary(ran)


def test_dry_run_lists_and_changes_nothing(paid_undelivered, user, catalog, emulator):
    payment = paid_undelivered()
    make_old(payment)
    subscription = create_subscription(user=user, price_id=str(catalog["full_monthly"].pk)).subscription
    emulator.pay(Payment.objects.get(payable_type="subscription").stripe_payment_intent_id)
    before = len(emulator.events())

    ran = run("payments_reconcile", "--dry-run")
    assert "dry run" in ran.out
    assert "(payment_intent.succeeded): event.healed - would process (never received)" in ran.out
    assert f"payment {payment.pk}: payment.applied - would move pending -> succeeded" in ran.out
    assert f"subscription {subscription.pk}: subscription.applied - would move incomplete -> active" in ran.out
    assert not WebhookEvent.objects.exists()
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING
    assert Subscription.objects.get(pk=subscription.pk).status == "incomplete"
    assert not Event.objects.get(pk=payment.payable_id).is_active
    assert len(emulator.events()) == before


def test_since_limits_the_event_list(paid_undelivered):
    paid_undelivered()
    assert "healed=0" in summary(run("payments_reconcile", "--since", "2999-01-01T00:00:00+00:00"))
    assert not WebhookEvent.objects.exists()
    ran = run("payments_reconcile", "--since", "2h")
    assert "healed=0" not in summary(ran) and WebhookEvent.objects.exists()
    assert "not a duration" in str(run("payments_reconcile", "--since", "yesterday", fails=True).error)
    assert "30 days" in run("payments_reconcile", "--since", "45d").err


def test_parse_since():
    now = timezone.now()
    assert parse_since("2h", now=now) == now - timedelta(hours=2)
    assert parse_since("3d", now=now) == now - timedelta(days=3)
    assert parse_since("90m", now=now) == now - timedelta(minutes=90)
    assert parse_since("2026-01-02").isoformat() == "2026-01-02T00:00:00+00:00"
    assert parse_since("2026-01-02T03:04:05+02:00").utcoffset() == timedelta(hours=2)


def test_stripe_unreachable_fails_the_run_but_the_other_passes_go_on(paid_undelivered, emulator):
    payment = paid_undelivered()
    make_old(payment)
    emulator.inject_fault("connection_error", path_prefix="/v1/events")
    ran = run("payments_reconcile", fails=True)
    assert "events: failed - could not list Stripe's events: Stripe is unreachable" in ran.out
    assert "applied=1 healed=0 failed=1" in summary(ran)
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SUCCEEDED


@pytest.mark.parametrize(("fault", "made_at_stripe"), [("connection_error", False), ("timeout", True)])
def test_a_refund_whose_answer_never_came_is_sent_again_once(paid_undelivered, staff_user, emulator, fault, made_at_stripe):
    """The refund request lost Stripe's answer (or never reached Stripe) and no
    other refund of that payment came to re-send it: reconcile sends it with its
    own key, and Stripe makes it exactly once."""
    from django.contrib.auth.models import Permission

    from payments.errors import ProviderUnavailable
    from payments.services.refunds import refund_payment

    payment = paid_undelivered()
    run("payments_reconcile")  # the payment's success, from Stripe's event list
    staff_user.user_permissions.add(Permission.objects.get(codename="add_refund", content_type__app_label="payments"))
    emulator.inject_fault(fault, path_prefix="/v1/refunds")
    with pytest.raises(ProviderUnavailable):
        refund_payment(actor=staff_user, payment_id=str(payment.pk), amount=1000)
    refund = Refund.objects.get()
    assert (refund.status, refund.stripe_refund_id) == ("pending", None)
    at_stripe = lambda: [e for e in emulator.events() if e.event["type"] == "refund.created"]  # noqa: E731
    assert len(at_stripe()) == (1 if made_at_stripe else 0)

    assert f"refund {refund.pk}" not in run("payments_reconcile", *NO_EVENTS).out  # too young: its request may still run
    Refund.objects.filter(pk=refund.pk).update(created_at=timezone.now() - timedelta(minutes=20))
    dry = run("payments_reconcile", *NO_EVENTS, "--dry-run")
    assert f"refund {refund.pk} (€10.00 of payment {payment.pk}): refund.applied - would send it" in dry.out, dry
    assert Refund.objects.get().stripe_refund_id is None

    ran = run("payments_reconcile", *NO_EVENTS)
    refund.refresh_from_db()
    assert refund.stripe_refund_id and f"refund {refund.pk} (€10.00 of payment {payment.pk}): refund.applied - sent again" in ran.out
    assert len(at_stripe()) == 1  # made once, whether the first request had reached Stripe or not
    assert emulator.retrieve(refund.stripe_refund_id)["amount"] == 1000
    again = run("payments_reconcile", *NO_EVENTS)
    assert f"refund {refund.pk}" not in again.out and "examined=0" in summary(again) and len(at_stripe()) == 1
