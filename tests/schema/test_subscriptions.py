"""Subscriptions and billing history, through GraphQL and signed webhooks only, against the emulator."""

import itertools
import json
import time

import pytest
from django.contrib.auth.models import Permission
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
PAY_EVENT = """mutation($price: ID!, $event: ID!) { createPaymentIntent(input: {priceId: $price, payable: {type: "event", id: $event}}) {
  ... on CreatePaymentIntentPayload { payment { id stripePaymentIntentId } } } }"""
SUBSCRIPTIONS = "{ subscriptions { id status cancelAtPeriodEnd currentPeriodStart currentPeriodEnd } }"
INVOICES = "{ invoices { number status amountDue amountPaid currency periodStart periodEnd hostedInvoiceUrl invoicePdf subscription { id } } }"


def subscribe(gql, price, key=None) -> dict:
    return gql(SUBSCRIBE, {"price": str(price.pk), "key": key})["data"]["createSubscription"]


def codes(payload) -> list[str]:
    assert payload["__typename"] == "OperationInfo", payload
    return [m["code"] for m in payload["messages"]]


def ok_all(results) -> None:
    assert results and all(code == 200 for _, code in results), results


PAYMENTS = "{ payments { edges { node { id status amount stripePaymentIntentId payable { type id } refunds { amount status reason } } } } }"


def payments_of(gql) -> list[dict]:
    """The viewer's payments, newest first, through GraphQL."""
    return [edge["node"] for edge in gql.ok(PAYMENTS)["payments"]["edges"]]


def test_the_whole_walk(gql, catalog, emulator, deliver):
    monthly = catalog["full_monthly"]
    created = subscribe(gql, monthly)
    assert created["__typename"] == "CreateSubscriptionPayload"
    assert created["subscription"]["status"] == "INCOMPLETE"
    assert created["clientSecret"] and created["publishableKey"] == "pk_test_emulator"
    sub_id, stripe_id = created["subscription"]["id"], created["subscription"]["stripeSubscriptionId"]
    assert gql.ok(ME)["me"] == {"isPremium": False, "activeTier": None}

    # The first invoice's intent is a Payment the client can watch; pay it as Stripe.js would.
    [payment] = payments_of(gql)
    assert payment["payable"] == {"type": "subscription", "id": sub_id} and payment["status"] == "PENDING"
    assert created["clientSecret"].startswith(payment["stripePaymentIntentId"])
    emulator.pay(payment["stripePaymentIntentId"])
    ok_all(deliver())
    assert gql.ok(SUBSCRIPTIONS)["subscriptions"][0]["status"] == "ACTIVE"
    assert gql.ok(ME)["me"] == {"isPremium": True, "activeTier": {"slug": "full"}}
    [payment] = payments_of(gql)
    assert (payment["status"], payment["amount"]) == ("SUCCEEDED", 1999)

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
    assert [(p["status"], p["payable"]["id"]) for p in payments_of(gql)] == [("SUCCEEDED", sub_id)] * 2

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
    assert gql.ok(SUBSCRIPTIONS)["subscriptions"][0]["status"] == "PAST_DUE"
    assert gql.ok(ME)["me"] == {"isPremium": True, "activeTier": {"slug": "full"}}
    emulator.advance_subscription(stripe_id)
    ok_all(deliver())
    assert gql.ok(SUBSCRIPTIONS)["subscriptions"][0]["status"] == "CANCELED"
    assert gql.ok(ME)["me"] == {"isPremium": False, "activeTier": None}
    assert [s["id"] for s in gql.ok(SUBSCRIPTIONS)["subscriptions"]] == [sub_id]  # nothing is deleted


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


