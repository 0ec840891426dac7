"""The host app's events through GraphQL: events, createEvent."""

import pytest

from events.models import Event
from tests.schema.test_payments import codes, make_payment


def test_events_are_the_viewers_own_with_their_payments(gql, user, other_user, catalog):
    mine = Event.objects.create(user=user, title="Mine")
    Event.objects.create(user=other_user, title="Theirs")
    payment = make_payment(user, catalog["basic_eur"], payable_type="event", payable_id=str(mine.pk))
    data = gql.ok("{ events { id title isActive tier { id } payments { id amount payable { type id } } } }")
    assert data["events"] == [{
        "id": str(mine.pk), "title": "Mine", "isActive": False, "tier": None,
        "payments": [{"id": str(payment.pk), "amount": 999, "payable": {"type": "event", "id": str(mine.pk)}}],
    }]


def test_events_are_empty_when_anonymous(anon_gql, user):
    Event.objects.create(user=user, title="Mine")
    assert anon_gql.ok("{ events { id } }")["events"] == []



CREATE_EVENT = """mutation($title: String!) { createEvent(input: {title: $title}) {
  __typename ... on CreateEventPayload { event { title isActive tier { id } } } ... on OperationInfo { messages { code field } } } }"""


def test_create_event(gql, user):
    data = gql.ok(CREATE_EVENT, {"title": "  Dentist  "})
    assert data["createEvent"] == {"__typename": "CreateEventPayload", "event": {"title": "Dentist", "isActive": False, "tier": None}}
    assert Event.objects.get().user == user


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
def test_create_event_refuses_a_bad_title(gql, title):
    assert codes(gql(CREATE_EVENT, {"title": title}), "createEvent") == ["INVALID_INPUT"]
    assert not Event.objects.exists()


def test_create_event_needs_a_login(anon_gql):
    assert codes(anon_gql(CREATE_EVENT, {"title": "x"}), "createEvent") == ["UNAUTHENTICATED"]
