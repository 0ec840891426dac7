"""Stripe failing under every money mutation: the client gets PROVIDER_UNAVAILABLE,
nothing blocks a retry, and the retry (same idempotencyKey) completes with
exactly one Stripe object: one charge, one refund, one subscription. Not only
each mutation's main call fails: also a new user's first call (the Customer)
and the catalog's first use (the Product and Price created at Stripe by
createSubscription and createCheckoutSession), each retried to exactly one."""

import json

import pytest

from events.models import Event
from payments.models import Customer, Payment, Refund, Subscription

FAULTS = ["connection_error", "timeout", "500", "429"]


def created(emulator, event_type: str) -> int:
    return len([e for e in emulator.events() if e.event["type"] == event_type])


def code_of(payload) -> str | None:
    return payload["messages"][0]["code"] if payload.get("messages") else None


@pytest.fixture
def event(user):
    return Event.objects.create(user=user, title="Dentist")


def create_payment_intent(gql, catalog, event):
    return gql.ok("""mutation($i: CreatePaymentIntentInput!) { createPaymentIntent(input: $i) {
        ... on CreatePaymentIntentPayload { payment { id } clientSecret } ... on OperationInfo { messages { code } } } }""",
                  {"i": {"priceId": str(catalog["full_eur"].pk), "payable": {"type": "event", "id": str(event.pk)},
                         "idempotencyKey": "k"}})["createPaymentIntent"]


def create_checkout_session(gql, catalog, event):
    return gql.ok("""mutation($i: CreateCheckoutSessionInput!) { createCheckoutSession(input: $i) {
        ... on CreateCheckoutSessionPayload { checkoutSession { id } payment { id } } ... on OperationInfo { messages { code } } } }""",
                  {"i": {"priceId": str(catalog["full_eur"].pk), "payable": {"type": "event", "id": str(event.pk)},
                         "successUrl": "http://localhost:3000/ok", "cancelUrl": "http://localhost:3000/no",
                         "idempotencyKey": "k"}})["createCheckoutSession"]


def create_subscription(gql, catalog, event):
    return gql.ok("""mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) {
        ... on CreateSubscriptionPayload { subscription { id } clientSecret } ... on OperationInfo { messages { code } } } }""",
                  {"i": {"priceId": str(catalog["full_monthly"].pk), "idempotencyKey": "k"}})["createSubscription"]


def checkout_sessions(emulator) -> list[str]:
    """Checkout sessions send no event: Stripe's list of them."""
    body, _, _ = emulator.handle_http("GET", "https://api.stripe.com/v1/checkout/sessions", {}, None)
    return [s["id"] for s in json.loads(body)["data"]]


# Each creating mutation: the path of its main Stripe call, the event Stripe sends
# for the object it creates (None: checkout sessions, listed instead), and the
# rows it leaves here once done: (Payments, Subscriptions).
CREATING = [
    pytest.param(create_payment_intent, "/v1/payment_intents", "payment_intent.created", (1, 0), id="createPaymentIntent"),
    pytest.param(create_checkout_session, "/v1/checkout/sessions", None, (1, 0), id="createCheckoutSession"),
    pytest.param(create_subscription, "/v1/subscriptions", "customer.subscription.created", (1, 1), id="createSubscription"),
]


def assert_exactly_one_main_object(emulator, retried, stripe_event, rows) -> None:
    if stripe_event:
        assert created(emulator, stripe_event) == 1
    else:
        assert checkout_sessions(emulator) == [retried["checkoutSession"]["id"]]
        assert Payment.objects.get().stripe_checkout_session_id == retried["checkoutSession"]["id"]
    assert (Payment.objects.count(), Subscription.objects.count()) == rows


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize(("mutation", "path", "stripe_event", "rows"), CREATING)
def test_creating_mutations_retry_to_exactly_one(gql, catalog, event, emulator, fault, mutation, path, stripe_event, rows):
    emulator.inject_fault(fault, path_prefix=path)
    failed = mutation(gql, catalog, event)
    assert code_of(failed) == "PROVIDER_UNAVAILABLE"
    retried = mutation(gql, catalog, event)
    assert code_of(retried) is None, retried
    assert mutation(gql, catalog, event) == retried  # and once more: the same answer
    assert_exactly_one_main_object(emulator, retried, stripe_event, rows)
    assert created(emulator, "customer.created") == 1 and Customer.objects.count() == 1


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize(("mutation", "path", "stripe_event", "rows"), CREATING)
def test_a_fault_on_a_new_users_customer_creation_retries_to_exactly_one_customer(
    gql, catalog, event, emulator, fault, mutation, path, stripe_event, rows
):
    """The first Stripe call of a user who has none yet creates the Customer."""
    assert not Customer.objects.exists()
    emulator.inject_fault(fault, path_prefix="/v1/customers")
    failed = mutation(gql, catalog, event)
    assert code_of(failed) == "PROVIDER_UNAVAILABLE"
    retried = mutation(gql, catalog, event)
    assert code_of(retried) is None, retried
    assert mutation(gql, catalog, event) == retried
    assert created(emulator, "customer.created") == 1
    customer = Customer.objects.get()
    assert emulator.retrieve(customer.stripe_customer_id)["id"] == customer.stripe_customer_id
    assert_exactly_one_main_object(emulator, retried, stripe_event, rows)