def test_stripe_customer_is_made_once_for_payments_and_subscriptions(gql, user, catalog, emulator, deliver):
    from events.models import Event

    event = Event.objects.create(user=user, title="Dentist")
    paid = gql(PAY_EVENT, {"price": str(catalog["full_eur"].pk), "event": str(event.pk)})["data"]["createPaymentIntent"]
    emulator.pay(paid["payment"]["stripePaymentIntentId"])
    ok_all(deliver())
    subscribed = subscribe(gql, catalog["full_monthly"])
    emulator.pay(next(p for p in payments_of(gql) if p["payable"]["type"] == "subscription")["stripePaymentIntentId"])
    ok_all(deliver())
    assert sorted((p["payable"]["type"], p["status"]) for p in payments_of(gql)) == [
        ("event", "SUCCEEDED"), ("subscription", "SUCCEEDED"),
    ]
    customers = {emulator.retrieve(p["stripePaymentIntentId"])["customer"] for p in payments_of(gql)}
    assert customers == {emulator.retrieve(subscribed["subscription"]["stripeSubscriptionId"])["customer"]}
    assert len([e for e in emulator.events() if e.event["type"] == "customer.created"]) == 1
    assert Customer.objects.count() == 1


def test_cancel_now_and_who_may_cancel(gql, gql_as, other_user, staff_user, catalog, emulator, deliver):
    sub_id = subscribe(gql, catalog["full_monthly"])["subscription"]["id"]
    emulator.pay(Payment.objects.get().stripe_payment_intent_id)
    ok_all(deliver())
    assert codes(gql_as(other_user).ok(CANCEL, {"id": sub_id, "end": False})["cancelSubscription"]) == ["NOT_FOUND"]
    # Staff-ness alone cancels nothing, at Stripe or here (the issue: at once, anyone's).
    stripe_events = len(emulator.events())
    assert codes(gql_as(staff_user).ok(CANCEL, {"id": sub_id, "end": False})["cancelSubscription"]) == ["NOT_FOUND"]
    assert len(emulator.events()) == stripe_events and Subscription.objects.get(pk=sub_id).status == "active"
    staff_user.user_permissions.add(Permission.objects.get(codename="change_subscription", content_type__app_label="payments"))
    by_staff = gql_as(type(staff_user).objects.get(pk=staff_user.pk)).ok(CANCEL, {"id": sub_id, "end": False})["cancelSubscription"]
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
    receiver = lambda sender, user, previous_tier, tier, **kw: seen.append((user, previous_tier, tier))  # noqa: E731
    entitlement_changed.connect(receiver)
    try:
        subscribe(gql, catalog["full_monthly"])
        emulator.pay(payments_of(gql)[0]["stripePaymentIntentId"])
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            ok_all(deliver())
            assert seen == []  # nothing is sent before the transactions commit
        assert gql.ok(ME)["me"]["isPremium"] is True  # the change is there; its signal waits for the commit
        assert seen == []
        for callback in callbacks:
            callback()
        assert seen == [(user, None, catalog["full"])]  # once, for the one change
    finally:
        entitlement_changed.disconnect(receiver)


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
    body, status, _ = emulator.handle_http("POST", f"https://api.stripe.com{path}", {"Authorization": "Bearer sk_test_emulator"}, form)
    return status, json.loads(body)


def emulator_get(emulator, path):
    body, status, _ = emulator.handle_http("GET", f"https://api.stripe.com{path}", {"Authorization": "Bearer sk_test_emulator"}, None)
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


# ------------------------------------------------ invoices and their subscription, in any order

# A subscription's life at Stripe up to its first payment, as the endpoint gets it.
LIFE_WITH_INVOICES = ("customer.subscription.created", "invoice.finalized", "invoice.paid", "customer.subscription.updated")
STATE = """{ me { isPremium activeTier { slug } } subscriptions { id status stripeSubscriptionId }
  invoices { status amountPaid subscription { id } } }"""


def dashboard_subscription(emulator, user, price) -> str:
    """Made in the Stripe Dashboard for our customer: straight at Stripe, never through our API."""
    from payments.services.catalog import price_ensure_at_stripe
    from payments.services.customers import customer_get_or_create

    customer = customer_get_or_create(user=user)
    stripe_price = price_ensure_at_stripe(price=price)
    status, body = emulator_post(
        emulator, "/v1/subscriptions",
        f"customer={customer.stripe_customer_id}&items[0][price]={stripe_price}&payment_behavior=default_incomplete",
    )
    assert status == 200, body
    return body["id"]


def first_invoice_intent(emulator, stripe_subscription_id) -> str:
    from payments import gateway

    return gateway.retrieve_invoice(emulator.retrieve(stripe_subscription_id)["latest_invoice"]).payment_intent


