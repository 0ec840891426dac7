"""payments/stripe_data/events.py: what an event is about, and an event that
cannot be stored refused as MalformedStripeObject."""

import pytest

from payments.errors import MalformedStripeObject
from payments.stripe_data import event_from_dict, payment_intent_id_of


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
