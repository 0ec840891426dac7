"""Payments through GraphQL, against the emulator: payment, payments,
createPaymentIntent, refreshPayment."""

import pytest
from django.contrib.auth.models import Permission

from events.models import Event
from payments.models import Customer, Payment, PaymentStatus

CREATE = """mutation($input: CreatePaymentIntentInput!) {
  createPaymentIntent(input: $input) {
    __typename
    ... on CreatePaymentIntentPayload { clientSecret publishableKey payment { id status amount currency stripePaymentIntentId payable { type id } tier { slug } } }
    ... on OperationInfo { messages { kind message field code } }
  }
}"""
REFRESH = """mutation($id: ID!) { refreshPayment(id: $id) {
  __typename ... on Payment { id status } ... on OperationInfo { messages { code } } } }"""


def make_payment(user, price, **kwargs) -> Payment:
    return Payment.objects.create(
        user=user, price=price, tier=price.tier, amount=price.unit_amount, currency=price.currency, **kwargs
    )


def intents_created(emulator) -> list[dict]:
    return [e.event["data"]["object"] for e in emulator.events() if e.event["type"] == "payment_intent.created"]


def codes(result: dict, field: str) -> list[str]:
    payload = result["data"][field]
    assert payload["__typename"] == "OperationInfo", payload
    return [m["code"] for m in payload["messages"]]


@pytest.fixture
def event(user):
    return Event.objects.create(user=user, title="Dentist")


def create(gql, price, event=None, key=None) -> dict:
    variables = {"input": {"priceId": str(price.pk)}}
    if event is not None:
        variables["input"]["payable"] = {"type": "event", "id": str(event.pk)}
    if key is not None:
        variables["input"]["idempotencyKey"] = key
    return gql(CREATE, variables)


# ---------------------------------------------------- createPaymentIntent


def test_create_payment_intent_takes_the_amount_from_the_price(gql, user, catalog, event, emulator):
    result = create(gql, catalog["full_eur"], event)
    payload = result["data"]["createPaymentIntent"]
    assert payload["__typename"] == "CreatePaymentIntentPayload"
    payment = Payment.objects.get()
    assert (payment.amount, payment.currency, payment.status, payment.user) == (2999, "eur", PaymentStatus.PENDING, user)
    assert payload["payment"] == {
        "id": str(payment.pk), "status": "PENDING", "amount": 2999, "currency": "eur",
        "stripePaymentIntentId": payment.stripe_payment_intent_id,
        "payable": {"type": "event", "id": str(event.pk)}, "tier": {"slug": "full"},
    }
    assert payload["publishableKey"] == "pk_test_emulator"
    # What Stripe holds is what the price says, tied to our payment and customer.
    intent = emulator.retrieve(payment.stripe_payment_intent_id)
    assert payload["clientSecret"] == intent["client_secret"]
    assert (intent["amount"], intent["currency"], intent["status"]) == (2999, "eur", "requires_payment_method")
    assert intent["metadata"]["payment_id"] == str(payment.pk)
    assert intent["automatic_payment_methods"]["enabled"] is True
    assert intent["customer"] == Customer.objects.get(user=user).stripe_customer_id


def test_the_client_cannot_choose_the_amount(gql, catalog, event):
    result = gql(CREATE, {"input": {"priceId": str(catalog["full_eur"].pk), "amount": 1}})
    assert "amount" in result["errors"][0]["message"]
    assert not Payment.objects.exists()


def test_same_idempotency_key_gives_the_same_payment_and_secret_and_one_intent(gql, catalog, event, emulator):
    first = create(gql, catalog["full_eur"], event, key="k-1")["data"]["createPaymentIntent"]
    again = create(gql, catalog["full_eur"], event, key="k-1")["data"]["createPaymentIntent"]
    assert first == again
    assert Payment.objects.count() == 1
    assert len(intents_created(emulator)) == 1


def test_same_key_with_other_input_is_an_idempotency_conflict(gql, catalog, event, emulator):
    create(gql, catalog["full_eur"], event, key="k-1")
    assert codes(create(gql, catalog["basic_eur"], event, key="k-1"), "createPaymentIntent") == ["IDEMPOTENCY_CONFLICT"]
    assert Payment.objects.count() == 1
    assert len(intents_created(emulator)) == 1


