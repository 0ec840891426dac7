"""Hostile values in every argument of every operation: a typed answer, never
"Unexpected error.", never a 500, nothing written.

The class of attack: ids that ``str.isdigit`` accepts but are not ids ("²",
"٣", full-width digits), ids too large for a bigint, ids with spaces or signs;
a NUL anywhere in a string (in the variables or written in the document);
amounts Stripe refuses for the currency. Each value goes into each ID or
String argument of each query and mutation, for an anonymous visitor and a
logged-in user (the answer differs: NOT_FOUND, null, UNAUTHENTICATED,
INVALID_INPUT), on SQLite and PostgreSQL (where a NUL or a huge id is what
reached the database layer before)."""

from __future__ import annotations

import json

import pytest
from django.apps import apps

from payments.models import PaymentStatus
from payments.money import amount_problem
from schema.inputs import MESSAGE as NUL_MESSAGE
from tests.conftest import GraphQL

HOSTILE_IDS = ["²", "٣", "１２", "99999999999999999999", "-1", " 1", "1 ", "0", "1e3", "0x10", "", "²" * 40]
NUL_STRINGS = ["\x00", "a\x00b", "title\x00"]

# Each operation with one argument (the $v variable) to attack; "id" or "string".
OPERATIONS = {
    "tier": ("id", "query($v: ID!) { tier(id: $v) { id } }"),
    "payment": ("id", "query($v: ID!) { payment(id: $v) { id } }"),
    "payments.after": ("string", "query($v: String) { payments(after: $v) { edges { node { id } } } }"),
    "login.username": ("string", 'mutation($v: String!) { login(username: $v, password: "x") { username } }'),
    "login.password": ("string", 'mutation($v: String!) { login(username: "alice", password: $v) { username } }'),
    "createEvent": ("string", "mutation($v: String!) { createEvent(input: {title: $v}) { __typename } }"),
    "activateEvent.eventId": ("id", 'mutation($v: ID!) { activateEvent(input: {eventId: $v, tierId: "1"}) { __typename } }'),
    "activateEvent.tierId": ("id", 'mutation($v: ID!) { activateEvent(input: {eventId: "1", tierId: $v}) { __typename } }'),
    "createPaymentIntent.priceId": ("id", "mutation($v: ID!) { createPaymentIntent(input: {priceId: $v}) { __typename } }"),
    "createPaymentIntent.payable.id": (
        "id", 'mutation($v: ID!) { createPaymentIntent(input: {priceId: "1", payable: {type: "event", id: $v}}) { __typename } }'),
    "createPaymentIntent.payable.type": (
        "string", 'mutation($v: String!) { createPaymentIntent(input: {priceId: "1", payable: {type: $v, id: "1"}}) { __typename } }'),
    "createPaymentIntent.idempotencyKey": (
        "string", 'mutation($v: String) { createPaymentIntent(input: {priceId: "1", idempotencyKey: $v}) { __typename } }'),
    "createCheckoutSession.priceId": (
        "id", 'mutation($v: ID!) { createCheckoutSession(input: {priceId: $v, successUrl: "http://localhost:3000/a", cancelUrl: "http://localhost:3000/b"}) { __typename } }'),
    "createCheckoutSession.successUrl": (
        "string", 'mutation($v: String!) { createCheckoutSession(input: {priceId: "1", successUrl: $v, cancelUrl: "http://localhost:3000/b"}) { __typename } }'),
    "createSubscription.priceId": ("id", "mutation($v: ID!) { createSubscription(input: {priceId: $v}) { __typename } }"),
    "cancelSubscription": ("id", "mutation($v: ID!) { cancelSubscription(input: {subscriptionId: $v}) { __typename } }"),
    "refund.paymentId": ("id", "mutation($v: ID!) { refund(input: {paymentId: $v}) { __typename } }"),
    "refund.description": (
        "string", 'mutation($v: String) { refund(input: {paymentId: "00000000-0000-0000-0000-000000000001", description: $v}) { __typename } }'),
    "refreshPayment": ("id", "mutation($v: ID!) { refreshPayment(id: $v) { __typename } }"),
}

CASES = [(name, value) for name, (kind, _) in OPERATIONS.items() for value in (HOSTILE_IDS if kind == "id" else [])]
CASES += [(name, value) for name in OPERATIONS for value in NUL_STRINGS]


def _row_counts() -> dict[str, int]:
    return {
        m._meta.label: m._default_manager.count()
        for app in ("payments", "events") for m in apps.get_app_config(app).get_models()
    }


