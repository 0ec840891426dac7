"""Subscriptions and billing history, through GraphQL and signed webhooks only, against the emulator."""

import itertools
import time

import pytest
from django.test import Client

from payments.models import Customer, Invoice, Payment, Subscription
from payments.signals import entitlement_changed
from tests.conftest import make_event, post_event

SUBSCRIBE = """mutation($price: ID!, $key: String) { createSubscription(input: {priceId: $price, idempotencyKey: $key}) {
  __typename
  ... on CreateSubscriptionPayload { clientSecret publishableKey subscription { id status stripeSubscriptionId tier { slug } price { display } } }
  ... on OperationInfo { messages { code field } } } }"""
CANCEL = """mutation($id: ID!, $end: Boolean) { cancelSubscription(input: {subscriptionId: $id, atPeriodEnd: $end}) {
  __typename ... on CancelSubscriptionPayload { subscription { status cancelAtPeriodEnd canceledAt } }
  ... on OperationInfo { messages { code } } } }"""
ME = "{ me { isPremium activeTier { slug } } }"
SUBSCRIPTIONS = "{ subscriptions { id status cancelAtPeriodEnd currentPeriodStart currentPeriodEnd } }"
INVOICES = "{ invoices { number status amountDue amountPaid currency periodStart periodEnd hostedInvoiceUrl invoicePdf subscription { id } } }"


def subscribe(gql, price, key=None) -> dict:
    return gql(SUBSCRIBE, {"price": str(price.pk), "key": key})["data"]["createSubscription"]


def codes(payload) -> list[str]:
    assert payload["__typename"] == "OperationInfo", payload
    return [m["code"] for m in payload["messages"]]


def ok_all(results) -> None:
    assert results and all(code == 200 for _, code in results), results


def test_the_whole_walk(gql, catalog, emulator, deliver):
    monthly = catalog["full_monthly"]
    created = subscribe(gql, monthly)
    assert created["__typename"] == "CreateSubscriptionPayload"
    assert created["subscription"]["status"] == "INCOMPLETE"
    assert created["clientSecret"] and created["publishableKey"] == "pk_test_emulator"
    sub_id, stripe_id = created["subscription"]["id"], created["subscription"]["stripeSubscriptionId"]
    assert gql.ok(ME)["me"] == {"isPremium": False, "activeTier": None}

    # The first invoice's intent is a Payment the client can watch; pay it as Stripe.js would.
    payment = Payment.objects.get(payable_type="subscription", payable_id=sub_id)
    assert created["clientSecret"].startswith(payment.stripe_payment_intent_id)
    emulator.pay(payment.stripe_payment_intent_id)
    ok_all(deliver())
    assert gql.ok(SUBSCRIPTIONS)["subscriptions"][0]["status"] == "ACTIVE"
    assert gql.ok(ME)["me"] == {"isPremium": True, "activeTier": {"slug": "full"}}
    payment.refresh_from_db()
    assert payment.status == "succeeded" and payment.amount == 1999

    # Renewal paid: two invoices in the history, the period moved on.
    first_period = gql.ok(SUBSCRIPTIONS)["subscriptions"][0]["currentPeriodEnd"]
    emulator.advance_subscription(stripe_id)
    ok_all(deliver())
    invoices = gql.ok(INVOICES)["invoices"]
    assert [(i["status"], i["amountPaid"]) for i in invoices] == [("PAID", 1999), ("PAID", 1999)]
    assert all(i["subscription"] == {"id": sub_id} and i["hostedInvoiceUrl"] and i["number"] for i in invoices)
    assert gql.ok(SUBSCRIPTIONS)["subscriptions"][0]["currentPeriodStart"] == first_period
    # Each invoice shows the period it pays for: the renewal's starts where the first one's ends.
    assert invoices[0]["periodStart"] == invoices[1]["periodEnd"] == first_period

    # Renewal declined: PAST_DUE keeps access while Stripe retries.
    emulator.advance_subscription(stripe_id, succeed=False)
    ok_all(deliver())
    assert gql.ok(SUBSCRIPTIONS)["subscriptions"][0]["status"] == "PAST_DUE"
    assert [i["status"] for i in gql.ok(INVOICES)["invoices"]] == ["OPEN", "PAID", "PAID"]
    assert gql.ok(ME)["me"]["isPremium"] is True

    # Cancel at period end: still premium until the period ends.
    cancel = gql.ok(CANCEL, {"id": sub_id, "end": True})["cancelSubscription"]
    assert cancel["subscription"]["cancelAtPeriodEnd"] is True
    ok_all(deliver())
    emulator.advance_subscription(stripe_id)
    ok_all(deliver())
    assert gql.ok(SUBSCRIPTIONS)["subscriptions"][0]["status"] == "CANCELED"
    assert gql.ok(ME)["me"] == {"isPremium": False, "activeTier": None}
    assert Subscription.objects.count() == 1  # nothing is deleted