def test_keys_are_per_user(gql, gql_as, other_user, catalog, emulator):
    create(gql, catalog["full_eur"], key="shared")
    create(gql_as(other_user), catalog["basic_eur"], key="shared")
    assert Payment.objects.count() == 2


def test_a_second_call_for_the_same_payable_and_price_reuses_the_open_payment(gql, catalog, event, emulator):
    first = create(gql, catalog["full_eur"], event)["data"]["createPaymentIntent"]
    second = create(gql, catalog["full_eur"], event)["data"]["createPaymentIntent"]
    assert first["payment"]["id"] == second["payment"]["id"]
    assert first["clientSecret"] == second["clientSecret"]
    assert len(intents_created(emulator)) == 1
    # Another price for the same event is another payment.
    other = create(gql, catalog["basic_eur"], event)["data"]["createPaymentIntent"]
    assert other["payment"]["id"] != first["payment"]["id"]


def test_a_failed_attempt_is_retried_on_the_same_payment(gql, catalog, event, emulator, deliver):
    first = create(gql, catalog["full_eur"], event)["data"]["createPaymentIntent"]
    emulator.pay(first["payment"]["stripePaymentIntentId"], "4000000000000002")
    deliver()
    assert Payment.objects.get().status == PaymentStatus.FAILED
    again = create(gql, catalog["full_eur"], event)["data"]["createPaymentIntent"]
    assert again["payment"]["id"] == first["payment"]["id"]


@pytest.mark.parametrize(
    ("price_key", "code"),
    [("full_monthly", "WRONG_PRICE_TYPE")],
)
def test_a_recurring_price_is_refused(gql, catalog, event, price_key, code):
    assert codes(create(gql, catalog[price_key], event), "createPaymentIntent") == [code]
    assert not Payment.objects.exists()


def test_an_inactive_price_or_tier_is_refused(gql, catalog, event):
    catalog["full_eur"].active = False
    catalog["full_eur"].save()
    assert codes(create(gql, catalog["full_eur"], event), "createPaymentIntent") == ["PRICE_INACTIVE"]
    catalog["basic"].active = False
    catalog["basic"].save()
    assert codes(create(gql, catalog["basic_eur"], event), "createPaymentIntent") == ["PRICE_INACTIVE"]
    assert not Payment.objects.exists()


def test_unknown_price(gql, event):
    for price_id in ["999999", "abc"]:
        result = gql(CREATE, {"input": {"priceId": price_id}})
        assert codes(result, "createPaymentIntent") == ["NOT_FOUND"]


def test_someone_elses_event_looks_like_a_missing_one(gql, other_user, catalog):
    theirs = Event.objects.create(user=other_user, title="Theirs")
    mine_missing = gql(CREATE, {"input": {"priceId": str(catalog["full_eur"].pk), "payable": {"type": "event", "id": "999999"}}})
    not_mine = create(gql, catalog["full_eur"], theirs)
    assert mine_missing["data"] == not_mine["data"]
    assert codes(not_mine, "createPaymentIntent") == ["NOT_FOUND"]
    assert not Payment.objects.exists()


def test_unknown_payable_type(gql, catalog):
    result = gql(CREATE, {"input": {"priceId": str(catalog["full_eur"].pk), "payable": {"type": "boat", "id": "1"}}})
    assert codes(result, "createPaymentIntent") == ["INVALID_INPUT"]


def test_an_event_already_active_at_the_tier_is_not_payable(gql, catalog, event):
    event.is_active, event.tier = True, catalog["full"]
    event.save()
    assert codes(create(gql, catalog["full_eur"], event), "createPaymentIntent") == ["PAYABLE_NOT_PAYABLE"]
    assert codes(create(gql, catalog["basic_eur"], event), "createPaymentIntent") == ["PAYABLE_NOT_PAYABLE"]
    assert not Payment.objects.exists()


def test_an_active_event_can_be_upgraded(gql, catalog, event):
    event.is_active, event.tier = True, catalog["basic"]
    event.save()
    assert create(gql, catalog["full_eur"], event)["data"]["createPaymentIntent"]["__typename"] == "CreatePaymentIntentPayload"


