"""The plain values read from Stripe's JSON: what an event is about, and damaged
data of any shape refused as MalformedStripeObject (never another exception)."""

import pytest

from payments.errors import MalformedStripeObject
from payments.stripe_data import (
    event_from_dict,
    invoice_from_dict,
    payment_intent_from_dict,
    payment_intent_id_of,
    price_from_dict,
    refund_from_dict,
    subscription_from_dict,
)


def _event(event_type: str, obj: dict) -> dict:
    return {"id": "evt_1", "object": "event", "type": event_type, "created": 1_700_000_000, "data": {"object": obj}}


@pytest.mark.parametrize(
    ("event_type", "obj", "intent"),
    [
        ("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent"}, "pi_1"),
        ("charge.succeeded", {"id": "ch_1", "payment_intent": "pi_2"}, "pi_2"),
        ("refund.created", {"id": "re_1", "payment_intent": {"id": "pi_3"}}, "pi_3"),  # expanded
        ("checkout.session.completed", {"id": "cs_1", "payment_intent": None}, None),
        ("customer.subscription.updated", {"id": "sub_1"}, None),
        ("charge.refunded", {"id": "ch_1", "payment_intent": 42}, None),  # not an id
    ],
)
def test_an_events_payment_intent_is_read_from_the_event(event_type, obj, intent):
    assert event_from_dict(_event(event_type, obj)).payment_intent_id == intent
    assert payment_intent_id_of(event_type, obj) == intent


def test_an_event_keeps_its_payload_and_object():
    data = _event("payment_intent.created", {"id": "pi_1"})
    event = event_from_dict(data)
    assert (event.id, event.type, event.created, event.livemode, event.api_version) == (
        "evt_1", "payment_intent.created", 1_700_000_000, False, ""
    )
    assert event.object == {"id": "pi_1"} and event.payload is data


@pytest.mark.parametrize(
    "data",
    [
        {**_event("x.y", {}), "data": {"object": "not an object"}},
        {**_event("x.y", {}), "id": ""},
        {**_event("x.y", {}), "type": "t" * 101},
        {**_event("x.y", {}), "created": 0},
        {**_event("x.y", {}), "created": "soon"},
        {"id": "evt_1", "data": {"object": {}}},  # no type
    ],
    ids=["object-not-a-mapping", "empty-id", "type-too-long", "created-zero", "created-not-a-number", "no-type"],
)
def test_an_event_that_cannot_be_stored_is_malformed(data):
    with pytest.raises(MalformedStripeObject):
        event_from_dict(data)


INTENT = {"id": "pi_1", "status": "succeeded", "amount": 500, "currency": "eur", "amount_received": 500,
          "customer": {"id": "cus_1"}, "latest_charge": "ch_1",
          "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds", "message": "No."}}


def test_a_payment_intent_reads_expanded_fields_and_its_last_error():
    intent = payment_intent_from_dict(INTENT)
    assert (intent.customer, intent.latest_charge, intent.failure_code, intent.failure_message) == (
        "cus_1", "ch_1", "insufficient_funds", "No."
    )


@pytest.mark.parametrize(
    ("reader", "obj"),
    [
        (payment_intent_from_dict, {**INTENT, "status": "teleported"}),  # not a status of the API version
        (payment_intent_from_dict, {**INTENT, "amount": "five"}),
        (payment_intent_from_dict, {**INTENT, "currency": 978}),
        (payment_intent_from_dict, {**INTENT, "customer": ["cus_1"]}),
        (refund_from_dict, {"id": "re_1", "status": "pending", "amount": 1}),  # no currency
        (invoice_from_dict, {"id": "in_1", "currency": "eur", "created": 1, "parent": "x"}),
        (subscription_from_dict, {"id": "sub_1", "status": "active", "created": 1, "items": {"data": [7]}}),
        (price_from_dict, {"id": "price_1", "currency": "eur", "recurring": {"interval_count": "x"}}),
        (payment_intent_from_dict, None),
    ],
)
def test_damaged_data_of_any_shape_is_malformed(reader, obj):
    with pytest.raises(MalformedStripeObject) as info:
        reader(obj)
    assert reader.__name__ in str(info.value)