def test_recurring_prices_only(gql, catalog):
    assert codes(subscribe(gql, catalog["full_eur"])) == ["WRONG_PRICE_TYPE"]
    assert not Subscription.objects.exists()


def test_already_subscribed_and_incomplete_reuse(gql, catalog, emulator, deliver):
    first = subscribe(gql, catalog["full_monthly"])
    again = subscribe(gql, catalog["full_monthly"])  # still incomplete: the same one comes back
    assert again["subscription"]["id"] == first["subscription"]["id"]
    assert again["clientSecret"] == first["clientSecret"]
    assert len([e for e in emulator.events() if e.event["type"] == "customer.subscription.created"]) == 1
    emulator.pay(Payment.objects.get().stripe_payment_intent_id)
    ok_all(deliver())
    assert codes(subscribe(gql, catalog["full_monthly"])) == ["ALREADY_SUBSCRIBED"]


def test_idempotency_key(gql, catalog, emulator):
    first = subscribe(gql, catalog["full_monthly"], key="s-1")
    assert subscribe(gql, catalog["full_monthly"], key="s-1") == first
    Subscription.objects.update(status="canceled")  # even if the first is gone, the key still means it
    other_price = catalog["full_eur"]
    assert codes(subscribe(gql, other_price, key="s-1")) == ["IDEMPOTENCY_CONFLICT"]


def test_stripe_customer_is_made_once_for_payments_and_subscriptions(gql, catalog, emulator):
    subscribe(gql, catalog["full_monthly"])
    assert Customer.objects.count() == 1
    assert len([e for e in emulator.events() if e.event["type"] == "customer.created"]) == 1


def test_cancel_now_and_who_may_cancel(gql, gql_as, other_user, staff_user, catalog, emulator, deliver):
    sub_id = subscribe(gql, catalog["full_monthly"])["subscription"]["id"]
    emulator.pay(Payment.objects.get().stripe_payment_intent_id)
    ok_all(deliver())
    assert codes(gql_as(other_user).ok(CANCEL, {"id": sub_id, "end": False})["cancelSubscription"]) == ["NOT_FOUND"]
    by_staff = gql_as(staff_user).ok(CANCEL, {"id": sub_id, "end": False})["cancelSubscription"]
    assert by_staff["subscription"]["status"] == "CANCELED"
    assert codes(gql.ok(CANCEL, {"id": sub_id, "end": False})["cancelSubscription"]) == ["INVALID_INPUT"]


def test_first_invoice_declined_stays_incomplete(gql, catalog, emulator, deliver):
    sub_id = subscribe(gql, catalog["full_monthly"])["subscription"]["id"]
    emulator.pay(Payment.objects.get().stripe_payment_intent_id, "4000000000000002")
    ok_all(deliver())
    assert Subscription.objects.get(pk=sub_id).status == "incomplete"
    assert Payment.objects.get().status == "failed"
    assert gql.ok(ME)["me"]["isPremium"] is False