def stripe_catalog(emulator) -> tuple[list[str], list[str]]:
    products, _, _ = emulator.handle_http("GET", "https://api.stripe.com/v1/products?limit=100", {}, None)
    prices, _, _ = emulator.handle_http("GET", "https://api.stripe.com/v1/prices?limit=100", {}, None)
    return [p["id"] for p in json.loads(products)["data"]], [p["id"] for p in json.loads(prices)["data"]]


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("catalog_path", ["/v1/products", "/v1/prices"], ids=["product", "price"])
@pytest.mark.parametrize(
    ("mutation", "price_key", "path", "stripe_event", "rows"),
    [
        pytest.param(create_subscription, "full_monthly", "/v1/subscriptions", "customer.subscription.created", (1, 1),
                     id="createSubscription"),
        pytest.param(create_checkout_session, "full_eur", "/v1/checkout/sessions", None, (1, 0),
                     id="createCheckoutSession"),
    ],
)
def test_a_fault_on_catalog_creation_retries_to_exactly_one_product_and_price(
    gql, catalog, event, emulator, fault, catalog_path, mutation, price_key, path, stripe_event, rows
):
    """The Product and Price are created at Stripe on first use; a fault there
    answers PROVIDER_UNAVAILABLE and the retry ends with one of each, stored on
    our Tier and Price."""
    price = catalog[price_key]
    assert not price.stripe_price_id and not price.tier.stripe_product_id
    emulator.inject_fault(fault, path_prefix=catalog_path)
    failed = mutation(gql, catalog, event)
    assert code_of(failed) == "PROVIDER_UNAVAILABLE", failed
    retried = mutation(gql, catalog, event)
    assert code_of(retried) is None, retried
    assert mutation(gql, catalog, event) == retried
    price.refresh_from_db()
    price.tier.refresh_from_db()
    assert (created(emulator, "product.created"), created(emulator, "price.created")) == (1, 1)
    assert stripe_catalog(emulator) == ([price.tier.stripe_product_id], [price.stripe_price_id])
    assert emulator.retrieve(price.stripe_price_id)["product"] == price.tier.stripe_product_id
    assert_exactly_one_main_object(emulator, retried, stripe_event, rows)


@pytest.fixture
def paid(gql, catalog, event, emulator, deliver):
    payment_id = create_payment_intent(gql, catalog, event)["payment"]["id"]
    emulator.pay(Payment.objects.get(pk=payment_id).stripe_payment_intent_id)
    deliver()
    return payment_id


@pytest.mark.parametrize("fault", FAULTS)
def test_refund_retries_to_exactly_one_refund(gql, settings, paid, emulator, fault):
    settings.PAYMENTS_CUSTOMER_REFUNDS = True
    query = """mutation($i: RefundInput!) { refund(input: $i) {
        ... on RefundPayload { refund { id status } } ... on OperationInfo { messages { code } } } }"""
    variables = {"i": {"paymentId": paid, "amount": 500, "idempotencyKey": "r"}}
    emulator.inject_fault(fault, path_prefix="/v1/refunds")
    assert code_of(gql.ok(query, variables)["refund"]) == "PROVIDER_UNAVAILABLE"
    assert gql.ok(query, variables)["refund"]["refund"]["status"] == "SUCCEEDED"
    assert created(emulator, "refund.created") == 1 and Refund.objects.count() == 1


@pytest.mark.parametrize("fault", FAULTS)
def test_refresh_payment_fails_cleanly_then_works(gql, paid, emulator, fault):
    query = """mutation($id: ID!) { refreshPayment(id: $id) { ... on Payment { status } ... on OperationInfo { messages { code } } } }"""
    emulator.inject_fault(fault, path_prefix="/v1/payment_intents")
    assert code_of(gql.ok(query, {"id": paid})["refreshPayment"]) == "PROVIDER_UNAVAILABLE"
    assert gql.ok(query, {"id": paid})["refreshPayment"] == {"status": "SUCCEEDED"}


@pytest.mark.parametrize("fault", FAULTS)
def test_cancel_subscription_fails_cleanly_then_works(gql, catalog, event, emulator, deliver, fault):
    sub_id = create_subscription(gql, catalog, event)["subscription"]["id"]
    emulator.pay(Payment.objects.get().stripe_payment_intent_id)
    deliver()
    query = """mutation($id: ID!) { cancelSubscription(input: {subscriptionId: $id}) {
        ... on CancelSubscriptionPayload { subscription { cancelAtPeriodEnd } } ... on OperationInfo { messages { code } } } }"""
    emulator.inject_fault(fault, path_prefix="/v1/subscriptions")
    assert code_of(gql.ok(query, {"id": sub_id})["cancelSubscription"]) == "PROVIDER_UNAVAILABLE"
    assert Subscription.objects.get().cancel_at_period_end is False
    assert gql.ok(query, {"id": sub_id})["cancelSubscription"] == {"subscription": {"cancelAtPeriodEnd": True}}


def test_stripe_refusing_is_provider_error_and_changes_nothing(gql, catalog, event, emulator):
    from payments.models import Price

    Price.objects.filter(pk=catalog["full_monthly"].pk).update(stripe_price_id="price_gone")  # Stripe does not know it
    assert code_of(create_subscription(gql, catalog, event)) == "PROVIDER_ERROR"
    assert created(emulator, "customer.subscription.created") == 0