def _no_internal_error(result: dict) -> None:
    text = json.dumps(result)
    assert "Unexpected error" not in text, result
    assert "Traceback" not in text and "psycopg" not in text.lower(), result


@pytest.fixture(params=["anonymous", "user"])
def viewer(request, anon_gql, gql) -> GraphQL:
    return anon_gql if request.param == "anonymous" else gql


@pytest.mark.parametrize(("operation", "value"), CASES, ids=[f"{o}-{v!r}" for o, v in CASES])
def test_a_hostile_value_gets_a_typed_answer_and_writes_nothing(viewer, catalog, operation, value):
    _, document = OPERATIONS[operation]
    before = _row_counts()
    result = viewer(document, {"v": value})  # GraphQL asserts HTTP 200 (JSON, no 500)
    _no_internal_error(result)
    if "\x00" in value:
        assert [e["message"] for e in result["errors"]] == [NUL_MESSAGE]
        assert result["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert _row_counts() == before


@pytest.mark.parametrize("where", ["in a string literal", "in an argument name's string", "in a nested input"])
def test_a_nul_written_in_the_document_is_refused(gql, where):
    document = {
        "in a string literal": 'mutation { createEvent(input: {title: "a\\u0000b"}) { __typename } }',
        "in an argument name's string": 'query { payment(id: "\\u0000") { id } }',
        "in a nested input": 'mutation { createPaymentIntent(input: {priceId: "1", payable: {type: "ev\\u0000", id: "1"}}) { __typename } }',
    }[where]
    before = _row_counts()
    result = gql(document)
    assert result["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert result["data"] is None
    assert _row_counts() == before


def test_ids_that_look_like_digits_are_not_other_ids(gql, user):
    """ "٣" is 3 to int(): it must not name the event whose id is 3."""
    from events.models import Event

    events = [Event.objects.create(user=user, title=f"e{i}") for i in range(4)]
    target = events[-1].pk
    arabic = "".join("٠١٢٣٤٥٦٧٨٩"[int(d)] for d in str(target))
    assert int(arabic) == target  # what used to make it match
    result = gql(f'mutation {{ activateEvent(input: {{eventId: "{arabic}", tierId: "1"}}) {{ __typename ... on OperationInfo {{ messages {{ code field }} }} }} }}')
    assert result["data"]["activateEvent"]["messages"][0]["code"] == "NOT_FOUND"
    assert not Event.objects.get(pk=target).is_active


@pytest.mark.parametrize(("amount", "currency", "refused"), [
    (1005, "kwd", True), (1000, "kwd", False), (1, "bhd", True), (10, "jod", False), (5, "omr", True), (2999, "tnd", True),
    (999, "eur", False), (1, "usd", False), (500, "jpy", False), (1, "krw", False), (10.5, "jpy", True), (1000.0, "kwd", True),
])
def test_amounts_stripe_refuses_for_the_currency(amount, currency, refused):
    assert (amount_problem(amount, currency) is not None) is refused


def test_a_price_in_a_three_decimal_currency_must_end_in_zero(catalog):
    from django.core.exceptions import ValidationError

    price = catalog["basic_eur"]
    price.currency, price.unit_amount = "kwd", 1005
    with pytest.raises(ValidationError) as refused:
        price.full_clean()
    assert "unit_amount" in refused.value.message_dict
    price.unit_amount = 1010
    price.full_clean()


def test_a_partial_refund_stripe_would_refuse_is_invalid_input(db, staff_user, catalog, gql_as):
    from django.contrib.auth.models import Permission

    from payments.models import Payment

    staff_user.user_permissions.add(Permission.objects.get(codename="add_refund"))
    price = catalog["basic_eur"]
    payment = Payment.objects.create(
        user=staff_user, price=price, tier=price.tier, amount=1000, currency="kwd",
        status=PaymentStatus.SUCCEEDED, stripe_payment_intent_id="pi_kwd",
    )
    result = gql_as(staff_user)(
        "mutation($id: ID!) { refund(input: {paymentId: $id, amount: 5}) { ... on OperationInfo { messages { code field message } } } }",
        {"id": str(payment.pk)},
    )
    [message] = result["data"]["refund"]["messages"]
    assert (message["code"], message["field"]) == ("INVALID_INPUT", "amount")
    assert "end in 0" in message["message"]
    assert not payment.refunds.exists()
