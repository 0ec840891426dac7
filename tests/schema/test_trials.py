"""Trials (issue 15 point 4), through GraphQL and signed webhooks only, against the
emulator: trial start -> the card saved with the SetupIntent (Stripe.js's
publishable-key call) -> trial_will_end -> the trial's end charges the first
renewal; one trial per customer and tier."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import stripe

from payments.models import Price, Subscription
from payments.signals import trial_will_end
from stripe_emulator.inprocess import HTTPClient
from tests.conftest import post_event

SUBSCRIBE = """mutation($price: ID!) { createSubscription(input: {priceId: $price}) {
  __typename
  ... on CreateSubscriptionPayload { clientSecret setupClientSecret publishableKey
    subscription { id status trialEnd stripeSubscriptionId currentPeriodEnd price { trialPeriodDays } } }
  ... on OperationInfo { messages { code field } } } }"""
CANCEL_NOW = """mutation($id: ID!) { cancelSubscription(input: {subscriptionId: $id, atPeriodEnd: false}) {
  __typename } }"""
SUBSCRIPTIONS = "{ subscriptions { id status trialEnd currentPeriodStart currentPeriodEnd } }"
INVOICES = "{ invoices { status amountDue amountPaid } }"
PAYMENTS = """{ payments { edges { node { status amount payable { type id }
  paymentMethod { type brand last4 } receiptUrl } } } }"""
ME = "{ me { isPremium activeTier { slug } } }"


@pytest.fixture
def trial_price(catalog) -> Price:
    return Price.objects.create(
        tier=catalog["full"], currency="eur", unit_amount=1999, type="recurring", interval="month",
        interval_count=1, trial_period_days=14,
    )


@pytest.fixture
def browser(emulator) -> stripe.StripeClient:
    """What Stripe.js holds in the customer's browser: the publishable key only."""
    return stripe.StripeClient("pk_test_emulator", max_network_retries=0, http_client=HTTPClient(emulator))


def subscribe(gql, price) -> dict:
    return gql.ok(SUBSCRIBE, {"price": str(price.pk)})["createSubscription"]


def save_card(browser, setup_client_secret: str, number: str = "4242424242424242") -> stripe.SetupIntent:
    """stripe.confirmSetup: a PaymentMethod from the card form, then the SetupIntent confirmed with its secret."""
    method = browser.v1.payment_methods.create(
        params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034}}
    )
    setup_id = setup_client_secret.split("_secret_")[0]
    return browser.v1.setup_intents.confirm(
        setup_id, params={"payment_method": method.id, "client_secret": setup_client_secret}
    )


def ok_all(results) -> None:
    assert results and all(code == 200 for _, code in results), results


def payments_of(gql) -> list[dict]:
    return [edge["node"] for edge in gql.ok(PAYMENTS)["payments"]["edges"]]


def test_trial_start_save_card_reminder_trial_end_first_renewal(
    gql, trial_price, emulator, deliver, browser, django_capture_on_commit_callbacks
):
    reminders = []
    trial_will_end.connect(lambda **kw: reminders.append(kw), weak=False, dispatch_uid="test-reminders")
    try:
        created = subscribe(gql, trial_price)
        assert created["__typename"] == "CreateSubscriptionPayload"
        sub = created["subscription"]
        assert sub["status"] == "TRIALING" and sub["price"]["trialPeriodDays"] == 14
        assert created["clientSecret"] is None  # nothing is due now
        assert created["setupClientSecret"].startswith("seti_")
        trial_end = datetime.fromisoformat(sub["trialEnd"])
        expected = datetime.now(timezone.utc) + timedelta(days=14)
        assert abs((trial_end - expected).total_seconds()) < 60
        assert sub["currentPeriodEnd"] == sub["trialEnd"]
        ok_all(deliver())
        assert gql.ok(ME)["me"] == {"isPremium": True, "activeTier": {"slug": "full"}}
        assert gql.ok(INVOICES)["invoices"] == [{"status": "PAID", "amountDue": 0, "amountPaid": 0}]
        assert payments_of(gql) == []  # no payment now: nothing was charged

        assert save_card(browser, created["setupClientSecret"]).status == "succeeded"
        ok_all(deliver())
        stored = Subscription.objects.get(pk=sub["id"])
        stripe_sub = emulator.retrieve(stored.stripe_subscription_id)
        assert stripe_sub["default_payment_method"] and stripe_sub["pending_setup_intent"] is None

        emulator.approach_period_end(stored.stripe_subscription_id)  # three days before the trial ends
        with django_capture_on_commit_callbacks(execute=True):  # host apps are told after the commit
            ok_all(deliver())
        assert [r["trial_end"] for r in reminders] == [trial_end]
        assert reminders[0]["subscription"].pk == stored.pk
        # A redelivery of the same event (Stripe retries) tells nobody twice.
        [event] = [e.event for e in emulator.events() if e.event["type"] == "customer.subscription.trial_will_end"]
        with django_capture_on_commit_callbacks(execute=True):
            assert post_event(_client(), event).status_code == 200
        assert len(reminders) == 1

        emulator.advance_subscription(stored.stripe_subscription_id)  # the trial ends: the first renewal
        ok_all(deliver())
        [after] = gql.ok(SUBSCRIPTIONS)["subscriptions"]
        assert after["status"] == "ACTIVE" and after["trialEnd"] is None
        assert after["currentPeriodStart"] == sub["trialEnd"]
        assert gql.ok(INVOICES)["invoices"][0] == {"status": "PAID", "amountDue": 1999, "amountPaid": 1999}
        [renewal] = payments_of(gql)
        assert (renewal["status"], renewal["amount"], renewal["payable"]) == (
            "SUCCEEDED", 1999, {"type": "subscription", "id": sub["id"]},
        )
        assert renewal["paymentMethod"] == {"type": "card", "brand": "visa", "last4": "4242"}  # the saved card
        assert renewal["receiptUrl"].startswith("https://pay.stripe.com/receipts/")
        assert len(reminders) == 1
    finally:
        trial_will_end.disconnect(dispatch_uid="test-reminders")


