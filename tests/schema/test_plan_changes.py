"""Preview, change and resume a subscription's plan, through GraphQL and signed
webhooks only, against the emulator (issue 15 points 1-3): upgrade, downgrade, a
declined upgrade then a good card, the preview's date making the charge the
previewed one, an expired pending update, resume, idempotency keys, bad input,
and every ordering of a plan change's events converging."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client

from payments.models import Customer, PlanChange, Price, Subscription
from tests.conftest import post_event

SUBSCRIBE = """mutation($price: ID!) { createSubscription(input: {priceId: $price}) {
  ... on CreateSubscriptionPayload { subscription { id stripeSubscriptionId } } } }"""
PREVIEW = """query($id: ID!, $price: ID!) { subscriptionChangePreview(subscriptionId: $id, priceId: $price) {
  __typename ... on SubscriptionChangePreview { amountDue currency prorationDate
    lines { description amount currency proration periodStart periodEnd } }
  ... on OperationInfo { messages { code field } } } }"""
CHANGE = """mutation($id: ID!, $price: ID!, $date: DateTime, $key: String) {
  changeSubscription(input: {subscriptionId: $id, priceId: $price, prorationDate: $date, idempotencyKey: $key}) {
  __typename ... on ChangeSubscriptionPayload { clientSecret publishableKey subscription { id status price { id } tier { slug } } }
  ... on OperationInfo { messages { code field } } } }"""
RESUME = """mutation($id: ID!) { resumeSubscription(input: {subscriptionId: $id}) {
  __typename ... on ResumeSubscriptionPayload { subscription { id cancelAtPeriodEnd status } }
  ... on OperationInfo { messages { code field } } } }"""
CANCEL = """mutation($id: ID!, $end: Boolean) { cancelSubscription(input: {subscriptionId: $id, atPeriodEnd: $end}) {
  __typename ... on CancelSubscriptionPayload { subscription { cancelAtPeriodEnd status } } } }"""
STATE = """{ me { isPremium activeTier { slug } } subscriptions { status price { id } tier { slug } cancelAtPeriodEnd }
  invoices { status amountDue amountPaid } }"""
PAYMENTS = "{ payments { edges { node { status amount stripePaymentIntentId payable { type id } } } } }"

THREE_D_SECURE, DECLINES = "4000002500003155", "4000000000000002"


@pytest.fixture
def plans(catalog) -> dict:
    basic, full = catalog["basic"], catalog["full"]
    monthly = {"type": "recurring", "interval": "month", "interval_count": 1}
    return {
        "basic": Price.objects.create(tier=basic, currency="eur", unit_amount=999, **monthly),
        "full": catalog["full_monthly"],  # €19.99 / month
        "full_yearly": Price.objects.create(tier=full, currency="eur", unit_amount=19990, type="recurring",
                                            interval="year", interval_count=1),
        "full_usd": Price.objects.create(tier=full, currency="usd", unit_amount=2199, **monthly),
        "one_time": catalog["full_eur"],
    }


@pytest.fixture
def delivered(deliver, django_capture_on_commit_callbacks):
    """Deliver what Stripe sent, each delivery's commit callbacks run as after a real
    commit (the plan is re-read from Stripe there)."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            results = deliver()
        assert all(code == 200 for _, code in results), results
        return results

    return run


def subscribed(gql, emulator, delivered, price, card="4242424242424242") -> dict:
    """An ACTIVE subscription to ``price`` whose first invoice ``card`` paid (the card
    its renewals and changes are charged to)."""
    sub = gql.ok(SUBSCRIBE, {"price": str(price.pk)})["createSubscription"]["subscription"]
    [edge] = gql.ok(PAYMENTS)["payments"]["edges"]
    intent = edge["node"]["stripePaymentIntentId"]
    if emulator.pay(intent, card)["payment_intent"]["status"] == "requires_action":
        emulator.authenticate(intent)
    delivered()
    assert gql.ok(STATE)["subscriptions"][0]["status"] == "ACTIVE"
    return sub


def state(gql) -> tuple:
    answer = gql.ok(STATE)
    [sub] = answer["subscriptions"]
    return answer["me"]["activeTier"]["slug"] if answer["me"]["activeTier"] else None, sub["price"]["id"]


def change(gql, sub, price, **variables) -> dict:
    return gql(CHANGE, {"id": sub["id"], "price": str(price.pk), **variables})["data"]["changeSubscription"]


def codes(payload) -> list[tuple[str, str]]:
    assert payload["__typename"] == "OperationInfo", payload
    return [(m["code"], m["field"]) for m in payload["messages"]]


def intent_of(client_secret: str) -> str:
    return client_secret.split("_secret_")[0]