def events_of(emulator, types) -> list[dict]:
    """The first event of each type, as Stripe sent it."""
    found = {}
    for stored in emulator.events():
        found.setdefault(stored.event["type"], stored.event)
    return [found[t] for t in types]


@pytest.mark.parametrize("origin", ["dashboard", "api"])
@pytest.mark.parametrize("order", list(itertools.permutations(range(len(LIFE_WITH_INVOICES)))))
def test_every_ordering_of_a_subscriptions_events_with_its_invoices_through_the_endpoint(order, origin, gql, user, catalog, emulator):
    if origin == "api":
        stripe_id = subscribe(gql, catalog["full_monthly"])["subscription"]["stripeSubscriptionId"]
    else:
        stripe_id = dashboard_subscription(emulator, user, catalog["full_monthly"])
    assert emulator.pay(first_invoice_intent(emulator, stripe_id))["error"] is None
    events = events_of(emulator, LIFE_WITH_INVOICES)  # only these: the intent's own events never come
    client = Client()
    for i in order:
        assert post_event(client, events[i]).status_code == 200

    state = gql.ok(STATE)
    [subscription] = state["subscriptions"]
    assert (subscription["status"], subscription["stripeSubscriptionId"]) == ("ACTIVE", stripe_id)
    assert state["invoices"] == [{"status": "PAID", "amountPaid": 1999, "subscription": {"id": subscription["id"]}}]
    assert [(p["status"], p["amount"], p["payable"]) for p in payments_of(gql)] == [
        ("SUCCEEDED", 1999, {"type": "subscription", "id": subscription["id"]})
    ]  # one Payment per paid invoice
    assert state["me"] == {"isPremium": True, "activeTier": {"slug": "full"}}


def test_an_invoice_paid_before_its_dashboard_subscription_arrives_is_linked_with_its_payment(gql, user, catalog, emulator, deliver):
    """The confirmed case: invoice events first, then the subscription's."""
    stripe_id = dashboard_subscription(emulator, user, catalog["full_monthly"])
    emulator.pay(first_invoice_intent(emulator, stripe_id))
    invoice_events = [e for e in (s.event for s in emulator.events()) if e["type"].startswith("invoice.")]
    client = Client()
    for event in invoice_events:
        assert post_event(client, event).status_code == 200
    assert gql.ok(STATE)["invoices"] == [{"status": "PAID", "amountPaid": 1999, "subscription": None}]
    ok_all(deliver())  # everything, the subscription's events included (the invoices' again: duplicates)
    state = gql.ok(STATE)
    [subscription] = state["subscriptions"]
    assert subscription["status"] == "ACTIVE"
    assert state["invoices"] == [{"status": "PAID", "amountPaid": 1999, "subscription": {"id": subscription["id"]}}]
    assert [(p["status"], p["payable"]["id"]) for p in payments_of(gql)] == [("SUCCEEDED", subscription["id"])]


# ------------------------------------------------ adoption of what the Dashboard made


def test_a_dashboard_subscription_on_a_price_we_do_not_have_is_adopted_and_its_price_imported(gql, user, catalog, emulator, deliver):
    from payments.services.customers import customer_get_or_create

    customer = customer_get_or_create(user=user)
    status, product = emulator_post(emulator, "/v1/products", "name=Concierge")
    assert status == 200, product
    status, price = emulator_post(
        emulator, "/v1/prices", f"product={product['id']}&currency=eur&unit_amount=4900&recurring[interval]=month"
    )
    assert status == 200, price
    status, sub = emulator_post(
        emulator, "/v1/subscriptions",
        f"customer={customer.stripe_customer_id}&items[0][price]={price['id']}&payment_behavior=default_incomplete",
    )
    assert status == 200, sub
    emulator.pay(first_invoice_intent(emulator, sub["id"]))
    ok_all(deliver())
    adopted = gql.ok("{ subscriptions { status tier { name slug } price { display } } me { isPremium activeTier { slug } } }")
    assert adopted["subscriptions"] == [
        {"status": "ACTIVE", "tier": {"name": "Concierge", "slug": "concierge"}, "price": {"display": "€49.00 / month"}}
    ]
    assert adopted["me"] == {"isPremium": True, "activeTier": {"slug": "concierge"}}
    # Linked to Stripe's objects as payments_sync_catalog --pull links them.
    tier = Subscription.objects.get().tier
    assert (tier.stripe_product_id, tier.prices.get().stripe_price_id) == (product["id"], price["id"])
    assert [(p["status"], p["amount"]) for p in payments_of(gql)] == [("SUCCEEDED", 4900)]


