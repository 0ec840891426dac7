"""The mutation extension of schema/extensions.py and the error answers of
schema/errors.py: a viewer is required before the resolver runs, and a domain
failure raised anywhere below the resolver is the client's OperationInfo, over
HTTP and over the WebSocket (where the resolver runs in a worker thread)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from strawberry.channels.testing import GraphQLWebsocketCommunicator

from config.asgi import application
from events.models import Event
from payments import errors
from schema.errors import ANSWERS, ErrorCode, answer, operation_info

CREATE_EVENT = """mutation($title: String!) { createEvent(input: {title: $title}) {
  __typename ... on CreateEventPayload { event { title } }
  ... on OperationInfo { messages { kind message field code } } } }"""


def over_websocket(query: str, variables: dict, *, user=None) -> dict:
    async def run():
        communicator = GraphQLWebsocketCommunicator(
            application=application, path="/graphql/", headers=[(b"origin", b"http://localhost"), (b"host", b"localhost")]
        )
        if user is not None:
            communicator.scope["user"] = user
        async with communicator:
            await communicator.send_json_to(
                {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}
            )
            message = await communicator.receive_json_from(timeout=10)
        assert message["type"] == "next", message
        return message["payload"]

    return async_to_sync(run)()


UNAUTHENTICATED = {"__typename": "OperationInfo", "messages": [
    {"kind": "PERMISSION", "message": "Log in first.", "field": None, "code": "UNAUTHENTICATED"}]}
BAD_TITLE = {"__typename": "OperationInfo", "messages": [
    {"kind": "VALIDATION", "message": "title must be 1 to 200 characters.", "field": "title", "code": "INVALID_INPUT"}]}


def test_an_anonymous_caller_is_unauthenticated_and_nothing_runs(anon_gql):
    assert anon_gql.ok(CREATE_EVENT, {"title": "x"})["createEvent"] == UNAUTHENTICATED
    assert not Event.objects.exists()


# Over the WebSocket the consumer closes the thread's connection after each
# operation, as Channels does, so these tests run on committed transactions.
@pytest.mark.django_db(transaction=True)
def test_an_anonymous_caller_is_unauthenticated_over_the_websocket_too():
    assert over_websocket(CREATE_EVENT, {"title": "x"}) == {"data": {"createEvent": UNAUTHENTICATED}}
    assert not Event.objects.exists()


def test_a_domain_error_raised_by_the_resolver_is_operation_info(gql):
    assert gql.ok(CREATE_EVENT, {"title": " "})["createEvent"] == BAD_TITLE
    assert not Event.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_over_the_websocket_the_viewer_is_the_connections_and_errors_are_caught(user):
    assert over_websocket(CREATE_EVENT, {"title": " "}, user=user) == {"data": {"createEvent": BAD_TITLE}}
    made = over_websocket(CREATE_EVENT, {"title": "Over the socket"}, user=user)
    assert made == {"data": {"createEvent": {"__typename": "CreateEventPayload", "event": {"title": "Over the socket"}}}}
    assert list(Event.objects.values_list("user__username", "title")) == [("alice", "Over the socket")]


def _domain_errors() -> list[type[errors.PaymentsError]]:
    return [v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, errors.PaymentsError)]


@pytest.mark.parametrize("error_class", _domain_errors(), ids=lambda c: c.__name__)
def test_every_domain_error_has_an_answer_of_its_own(error_class):
    assert error_class in ANSWERS, f"schema/errors.py ANSWERS says nothing of {error_class.__name__}"


def test_each_error_code_but_the_fallback_is_one_domain_errors():
    codes = [code for cls, (code, _kind) in ANSWERS.items() if cls is not errors.PaymentsError]
    assert sorted(c.name for c in codes) == sorted(c.name for c in ErrorCode)


def test_a_subclass_answers_as_its_nearest_mapped_base():
    class Expired(errors.CardDeclined):
        pass

    assert answer(Expired("Your card has expired.")) == ANSWERS[errors.CardDeclined]
    info = operation_info(Expired("Your card has expired.", field="card"))
    [message] = info.messages
    assert (message.kind.name, message.message, message.field, message.code) == (
        "ERROR", "Your card has expired.", "card", "CARD_DECLINED")