def _client():
    from django.test import Client

    return Client()


def test_a_trial_ending_without_a_saved_card_is_past_due(gql, trial_price, emulator, deliver):
    created = subscribe(gql, trial_price)
    ok_all(deliver())
    emulator.advance_subscription(created["subscription"]["stripeSubscriptionId"])
    ok_all(deliver())
    assert gql.ok(SUBSCRIPTIONS)["subscriptions"][0]["status"] == "PAST_DUE"
    assert gql.ok(INVOICES)["invoices"][0] == {"status": "OPEN", "amountDue": 1999, "amountPaid": 0}


def test_one_trial_per_customer_and_tier(gql, trial_price, catalog, emulator, deliver):
    first = subscribe(gql, trial_price)
    assert first["subscription"]["status"] == "TRIALING"
    assert gql.ok(CANCEL_NOW, {"id": first["subscription"]["id"]})["cancelSubscription"]["__typename"] == (
        "CancelSubscriptionPayload"
    )
    ok_all(deliver())

    again = subscribe(gql, trial_price)  # the same tier: no second trial, it pays at once
    assert again["subscription"]["status"] == "INCOMPLETE"
    assert again["subscription"]["trialEnd"] is None and again["setupClientSecret"] is None
    assert again["clientSecret"]
    stripe_sub = emulator.retrieve(again["subscription"]["stripeSubscriptionId"])
    assert stripe_sub["trial_end"] is None
    assert emulator.retrieve(stripe_sub["latest_invoice"])["amount_due"] == 1999


def test_a_trial_on_another_tier_is_still_offered(gql, trial_price, catalog, deliver):
    first = subscribe(gql, trial_price)
    gql.ok(CANCEL_NOW, {"id": first["subscription"]["id"]})
    ok_all(deliver())
    basic = Price.objects.create(
        tier=catalog["basic"], currency="eur", unit_amount=999, type="recurring", interval="month",
        interval_count=1, trial_period_days=7,
    )
    other = subscribe(gql, basic)
    assert other["subscription"]["status"] == "TRIALING" and other["setupClientSecret"]


def test_a_late_trial_will_end_after_the_trial_records_nothing(
    gql, trial_price, emulator, deliver, browser, django_capture_on_commit_callbacks
):
    reminders = []
    trial_will_end.connect(lambda **kw: reminders.append(kw), weak=False, dispatch_uid="test-late")
    try:
        created = subscribe(gql, trial_price)
        save_card(browser, created["setupClientSecret"])
        stripe_id = created["subscription"]["stripeSubscriptionId"]
        emulator.approach_period_end(stripe_id)
        reminder = emulator.events()[-2].event
        assert reminder["type"] == "customer.subscription.trial_will_end"
        emulator.advance_subscription(stripe_id)
        # Everything but the reminder first; the reminder comes last, after the trial ended.
        sender_events = [e for e in emulator.events() if e.event["id"] != reminder["id"]]
        for stored in sender_events:
            post_event(_client(), stored.event)
        assert gql.ok(SUBSCRIPTIONS)["subscriptions"][0]["status"] == "ACTIVE"
        with django_capture_on_commit_callbacks(execute=True):
            assert post_event(_client(), reminder).status_code == 200
        assert reminders == []
        assert gql.ok(SUBSCRIPTIONS)["subscriptions"][0]["status"] == "ACTIVE"  # the older snapshot changed nothing
    finally:
        trial_will_end.disconnect(dispatch_uid="test-late")


def test_the_catalog_shows_trial_days_on_recurring_prices_only(anon_gql, trial_price, catalog):
    tiers = anon_gql.ok("{ tiers { slug prices { id type trialPeriodDays } } }")["tiers"]
    prices = {p["id"]: p for tier in tiers for p in tier["prices"]}
    assert prices[str(trial_price.pk)]["trialPeriodDays"] == 14
    assert prices[str(catalog["full_eur"].pk)]["trialPeriodDays"] is None
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Price.objects.create(tier=catalog["full"], currency="eur", unit_amount=1, trial_period_days=7)  # one-time