def test_anonymous_is_unauthenticated(anon_gql, catalog):
    assert codes(create(anon_gql, catalog["full_eur"]), "createPaymentIntent") == ["UNAUTHENTICATED"]


def test_payments_switched_off(gql, catalog, event, settings, emulator):
    settings.PAYMENTS_ENABLED = False
    assert codes(create(gql, catalog["full_eur"], event), "createPaymentIntent") == ["PAYMENTS_DISABLED"]
    assert not Payment.objects.exists()
    assert emulator.events() == []


@pytest.mark.parametrize("fault", ["connection_error", "timeout", "500", "429"])
def test_stripe_unreachable_then_retry_completes_with_one_intent(gql, catalog, event, emulator, fault):
    emulator.inject_fault(fault, path_prefix="/v1/payment_intents")
    result = create(gql, catalog["full_eur"], event, key="retry-me")
    assert codes(result, "createPaymentIntent") == ["PROVIDER_UNAVAILABLE"]
    assert "Traceback" not in str(result)
    # Nothing blocks the retry: the same key finishes the same payment.
    retried = create(gql, catalog["full_eur"], event, key="retry-me")["data"]["createPaymentIntent"]
    assert retried["__typename"] == "CreatePaymentIntentPayload"
    payment = Payment.objects.get()
    assert retried["payment"]["id"] == str(payment.pk)
    assert len(intents_created(emulator)) == 1
    assert intents_created(emulator)[0]["id"] == payment.stripe_payment_intent_id


def test_stripe_customer_is_created_once_per_user(gql, catalog, event, emulator):
    create(gql, catalog["full_eur"], event)
    create(gql, catalog["basic_usd"])
    assert Customer.objects.count() == 1
    assert len([e for e in emulator.events() if e.event["type"] == "customer.created"]) == 1


# ------------------------------------------------------------- end to end


@pytest.mark.parametrize(
    ("card", "status", "failure_code", "active"),
    [
        ("4242424242424242", "SUCCEEDED", None, True),
        ("4000000000000002", "FAILED", "generic_decline", False),
        ("4000000000009995", "FAILED", "insufficient_funds", False),
        ("4000002500003155", "REQUIRES_ACTION", None, False),
    ],
)
def test_pay_with_test_cards_through_signed_webhooks(gql, catalog, event, emulator, deliver, card, status, failure_code, active):
    payload = create(gql, catalog["full_eur"], event)["data"]["createPaymentIntent"]
    emulator.pay(payload["payment"]["stripePaymentIntentId"], card)
    assert all(200 <= code < 300 for _, code in deliver())
    data = gql.ok("query($id: ID!) { payment(id: $id) { status failureCode } }", {"id": payload["payment"]["id"]})
    assert data["payment"] == {"status": status, "failureCode": failure_code}
    event.refresh_from_db()
    assert event.is_active is active
    if active:
        assert event.tier == catalog["full"]


def test_3d_secure_then_authenticated(gql, catalog, event, emulator, deliver):
    payload = create(gql, catalog["full_eur"], event)["data"]["createPaymentIntent"]
    intent_id = payload["payment"]["stripePaymentIntentId"]
    emulator.pay(intent_id, "4000002500003155")
    deliver()
    emulator.authenticate(intent_id)
    deliver()
    assert Payment.objects.get().status == PaymentStatus.SUCCEEDED
    event.refresh_from_db()
    assert event.is_active


def test_refresh_payment_applies_what_stripe_says_when_the_webhook_is_late(gql, catalog, event, emulator, deliver):
    payload = create(gql, catalog["full_eur"], event)["data"]["createPaymentIntent"]
    emulator.pay(payload["payment"]["stripePaymentIntentId"])  # no delivery: the webhook is late
    assert Payment.objects.get().status == PaymentStatus.PENDING
    data = gql.ok(REFRESH, {"id": payload["payment"]["id"]})
    assert data["refreshPayment"] == {"__typename": "Payment", "id": payload["payment"]["id"], "status": "SUCCEEDED"}
    event.refresh_from_db()
    assert event.is_active
    # The late webhooks then arrive and change nothing more.
    assert all(code == 200 for _, code in deliver())
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert Event.objects.filter(is_active=True).count() == 1