# ------------------------------------------------------------- upgrade


def test_the_preview_is_the_charge_of_an_upgrade(gql, plans, emulator, delivered):
    sub = subscribed(gql, emulator, delivered, plans["basic"])
    assert state(gql) == ("automated", str(plans["basic"].pk))
    before, at_stripe = len(emulator.events()), emulator.retrieve(sub["stripeSubscriptionId"])

    preview = gql.ok(PREVIEW, {"id": sub["id"], "price": str(plans["full"].pk)})["subscriptionChangePreview"]
    # It changes nothing (the new price is created at Stripe on first use, as for any start).
    assert {s.event["type"] for s in emulator.events()[before:]} <= {"product.created", "price.created"}
    assert emulator.retrieve(sub["stripeSubscriptionId"]) == at_stripe and not PlanChange.objects.exists()
    credit, debit = preview["lines"]
    assert credit["proration"] and debit["proration"] and credit["amount"] < 0 < debit["amount"]
    assert preview["amountDue"] == credit["amount"] + debit["amount"] > 0 and preview["currency"] == "eur"
    assert credit["periodStart"] == preview["prorationDate"]

    changed = change(gql, sub, plans["full"], date=preview["prorationDate"], key="up-1")
    assert changed["__typename"] == "ChangeSubscriptionPayload", changed
    assert changed["clientSecret"] is None and changed["publishableKey"] == "pk_test_emulator"
    assert changed["subscription"]["tier"] == {"slug": "full"}  # Stripe's answer: paid, applied
    delivered()
    assert state(gql) == ("full", str(plans["full"].pk))
    invoices = gql.ok(STATE)["invoices"]
    assert invoices[0] == {"status": "PAID", "amountDue": preview["amountDue"], "amountPaid": preview["amountDue"]}
    proration = gql.ok(PAYMENTS)["payments"]["edges"][0]["node"]
    assert (proration["status"], proration["amount"]) == ("SUCCEEDED", preview["amountDue"])
    assert proration["payable"] == {"type": "subscription", "id": sub["id"]}


def test_another_interval_is_allowed(gql, plans, emulator, delivered):
    sub = subscribed(gql, emulator, delivered, plans["full"])
    preview = gql.ok(PREVIEW, {"id": sub["id"], "price": str(plans["full_yearly"].pk)})["subscriptionChangePreview"]
    credit, year = preview["lines"]
    assert credit["proration"] and not year["proration"] and year["amount"] == 19990
    changed = change(gql, sub, plans["full_yearly"], date=preview["prorationDate"])
    assert changed["clientSecret"] is None
    delivered()
    assert state(gql) == ("full", str(plans["full_yearly"].pk))
    assert gql.ok(STATE)["invoices"][0]["amountPaid"] == preview["amountDue"]


def test_a_declined_upgrade_keeps_the_old_plan_and_a_good_card_applies_it(gql, user, plans, emulator, delivered):
    sub = subscribed(gql, emulator, delivered, plans["basic"])
    # The customer's card now declines (changed at Stripe, e.g. in the Dashboard).
    emulator.handle_http(
        "POST", f"https://api.stripe.com/v1/subscriptions/{sub['stripeSubscriptionId']}", {},
        "default_payment_method=pm_card_chargeDeclined",
    )
    changed = change(gql, sub, plans["full"], key="up-declined")
    assert changed["subscription"]["tier"] == {"slug": "automated"}  # the old plan until paid
    assert changed["clientSecret"]
    delivered()
    assert state(gql) == ("automated", str(plans["basic"].pk))
    assert gql.ok(STATE)["invoices"][0]["status"] == "OPEN"
    assert gql.ok("{ me { isPremium } }")["me"]["isPremium"] is True  # still on Basic, still entitled

    intent = intent_of(changed["clientSecret"])
    assert emulator.pay(intent, DECLINES)["error"]["code"] == "card_declined"  # the browser retries: declined
    delivered()
    assert state(gql) == ("automated", str(plans["basic"].pk))
    assert emulator.pay(intent)["error"] is None  # then a good card
    delivered()
    assert state(gql) == ("full", str(plans["full"].pk))
    assert gql.ok(STATE)["invoices"][0]["status"] == "PAID"
    [change_row] = PlanChange.objects.all()
    assert change_row.stripe_invoice_id == emulator.retrieve(sub["stripeSubscriptionId"])["latest_invoice"]