# ------------------------------------------------ one subscription start at a time


def other_monthly(catalog):
    from payments.models import Price

    return Price.objects.create(
        tier=catalog["basic"], currency="eur", unit_amount=999, type="recurring", interval="month", interval_count=1
    )


def test_a_start_for_another_price_closes_the_incomplete_one_and_refunds_it_if_paid_anyway(gql, catalog, emulator, deliver):
    first = subscribe(gql, catalog["full_monthly"])
    second = subscribe(gql, other_monthly(catalog))
    assert second["subscription"]["id"] != first["subscription"]["id"] and second["clientSecret"]
    # The first can no longer start: canceled here and at Stripe.
    assert emulator.retrieve(first["subscription"]["stripeSubscriptionId"])["status"] == "canceled"
    statuses = {s["id"]: s["status"] for s in gql.ok(SUBSCRIPTIONS)["subscriptions"]}
    assert statuses == {first["subscription"]["id"]: "CANCELED", second["subscription"]["id"]: "INCOMPLETE"}

    # A second browser tab still holds the first invoice's client secret (Stripe cannot
    # cancel an invoice's PaymentIntent) and pays it: the money goes back at once.
    by_sub = {p["payable"]["id"]: p for p in payments_of(gql)}
    emulator.pay(by_sub[first["subscription"]["id"]]["stripePaymentIntentId"])
    emulator.pay(by_sub[second["subscription"]["id"]]["stripePaymentIntentId"])
    ok_all(deliver())
    ok_all(deliver())  # the refund's own events
    statuses = {s["id"]: s["status"] for s in gql.ok(SUBSCRIPTIONS)["subscriptions"]}
    assert statuses == {first["subscription"]["id"]: "CANCELED", second["subscription"]["id"]: "ACTIVE"}
    by_sub = {p["payable"]["id"]: p for p in payments_of(gql)}
    refunded = by_sub[first["subscription"]["id"]]
    assert (refunded["status"], refunded["refunds"]) == ("REFUNDED", [{"amount": 1999, "status": "SUCCEEDED", "reason": "DUPLICATE"}])
    assert (by_sub[second["subscription"]["id"]]["status"], by_sub[second["subscription"]["id"]]["refunds"]) == ("SUCCEEDED", [])
    assert gql.ok(ME)["me"] == {"isPremium": True, "activeTier": {"slug": "automated"}}


def test_the_same_price_again_reuses_the_incomplete_subscription_and_closes_nothing(gql, catalog, emulator):
    first = subscribe(gql, catalog["full_monthly"])
    assert subscribe(gql, catalog["full_monthly"]) == first
    assert emulator.retrieve(first["subscription"]["stripeSubscriptionId"])["status"] == "incomplete"


# ------------------------------------------------ subscription Checkout pages

def open_pages(emulator, user) -> list[str]:
    """The customer's Checkout pages at Stripe that can still be paid."""
    customer = Customer.objects.get(user=user).stripe_customer_id
    status, body = emulator_get(emulator, f"/v1/checkout/sessions?customer={customer}&status=open&limit=100")
    assert status == 200, body
    return sorted(s["id"] for s in body["data"])


def test_a_second_subscription_checkout_for_the_same_price_reuses_the_open_page(gql, user, catalog, emulator):
    from tests.schema.test_checkout import checkout

    first = checkout(gql, catalog["full_monthly"])["checkoutSession"]
    again = checkout(gql, catalog["full_monthly"])["checkoutSession"]
    assert again == first
    assert open_pages(emulator, user) == [first["id"]]