def test_refresh_payment_of_someone_else_is_not_found(gql_as, other_user, gql, catalog, event):
    payload = create(gql, catalog["full_eur"], event)["data"]["createPaymentIntent"]
    result = gql_as(other_user)(REFRESH, {"id": payload["payment"]["id"]})
    assert codes(result, "refreshPayment") == ["NOT_FOUND"]


def test_refresh_payment_when_stripe_is_down(gql, catalog, event, emulator):
    payload = create(gql, catalog["full_eur"], event)["data"]["createPaymentIntent"]
    emulator.inject_fault("connection_error")
    assert codes(gql(REFRESH, {"id": payload["payment"]["id"]}), "refreshPayment") == ["PROVIDER_UNAVAILABLE"]


# ------------------------------------------------------- payment, payments

PAYMENT = "query($id: ID!) { payment(id: $id) { id status amount currency failureCode refunds { id } tier { slug } price { display } } }"


def test_payment_is_visible_to_its_owner_and_staff_with_view_payment_only(gql_as, user, other_user, staff_user, anon_gql, catalog):
    payment = make_payment(user, catalog["basic_eur"])
    variables = {"id": str(payment.pk)}
    expected = {"id": str(payment.pk), "status": "PENDING", "amount": 999, "currency": "eur", "failureCode": None,
                "refunds": [], "tier": {"slug": "automated"}, "price": {"display": "€9.99"}}
    assert gql_as(user).ok(PAYMENT, variables)["payment"] == expected
    assert gql_as(staff_user).ok(PAYMENT, variables)["payment"] is None  # staff-ness alone reads nothing of others
    staff_user.user_permissions.add(Permission.objects.get(codename="view_payment", content_type__app_label="payments"))
    assert gql_as(type(staff_user).objects.get(pk=staff_user.pk)).ok(PAYMENT, variables)["payment"] == expected
    assert gql_as(other_user).ok(PAYMENT, variables)["payment"] is None
    assert anon_gql.ok(PAYMENT, variables)["payment"] is None
    # An id that does not exist answers exactly like someone else's.
    assert gql_as(other_user).ok(PAYMENT, {"id": "00000000-0000-0000-0000-000000000000"})["payment"] is None
    assert gql_as(other_user).ok(PAYMENT, {"id": "garbage"})["payment"] is None


PAGE = """query($first: Int, $after: String, $status: PaymentStatus) {
  payments(first: $first, after: $after, status: $status) {
    totalCount edges { cursor node { id status } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


def test_payments_are_paginated_newest_first(gql, user, other_user, catalog):
    made = [make_payment(user, catalog["basic_eur"]) for _ in range(5)]
    make_payment(other_user, catalog["basic_eur"])
    newest_first = [str(p.pk) for p in sorted(made, key=lambda p: (p.created_at, p.pk), reverse=True)]

    first = gql.ok(PAGE, {"first": 2})["payments"]
    assert first["totalCount"] == 5
    assert [e["node"]["id"] for e in first["edges"]] == newest_first[:2]
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]

    seen = [e["node"]["id"] for e in first["edges"]]
    after = first["pageInfo"]["endCursor"]
    while after:
        page = gql.ok(PAGE, {"first": 2, "after": after})["payments"]
        seen += [e["node"]["id"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    assert seen == newest_first


def test_payments_filter_by_status(gql, user, catalog):
    make_payment(user, catalog["basic_eur"], status="succeeded")
    make_payment(user, catalog["basic_eur"])
    page = gql.ok(PAGE, {"status": "SUCCEEDED"})["payments"]
    assert page["totalCount"] == 1
    assert page["edges"][0]["node"]["status"] == "SUCCEEDED"


def test_payments_refuse_a_bad_cursor_and_a_huge_page(gql, user, catalog):
    result = gql(PAGE, {"after": "not-a-cursor"})
    assert result["errors"][0]["message"] == "Invalid cursor."
    assert "first must be" in gql(PAGE, {"first": 10_000})["errors"][0]["message"]


def test_payments_are_empty_when_anonymous(anon_gql, user, catalog):
    make_payment(user, catalog["basic_eur"])
    assert anon_gql.ok(PAGE)["payments"]["totalCount"] == 0