def test_three_d_secure_gives_the_client_secret_and_authentication_applies_it(gql, plans, emulator, delivered):
    sub = subscribed(gql, emulator, delivered, plans["basic"], card=THREE_D_SECURE)
    changed = change(gql, sub, plans["full"])
    assert changed["clientSecret"] and changed["subscription"]["tier"] == {"slug": "automated"}
    delivered()
    emulator.authenticate(intent_of(changed["clientSecret"]))
    delivered()
    assert state(gql) == ("full", str(plans["full"].pk))


def test_an_expired_pending_update_leaves_the_old_plan(gql, plans, emulator, delivered):
    sub = subscribed(gql, emulator, delivered, plans["basic"], card=THREE_D_SECURE)
    changed = change(gql, sub, plans["full"])
    delivered()
    assert emulator.expire_pending_update(sub["stripeSubscriptionId"])["error"] is None
    delivered()
    assert state(gql) == ("automated", str(plans["basic"].pk))
    assert gql.ok(STATE)["invoices"][0]["status"] == "VOID"
    proration = gql.ok(PAYMENTS)["payments"]["edges"][0]["node"]
    assert proration["stripePaymentIntentId"] == intent_of(changed["clientSecret"])
    assert proration["status"] == "CANCELED"


# ----------------------------------------------------------- downgrade


def test_a_downgrade_credits_the_customer_and_applies_at_once(gql, plans, emulator, delivered):
    sub = subscribed(gql, emulator, delivered, plans["full"])
    preview = gql.ok(PREVIEW, {"id": sub["id"], "price": str(plans["basic"].pk)})["subscriptionChangePreview"]
    credit = sum(line["amount"] for line in preview["lines"])
    assert preview["amountDue"] == 0 and credit < 0
    changed = change(gql, sub, plans["basic"], date=preview["prorationDate"])
    assert changed["clientSecret"] is None and changed["subscription"]["tier"] == {"slug": "automated"}
    delivered()
    assert state(gql) == ("automated", str(plans["basic"].pk))
    assert gql.ok(STATE)["invoices"][0] == {"status": "PAID", "amountDue": 0, "amountPaid": 0}
    customer = emulator.retrieve(Customer.objects.get().stripe_customer_id)
    assert customer["balance"] == credit  # Stripe keeps the credit for the next invoices
    emulator.advance_subscription(sub["stripeSubscriptionId"])
    delivered()
    assert gql.ok(STATE)["invoices"][0]["amountDue"] == max(999 + credit, 0)
    assert emulator.retrieve(customer["id"])["balance"] == min(999 + credit, 0)


# -------------------------------------------------------------- resume


def test_resume_undoes_a_cancel_at_period_end(gql, plans, emulator, delivered):
    sub = subscribed(gql, emulator, delivered, plans["full"])
    assert codes(gql.ok(RESUME, {"id": sub["id"]})["resumeSubscription"]) == [("NOT_RESUMABLE", "subscriptionId")]
    gql.ok(CANCEL, {"id": sub["id"], "end": True})
    delivered()
    resumed = gql.ok(RESUME, {"id": sub["id"]})["resumeSubscription"]
    assert resumed["subscription"] == {"id": sub["id"], "cancelAtPeriodEnd": False, "status": "ACTIVE"}
    delivered()
    assert emulator.retrieve(sub["stripeSubscriptionId"])["cancel_at_period_end"] is False
    # A cancel after a resume reaches Stripe again (it is another request).
    again = gql.ok(CANCEL, {"id": sub["id"], "end": True})["cancelSubscription"]
    assert again["subscription"]["cancelAtPeriodEnd"] is True
    assert emulator.retrieve(sub["stripeSubscriptionId"])["cancel_at_period_end"] is True
    emulator.advance_subscription(sub["stripeSubscriptionId"])  # the period ends: canceled
    delivered()
    assert codes(gql.ok(RESUME, {"id": sub["id"]})["resumeSubscription"]) == [("NOT_RESUMABLE", "subscriptionId")]
    assert gql.ok(STATE)["me"]["activeTier"] is None


# --------------------------------------------------- keys and bad input