def test_a_subscription_checkout_for_another_price_expires_the_open_page_first(gql, user, catalog, emulator, deliver):
    from tests.schema.test_checkout import checkout

    first = checkout(gql, catalog["full_monthly"])["checkoutSession"]
    second = checkout(gql, other_monthly(catalog))["checkoutSession"]
    assert second["id"] != first["id"]
    assert emulator.retrieve(first["id"])["status"] == "expired"
    assert open_pages(emulator, user) == [second["id"]]
    # The customer who kept the first page open can no longer pay on it.
    assert "no longer open" in emulator.complete_checkout(first["id"])["error"]["message"]
    assert emulator.complete_checkout(second["id"])["error"] is None
    ok_all(deliver())
    assert [s["status"] for s in gql.ok(SUBSCRIPTIONS)["subscriptions"]] == ["ACTIVE"]
    assert gql.ok(ME)["me"]["activeTier"] == {"slug": "automated"}


def test_one_open_start_across_create_subscription_and_checkout(gql, user, catalog, emulator):
    from tests.schema.test_checkout import checkout

    page = checkout(gql, catalog["full_monthly"])["checkoutSession"]
    created = subscribe(gql, other_monthly(catalog))
    assert emulator.retrieve(page["id"])["status"] == "expired"  # createSubscription closed the page
    again = checkout(gql, catalog["full_monthly"])["checkoutSession"]
    assert again["id"] != page["id"] and open_pages(emulator, user) == [again["id"]]
    # ... and the page closed the subscription that was never paid.
    assert emulator.retrieve(created["subscription"]["stripeSubscriptionId"])["status"] == "canceled"
    assert [s["status"] for s in gql.ok(SUBSCRIPTIONS)["subscriptions"]] == ["CANCELED"]


def test_subscription_checkout_idempotency_key(gql, catalog, emulator):
    from tests.schema.test_checkout import checkout

    first = checkout(gql, catalog["full_monthly"], idempotencyKey="page-1")
    assert checkout(gql, catalog["full_monthly"], idempotencyKey="page-1") == first
    assert codes(checkout(gql, other_monthly(catalog), idempotencyKey="page-1")) == ["IDEMPOTENCY_CONFLICT"]
    assert emulator.retrieve(first["checkoutSession"]["id"])["status"] == "open"


def test_a_subscription_from_a_page_completed_in_a_race_is_canceled_and_refunded(gql, user, catalog, emulator, deliver, caplog):
    """What still slips through: a second page (opened before this rule existed, or
    whose expiry lost a race with its completion) completes while the first one's
    subscription runs."""
    from payments.services.catalog import price_ensure_at_stripe
    from tests.schema.test_checkout import OK_URLS, checkout

    page = checkout(gql, catalog["full_monthly"])["checkoutSession"]
    customer = Customer.objects.get(user=user)
    status, stale = emulator_post(
        emulator, "/v1/checkout/sessions",
        f"mode=subscription&customer={customer.stripe_customer_id}&line_items[0][price]={price_ensure_at_stripe(price=catalog['full_monthly'])}"
        f"&line_items[0][quantity]=1&success_url={OK_URLS['successUrl']}&client_reference_id={user.pk}"
        f"&metadata[user_id]={user.pk}&subscription_data[metadata][user_id]={user.pk}",
    )
    assert status == 200, stale
    assert emulator.complete_checkout(page["id"])["error"] is None
    ok_all(deliver())
    assert emulator.complete_checkout(stale["id"])["error"] is None
    with caplog.at_level("ERROR", logger="payments.services.subscription_sync"):
        ok_all(deliver())
    ok_all(deliver())  # the cancel's and the refund's own events

    subscriptions = gql.ok(SUBSCRIPTIONS)["subscriptions"]
    assert sorted(s["status"] for s in subscriptions) == ["ACTIVE", "CANCELED"]
    duplicate = Subscription.objects.get(status="canceled")
    assert emulator.retrieve(duplicate.stripe_subscription_id)["status"] == "canceled"
    assert sorted((p["status"], len(p["refunds"])) for p in payments_of(gql)) == [("REFUNDED", 1), ("SUCCEEDED", 0)]
    assert gql.ok(ME)["me"] == {"isPremium": True, "activeTier": {"slug": "full"}}
    assert any("canceled at Stripe, its payments refunded" in r.getMessage() for r in caplog.records)


