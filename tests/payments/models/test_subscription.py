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


def test_the_migration_gives_existing_invoices_their_stripe_subscription(db, django_user_model):
    """Invoices stored before Invoice.stripe_subscription_id existed: from their
    subscription when linked, else from their stored events (so that the next
    snapshot of that subscription links them)."""
    import importlib
    from datetime import UTC

    from django.apps import apps

    from payments.models import Price, Tier, WebhookEvent

    migration = importlib.import_module("payments.migrations.0007_subscriptions_order")
    user = django_user_model.objects.create_user("alice")
    tier = Tier.objects.create(slug="full", name="Full")
    price = Price.objects.create(tier=tier, currency="eur", unit_amount=1999, type="recurring", interval="month", interval_count=1)
    sub = Subscription.objects.create(user=user, price=price, tier=tier, stripe_subscription_id="sub_linked")
    now = datetime.now(tz=UTC)
    linked = Invoice.objects.create(user=user, subscription=sub, stripe_invoice_id="in_linked", currency="eur", created_at=now)
    orphan = Invoice.objects.create(user=user, stripe_invoice_id="in_orphan", currency="eur", created_at=now)
    unknown = Invoice.objects.create(user=user, stripe_invoice_id="in_unknown", currency="eur", created_at=now)
    WebhookEvent.objects.create(
        stripe_event_id="evt_1", type="invoice.paid", stripe_created=now,
        payload={"data": {"object": {"id": "in_orphan", "parent": {"subscription_details": {"subscription": "sub_dashboard"}}}}},
    )
    WebhookEvent.objects.create(stripe_event_id="evt_2", type="payment_intent.succeeded", stripe_created=now,
                                payload={"data": {"object": {"id": "in_unknown", "subscription": "sub_no"}}})
    migration.invoices_know_their_stripe_subscription(apps, None)
    assert [Invoice.objects.get(pk=i.pk).stripe_subscription_id for i in (linked, orphan, unknown)] == [
        "sub_linked", "sub_dashboard", "",
    ]