def test_entitlement_signal_fires_after_commit_on_change(gql, user, catalog, emulator, deliver, django_capture_on_commit_callbacks):
    seen = []
    receiver = lambda sender, user, previous_tier, tier, **kw: seen.append((previous_tier, tier))  # noqa: E731
    entitlement_changed.connect(receiver)
    try:
        subscribe(gql, catalog["full_monthly"])
        emulator.pay(Payment.objects.get().stripe_payment_intent_id)
        with django_capture_on_commit_callbacks(execute=True):
            ok_all(deliver())
    finally:
        entitlement_changed.disconnect(receiver)
    assert seen == [(None, catalog["full"])]


def test_a_dashboard_subscription_of_our_customer_is_adopted(gql, user, catalog, emulator, deliver):
    from payments.services.catalog import price_ensure_at_stripe
    from payments.services.customers import customer_get_or_create

    customer = customer_get_or_create(user=user)
    stripe_price = price_ensure_at_stripe(price=catalog["full_monthly"])
    # Made in the Stripe Dashboard: straight at Stripe, never through our API.
    status, body = emulator_post(emulator, "/v1/subscriptions", f"customer={customer.stripe_customer_id}&items[0][price]={stripe_price}&payment_behavior=default_incomplete")
    assert status == 200, body
    ok_all(deliver())
    adopted = Subscription.objects.get()
    assert (adopted.user, adopted.tier, adopted.status) == (user, catalog["full"], "incomplete")
    assert Invoice.objects.filter(subscription=adopted).count() == 1


def test_events_of_strangers_are_ignored(db):
    sub = {"id": "sub_x", "object": "subscription", "status": "active", "customer": "cus_unknown", "created": 1,
           "items": {"data": [{"price": {"id": "price_x"}, "current_period_start": 1, "current_period_end": 2}]},
           "cancel_at_period_end": False, "canceled_at": None, "ended_at": None, "metadata": {}}
    assert post_event(Client(), make_event("customer.subscription.updated", sub)).status_code == 200
    assert not Subscription.objects.exists()


def emulator_post(emulator, path, form):
    import json

    body, status, _ = emulator.handle_http("POST", f"https://api.stripe.com{path}", {"Authorization": "Bearer sk_test_emulator"}, form)
    return status, json.loads(body)


ORDERINGS = [order for n in (3, 4) for order in itertools.permutations(range(n))]


@pytest.mark.parametrize("order", ORDERINGS)
def test_every_ordering_of_a_subscriptions_events_through_the_endpoint(order, gql, user, catalog, emulator):
    sub_id = subscribe(gql, catalog["full_monthly"])["subscription"]["id"]
    sub = Subscription.objects.get(pk=sub_id)
    base = int(time.time())

    def snap(status, period_start, **extra):
        return {"id": sub.stripe_subscription_id, "object": "subscription", "status": status,
                "customer": Customer.objects.get().stripe_customer_id, "created": base,
                "items": {"data": [{"price": {"id": catalog["full_monthly"].stripe_price_id},
                                    "current_period_start": period_start, "current_period_end": period_start + 100}]},
                "cancel_at_period_end": False, "canceled_at": None, "ended_at": None, "metadata": {}, **extra}

    events = [
        make_event("customer.subscription.updated", snap("active", base), created=base + 1),
        make_event("customer.subscription.updated", snap("past_due", base + 100), created=base + 2),
        make_event("customer.subscription.updated", snap("active", base + 100, cancel_at_period_end=True, canceled_at=base + 3), created=base + 3),
        make_event("customer.subscription.deleted", snap("canceled", base + 100, cancel_at_period_end=True, canceled_at=base + 3, ended_at=base + 200), created=base + 4),
    ]
    client = Client()
    for i in order:
        assert post_event(client, events[i]).status_code == 200
    sub.refresh_from_db()
    state = (sub.status, sub.cancel_at_period_end, int(sub.current_period_start.timestamp()),
             int(sub.ended_at.timestamp()) if sub.ended_at else None)
    if len(order) == 4:
        assert state == ("canceled", True, base + 100, base + 200)
    else:
        assert state == ("active", True, base + 100, None)