def test_a_dashboard_subscription_beside_a_running_one_is_left_running_and_flagged(gql, user, catalog, emulator, deliver, caplog):
    subscribe(gql, catalog["full_monthly"])
    emulator.pay(payments_of(gql)[0]["stripePaymentIntentId"])
    ok_all(deliver())
    stripe_id = dashboard_subscription(emulator, user, other_monthly(catalog))
    emulator.pay(first_invoice_intent(emulator, stripe_id))
    with caplog.at_level("ERROR", logger="payments.services.subscription_sync"):
        ok_all(deliver())
    assert [s["status"] for s in gql.ok(SUBSCRIPTIONS)["subscriptions"]] == ["ACTIVE", "ACTIVE"]
    assert [p["status"] for p in payments_of(gql)] == ["SUCCEEDED", "SUCCEEDED"]
    assert any("left running for a person to decide" in r.getMessage() for r in caplog.records)


# ------------------------------------------------ the rest of the contract


def test_cancel_without_at_period_end_cancels_at_period_end(gql, catalog, emulator, deliver):
    sub_id = subscribe(gql, catalog["full_monthly"])["subscription"]["id"]
    emulator.pay(payments_of(gql)[0]["stripePaymentIntentId"])
    ok_all(deliver())
    query = """mutation($id: ID!) { cancelSubscription(input: {subscriptionId: $id}) {
      ... on CancelSubscriptionPayload { subscription { status cancelAtPeriodEnd canceledAt } } } }"""
    canceled = gql.ok(query, {"id": sub_id})["cancelSubscription"]["subscription"]
    assert (canceled["status"], canceled["cancelAtPeriodEnd"]) == ("ACTIVE", True) and canceled["canceledAt"]
    ok_all(deliver())
    assert gql.ok(ME)["me"]["isPremium"] is True


def test_client_secret_is_null_when_nothing_is_due(gql, catalog, emulator):
    from payments.models import Price

    free = Price.objects.create(tier=catalog["full"], currency="eur", unit_amount=0, type="recurring", interval="month", interval_count=1)
    created = subscribe(gql, free)
    assert created["__typename"] == "CreateSubscriptionPayload" and created["clientSecret"] is None
    assert gql.ok(INVOICES)["invoices"][0]["amountDue"] == 0
    assert payments_of(gql) == []  # nothing to pay, nothing to watch


def later(monkeypatch, seconds: int) -> None:
    """Time passes at Stripe (the emulator has no clock of its own)."""
    now = int(time.time()) + seconds
    monkeypatch.setattr("stripe_emulator.objects.now", lambda: now)


def test_paused_and_resumed_through_the_endpoint(gql, catalog, emulator, deliver, monkeypatch):
    stripe_id = subscribe(gql, catalog["full_monthly"])["subscription"]["stripeSubscriptionId"]
    emulator.pay(payments_of(gql)[0]["stripePaymentIntentId"])
    ok_all(deliver())
    later(monkeypatch, 60)
    emulator.pause_subscription(stripe_id)
    ok_all(deliver())
    assert [e.event["type"] for e in emulator.events()][-2:] == ["customer.subscription.paused", "customer.subscription.updated"]
    assert gql.ok(SUBSCRIPTIONS)["subscriptions"][0]["status"] == "PAUSED"
    assert gql.ok(ME)["me"] == {"isPremium": False, "activeTier": None}
    later(monkeypatch, 120)
    emulator.resume_subscription(stripe_id)
    ok_all(deliver())
    assert [e.event["type"] for e in emulator.events()][-2:] == ["customer.subscription.resumed", "customer.subscription.updated"]
    assert gql.ok(SUBSCRIPTIONS)["subscriptions"][0]["status"] == "ACTIVE"
    assert gql.ok(ME)["me"] == {"isPremium": True, "activeTier": {"slug": "full"}}


