"""CSRF at /graphql/: a refusal is a JSON GraphQL error (CSRF_FAILED), in DEBUG
or not, while the admin keeps Django's HTML page; the public csrfToken query
hands the token (and the cookie) to a client that cannot read the cookie."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from django.test import Client
from strawberry.channels.testing import GraphQLWebsocketCommunicator

from config.asgi import application  # imported at collection: DEBUG is still the environment's

LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { username } }"
CREATE_EVENT = 'mutation { createEvent(input: {title: "Mine"}) { __typename } }'


def post(client: Client, query: str, variables: dict | None = None, **headers):
    return client.post(
        "/graphql/", data=json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json", **headers,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False])
def test_a_csrf_refusal_at_graphql_is_a_json_graphql_error(settings, user, debug):
    settings.DEBUG = debug
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = post(client, CREATE_EVENT)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "CSRF_FAILED"}
    assert error["message"].startswith("CSRF verification failed: CSRF cookie not set.")


@pytest.mark.django_db
def test_a_wrong_token_is_refused_as_json_too(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/graphql/?query=%7B__typename%7D")  # the csrftoken cookie
    response = post(client, CREATE_EVENT, HTTP_X_CSRFTOKEN="x" * 32)
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "CSRF_FAILED"


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False])
def test_elsewhere_a_csrf_refusal_is_djangos_page(settings, debug):
    settings.DEBUG = debug
    response = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "a", "password": "b"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert b"CSRF" in response.content


@pytest.mark.django_db
def test_csrf_token_over_get_sets_the_cookie_and_lets_a_mutation_through(user):
    client = Client(enforce_csrf_checks=True)
    response = client.get("/graphql/", {"query": "{ csrfToken }"})
    assert response.status_code == 200
    token = response.json()["data"]["csrfToken"]
    assert len(token) == 64 and "csrftoken" in response.cookies

    login = post(client, LOGIN, {"u": "alice", "p": "pw-alice"}, HTTP_X_CSRFTOKEN=token)
    assert login.json()["data"] == {"login": {"username": "alice"}}
    # login rotated the token: the old one is refused, a fresh one works.
    assert post(client, CREATE_EVENT, HTTP_X_CSRFTOKEN=token).status_code == 403
    fresh = client.get("/graphql/", {"query": "{ csrfToken }"}).json()["data"]["csrfToken"]
    created = post(client, CREATE_EVENT, HTTP_X_CSRFTOKEN=fresh)
    assert created.json()["data"] == {"createEvent": {"__typename": "CreateEventPayload"}}


@pytest.mark.django_db(transaction=True)
def test_csrf_token_over_the_websocket_is_an_error():
    async def run():
        communicator = GraphQLWebsocketCommunicator(
            application=application, path="/graphql/", headers=[(b"origin", b"http://localhost"), (b"host", b"localhost")]
        )
        async with communicator:
            await communicator.send_json_to({"id": "1", "type": "subscribe", "payload": {"query": "{ csrfToken }"}})
            return await communicator.receive_json_from(timeout=10)

    message = async_to_sync(run)()
    assert message["type"] == "next" and message["payload"]["data"] is None
    assert "HTTP only" in message["payload"]["errors"][0]["message"]