def test_an_idempotency_key_replays_and_conflicts(gql, plans, emulator, delivered):
    sub = subscribed(gql, emulator, delivered, plans["basic"])
    first = change(gql, sub, plans["full"], key="k-1")
    delivered()
    invoices = len(gql.ok(STATE)["invoices"])
    again = change(gql, sub, plans["full"], key="k-1")
    assert again == first  # the same answer, no second proration
    assert len(gql.ok(STATE)["invoices"]) == invoices and PlanChange.objects.count() == 1
    assert codes(change(gql, sub, plans["basic"], key="k-1")) == [("IDEMPOTENCY_CONFLICT", "idempotencyKey")]
    assert state(gql) == ("full", str(plans["full"].pk))


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("missing", [("NOT_FOUND", "priceId")]),
        ("full_usd", [("INVALID_INPUT", "priceId")]),
        ("one_time", [("WRONG_PRICE_TYPE", "priceId")]),
        ("basic", [("INVALID_INPUT", "priceId")]),  # the price it is on
    ],
)
def test_bad_input_is_a_typed_error_and_changes_nothing(target, expected, gql, plans, emulator, delivered):
    sub = subscribed(gql, emulator, delivered, plans["basic"])
    price = plans.get(target) or Price(pk=987654)
    events = len(emulator.events())
    assert codes(change(gql, sub, price, key="bad")) == expected
    assert codes(gql.ok(PREVIEW, {"id": sub["id"], "price": str(price.pk)})["subscriptionChangePreview"]) == expected
    assert len(emulator.events()) == events and not PlanChange.objects.exists()
    assert state(gql) == ("automated", str(plans["basic"].pk))


def test_a_proration_date_outside_the_period_is_refused(gql, plans, emulator, delivered):
    sub = subscribed(gql, emulator, delivered, plans["basic"])
    assert codes(change(gql, sub, plans["full"], date="2020-01-01T00:00:00Z")) == [("INVALID_INPUT", "prorationDate")]
    assert not PlanChange.objects.exists()


def test_someone_elses_subscription_is_not_found(gql, gql_as, other_user, plans, emulator, delivered):
    sub = subscribed(gql, emulator, delivered, plans["basic"])
    mallory = gql_as(other_user)
    assert codes(change(mallory, sub, plans["full"])) == [("NOT_FOUND", "subscriptionId")]
    assert codes(mallory.ok(RESUME, {"id": sub["id"]})["resumeSubscription"]) == [("NOT_FOUND", "subscriptionId")]
    assert Subscription.objects.get().price == plans["basic"]


# --------------------------------- every ordering of a plan change's events

APPLIED = ("customer.subscription.updated", "invoice.paid", "customer.subscription.pending_update_applied")
EXPIRED = ("customer.subscription.updated", "invoice.voided", "customer.subscription.pending_update_expired")


def plan_change_events(emulator, since: int, types: tuple[str, ...]) -> list[dict]:
    """The plan change's events of these types (both customer.subscription.updated:
    the pending one and the final one), as Stripe sent them, in Stripe's order."""
    return [s.event for s in emulator.events()[since:] if s.event["type"] in types]


@pytest.mark.parametrize("outcome", ["applied", "expired"])
@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_every_ordering_of_a_plan_changes_events_converges(
    order, outcome, gql, plans, emulator, delivered, django_capture_on_commit_callbacks
):
    sub = subscribed(gql, emulator, delivered, plans["basic"], card=THREE_D_SECURE)
    since = len(emulator.events())
    changed = change(gql, sub, plans["full"])  # Stripe's answer: pending, the old plan
    if outcome == "applied":
        emulator.authenticate(intent_of(changed["clientSecret"]))
    else:
        emulator.expire_pending_update(sub["stripeSubscriptionId"])
    events = plan_change_events(emulator, since, APPLIED if outcome == "applied" else EXPIRED)
    assert len(events) == 4, [e["type"] for e in events]
    client = Client()
    for i in order:
        with django_capture_on_commit_callbacks(execute=True):
            assert post_event(client, events[i]).status_code == 200
    expected = ("full", plans["full"]) if outcome == "applied" else ("automated", plans["basic"])
    assert state(gql) == (expected[0], str(expected[1].pk))


def test_a_database_error_in_a_change_is_masked_for_the_client_and_logged_with_its_traceback(gql, monkeypatch, caplog):
    """What the client sees as "Unexpected error." (a deadlock, a lost connection) is
    logged server-side at ERROR with its traceback (strawberry.execution), so that
    a Daphne log tells what it was."""
    from django.db import OperationalError

    from payments.services import plan_changes

    def deadlocked(**kwargs):
        raise OperationalError("deadlock detected\nDETAIL:  Process 1 waits for ShareLock on transaction 2")

    monkeypatch.setattr(plan_changes, "change_subscription", deadlocked)
    with caplog.at_level("ERROR", logger="strawberry.execution"):
        result = gql(CHANGE, {"id": "1", "price": "2"})
    assert [e["message"] for e in result["errors"]] == ["Unexpected error."]
    assert "deadlock" not in str(result)
    [record] = [r for r in caplog.records if r.name == "strawberry.execution"]
    assert record.levelname == "ERROR" and record.exc_info[0] is OperationalError
    logged = caplog.text
    assert "Traceback (most recent call last)" in logged and "deadlock detected" in logged and "in deadlocked" in logged
