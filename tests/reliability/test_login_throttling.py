"""Login throttling (django-axes): repeated failures for one username, or from
one address, are refused for LOGIN_COOLOFF_SECONDS, the right password too,
with a GraphQL error whose extensions.code is RATE_LIMITED; over HTTP, over the
WebSocket (the same counts: the client's address) and at the admin login.

The limit here is 3 (the test settings raise it for every other test); time is
moved with time-machine, never slept through.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.test import Client
from django.utils import timezone
from strawberry.channels.testing import GraphQLWebsocketCommunicator

from config.asgi import application

LIMIT = 3
COOLOFF = 600
LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { username } }"
WRONG = "not-the-password"


@pytest.fixture(autouse=True)
def throttling(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.LOGIN_COOLOFF_SECONDS = COOLOFF
    settings.AXES_COOLOFF_TIME = timedelta(seconds=COOLOFF)


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="pw-alice")


def login(username: str, password: str, *, ip: str = "10.0.0.1") -> dict:
    response = Client(REMOTE_ADDR=ip).post(
        "/graphql/", data=json.dumps({"query": LOGIN, "variables": {"u": username, "p": password}}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content  # a GraphQL answer, never axes's lockout page
    return response.json()


def outcome(answer: dict) -> str:
    """As axes counts: the failure that reaches the limit is refused as RATE_LIMITED already."""
    if answer.get("data") and answer["data"]["login"]:
        return f"logged in as {answer['data']['login']['username']}"
    [error] = answer["errors"]
    code = (error.get("extensions") or {}).get("code")
    if code == "RATE_LIMITED":
        assert error["message"] == "Too many failed logins: try again later."
        assert error["extensions"]["retryAfterSeconds"] == COOLOFF
        return "RATE_LIMITED"
    assert error["message"] == "Incorrect username/password", error
    return "wrong"


def test_a_username_attacked_from_many_addresses_is_locked_the_right_password_too(alice):
    for n in range(LIMIT - 1):
        assert outcome(login("alice", WRONG, ip=f"10.1.0.{n}")) == "wrong"
    assert outcome(login("alice", WRONG, ip="10.1.0.99")) == "RATE_LIMITED"  # the failure that reaches the limit
    assert outcome(login("alice", "pw-alice", ip="10.9.9.9")) == "RATE_LIMITED"  # a fresh address, the right password
    assert outcome(login("bob-unknown", WRONG, ip="10.9.9.9")) == "wrong"  # that address is not locked itself


def test_an_unknown_username_is_locked_like_a_real_one(alice):
    """The lockout tells nobody whether the username exists."""
    for n in range(LIMIT - 1):
        assert outcome(login("nobody", WRONG, ip=f"10.2.0.{n}")) == "wrong"
    assert login("nobody", WRONG, ip="10.2.1.1")["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_an_address_attacking_many_usernames_is_locked(alice):
    for n in range(LIMIT - 1):
        assert outcome(login(f"user{n}", WRONG, ip="10.3.0.1")) == "wrong"
    assert outcome(login("user-last", WRONG, ip="10.3.0.1")) == "RATE_LIMITED"
    assert outcome(login("alice", "pw-alice", ip="10.3.0.1")) == "RATE_LIMITED"
    assert outcome(login("alice", "pw-alice", ip="10.3.0.2")) == "logged in as alice"  # elsewhere she may


def test_a_success_resets_the_count(alice):
    for _ in range(2):
        for _ in range(LIMIT - 1):
            assert outcome(login("alice", WRONG)) == "wrong"
        assert outcome(login("alice", "pw-alice")) == "logged in as alice"
    assert outcome(login("alice", WRONG)) == "wrong"


def test_the_lockout_expires_after_the_cooloff(alice):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(LIMIT):
            login("alice", WRONG)
        clock.shift(timedelta(seconds=COOLOFF - 5))
        assert outcome(login("alice", "pw-alice", ip="10.4.0.1")) == "RATE_LIMITED"  # still locked
        clock.shift(timedelta(seconds=6))
        # The failures are older than the cool-off: they no longer count (that
        # refused attempt, one failure, is below the limit).
        assert outcome(login("alice", "pw-alice", ip="10.4.0.2")) == "logged in as alice"


def test_failures_during_the_lockout_keep_it(alice):
    """Axes restarts the cool-off of a (username, address) that keeps failing while locked out."""
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(LIMIT):
            login("alice", WRONG)
        clock.shift(timedelta(seconds=COOLOFF - 5))
        assert outcome(login("alice", WRONG)) == "RATE_LIMITED"
        clock.shift(timedelta(seconds=COOLOFF - 5))
        assert outcome(login("alice", "pw-alice")) == "RATE_LIMITED"
        clock.shift(timedelta(seconds=COOLOFF + 1))
        assert outcome(login("alice", "pw-alice")) == "logged in as alice"


def _over_websocket(attempts: list[tuple[str, str]], ip: str) -> list[dict]:
    async def run():
        communicator = GraphQLWebsocketCommunicator(
            application=application, path="/graphql/", headers=[(b"origin", b"http://localhost"), (b"host", b"localhost")]
        )
        communicator.scope["client"] = (ip, 50000)
        answers = []
        async with communicator:
            for n, (username, password) in enumerate(attempts):
                await communicator.send_json_to({
                    "id": str(n), "type": "subscribe",
                    "payload": {"query": LOGIN, "variables": {"u": username, "p": password}},
                })
                message = await communicator.receive_json_from(timeout=10)
                assert message["type"] == "next", message
                answers.append(message["payload"])
                assert (await communicator.receive_json_from(timeout=10))["type"] == "complete"
        return answers

    return async_to_sync(run)()


@pytest.mark.django_db(transaction=True)
def test_over_the_websocket_too(alice):
    answers = _over_websocket([("alice", WRONG)] * LIMIT + [("alice", "pw-alice")], ip="10.5.0.1")
    assert [outcome(a) for a in answers] == ["wrong"] * (LIMIT - 1) + ["RATE_LIMITED"] * 2
    # The address counts over HTTP as well: one count, whatever the transport.
    assert outcome(login("alice", "pw-alice", ip="10.5.0.1")) == "RATE_LIMITED"


@pytest.mark.django_db(transaction=True)
def test_over_the_websocket_a_success_logs_the_connection_in(alice):
    [answer] = _over_websocket([("alice", "pw-alice")], ip="10.6.0.1")
    assert outcome(answer) == "logged in as alice"


def test_the_admin_login_is_throttled_too(admin_user):
    client = Client(REMOTE_ADDR="10.7.0.1")
    for _ in range(LIMIT - 1):
        response = client.post("/admin/login/", {"username": "admin", "password": WRONG})
        assert response.status_code == 200  # the form again, with its error
    assert client.post("/admin/login/", {"username": "admin", "password": WRONG}).status_code == 429
    response = client.post("/admin/login/", {"username": "admin", "password": "password"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