def test_invoice_payment_action_required_through_the_endpoint(gql, catalog, emulator, deliver):
    from payments.models import WebhookEvent

    subscribe(gql, catalog["full_monthly"])
    intent = payments_of(gql)[0]["stripePaymentIntentId"]
    emulator.pay(intent, "4000002500003155")  # 3-D Secure
    ok_all(deliver())
    assert WebhookEvent.objects.get(type="invoice.payment_action_required").status == "processed"
    assert payments_of(gql)[0]["status"] == "REQUIRES_ACTION"
    assert [i["status"] for i in gql.ok(INVOICES)["invoices"]] == ["OPEN"]
    assert gql.ok(SUBSCRIPTIONS)["subscriptions"][0]["status"] == "INCOMPLETE"
    emulator.authenticate(intent)
    ok_all(deliver())
    assert payments_of(gql)[0]["status"] == "SUCCEEDED"
    assert gql.ok(SUBSCRIPTIONS)["subscriptions"][0]["status"] == "ACTIVE"


def test_invoice_updated_through_the_endpoint(gql, catalog, emulator, deliver):
    """The emulator sends no invoice.updated: Stripe's own, made from the invoice it holds."""
    from payments.models import WebhookEvent

    stripe_id = subscribe(gql, catalog["full_monthly"])["subscription"]["stripeSubscriptionId"]
    ok_all(deliver())
    invoice = dict(emulator.retrieve(emulator.retrieve(stripe_id)["latest_invoice"]))
    invoice["hosted_invoice_url"] = f"https://invoice.stripe.com/i/emulated/{invoice['id']}?v=2"
    event = make_event("invoice.updated", invoice, created=int(time.time()) + 5)
    assert post_event(Client(), event).status_code == 200
    assert WebhookEvent.objects.get(stripe_event_id=event["id"]).status == "processed"
    assert gql.ok(INVOICES)["invoices"][0]["hostedInvoiceUrl"].endswith("?v=2")


def test_payment_status_of_a_subscription_invoice_payment_receives_its_change(start_server, gql, user, catalog, emulator, deliver):
    from stripe_emulator import HttpSender
    from tests.live_server import Browser
    from tests.schema.test_live import receive
    from tests.schema.test_live import subscribe as watch

    subscribe(gql, catalog["full_monthly"])
    ok_all(deliver())  # what creating it sent, before anyone watches
    payment = payments_of(gql)[0]
    server = start_server()
    browser = Browser(server)
    browser.login("alice", "pw-alice")
    with browser.websocket() as ws:
        watch(ws, payment["id"])
        assert receive(ws)["payload"]["data"]["paymentStatus"]["status"] == "PENDING"
        emulator.pay(payment["stripePaymentIntentId"])
        results = emulator.deliver_pending(sender=HttpSender(f"{server.base}/api/payments/webhook/"))
        assert results and all(code == 200 for _, code in results), results
        pushed = receive(ws)["payload"]["data"]["paymentStatus"]
        assert (pushed["id"], pushed["status"], pushed["amount"]) == (payment["id"], "SUCCEEDED", 1999)
    assert gql.ok(SUBSCRIPTIONS)["subscriptions"][0]["status"] == "ACTIVE"


def test_nothing_new_starts_while_a_subscription_pages_payment_is_on_its_way(gql, catalog, emulator, deliver):
    from tests.schema.test_checkout import checkout

    basic = other_monthly(catalog)
    page = checkout(gql, catalog["full_monthly"])["checkoutSession"]
    assert emulator.complete_checkout(page["id"], delayed=True)["error"] is None
    # Before any webhook (Stripe is read), and after them (our Payment says so).
    assert codes(subscribe(gql, basic)) == ["ALREADY_SUBSCRIBED"]
    ok_all(deliver())
    assert payments_of(gql)[0]["status"] == "PROCESSING"
    assert codes(checkout(gql, basic)) == ["ALREADY_SUBSCRIBED"]
    assert [s["status"] for s in gql.ok(SUBSCRIPTIONS)["subscriptions"]] == ["INCOMPLETE"]

    # The money never arrives: the page's subscription is closed by the next start.
    emulator.settle_checkout(page["id"], succeed=False)
    ok_all(deliver())
    created = subscribe(gql, basic)
    assert created["__typename"] == "CreateSubscriptionPayload" and created["clientSecret"]
    assert sorted(s["status"] for s in gql.ok(SUBSCRIPTIONS)["subscriptions"]) == ["CANCELED", "INCOMPLETE"]
