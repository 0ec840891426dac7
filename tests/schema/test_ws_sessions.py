"""Open WebSockets end with their session (schema/ws_sessions.py), against real
Daphne processes and real sockets: the viewer logs out over HTTP, over another
socket or over the same one, the session is flushed or expires, the password
changes; each time the subscription ends with an error, the socket closes
with 4401, and nothing of that user is pushed after. Other viewers' sockets
and anonymous ones stay open."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone
from websockets.exceptions import ConnectionClosed

from events.models import Event
from payments.models import Payment
from schema.ws_sessions import dead_sessions
from tests.conftest import make_event
from tests.live_server import Browser, post_webhook
from tests.payments.webhooks.test_views import intent
from tests.schema.test_live import subscribe

CHECK = "0.3"  # GRAPHQL_SESSION_CHECK_SECONDS of the servers here


@pytest.fixture
def sales(django_user_model, catalog):
    """A pending payment for each of two users."""
    made = {}
    for name in ("owner", "other"):
        user = django_user_model.objects.create_user(name, password=f"pw-{name}")
        event = Event.objects.create(user=user, title=f"{name}'s")
        price = catalog["basic_eur"]
        made[name] = Payment.objects.create(
            user=user, price=price, tier=price.tier, amount=price.unit_amount, currency=price.currency,
            payable_type="event", payable_id=str(event.pk), stripe_payment_intent_id=f"pi_ws_{name}",
        )
    return made


@pytest.fixture
def server(start_server):
    return start_server(GRAPHQL_SESSION_CHECK_SECONDS=CHECK)


def _watching(server, name: str, payment):
    """A logged-in browser and its socket subscribed to ``payment`` (first state read)."""
    browser = Browser(server)
    browser.login(name, f"pw-{name}")
    context = browser.websocket()
    ws = context.__enter__()
    subscribe(ws, payment.pk)
    first = json.loads(ws.recv(timeout=15))
    assert first["type"] == "next" and first["payload"]["data"]["paymentStatus"]["status"] == "PENDING", first
    return browser, ws, context


def _ends_with_session_error(ws) -> None:
    """The operation's error arrives, then the socket closes with 4401, within seconds."""
    deadline = time.monotonic() + 10
    messages = []
    with pytest.raises(ConnectionClosed) as closed:
        while time.monotonic() < deadline:
            messages.append(json.loads(ws.recv(timeout=10)))
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401, closed.value
    assert [m["type"] for m in messages] == ["error"], messages
    assert messages[0]["id"] == "1"
    assert messages[0]["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def _still_open(ws, server, payment) -> None:
    """The socket still pushes its own viewer's changes."""
    assert post_webhook(server, make_event("payment_intent.processing", intent(payment, "processing"))) == 200
    message = json.loads(ws.recv(timeout=15))
    assert message["type"] == "next" and message["payload"]["data"]["paymentStatus"]["status"] == "PROCESSING"


def test_logout_over_http_ends_the_socket_of_that_session(server, sales):
    browser, ws, context = _watching(server, "owner", sales["owner"])
    _, other_ws, other_context = _watching(server, "other", sales["other"])
    try:
        assert browser.graphql("mutation { logout }")["data"] == {"logout": True}
        _ends_with_session_error(ws)
        _still_open(other_ws, server, sales["other"])
    finally:
        context.__exit__(None, None, None)
        other_context.__exit__(None, None, None)


def test_after_the_end_nothing_of_that_user_is_pushed(server, sales):
    browser, ws, context = _watching(server, "owner", sales["owner"])
    try:
        browser.graphql("mutation { logout }")
        _ends_with_session_error(ws)
        # The change happens after the end: the closed socket has nothing more to say.
        assert post_webhook(server, make_event("payment_intent.processing", intent(sales["owner"], "processing"))) == 200
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=2)
    finally:
        context.__exit__(None, None, None)


def test_logout_over_another_socket_ends_this_one(server, sales):
    browser, ws, context = _watching(server, "owner", sales["owner"])
    try:
        with browser.websocket() as second:
            second.send(json.dumps({"id": "out", "type": "subscribe", "payload": {"query": "mutation { logout }"}}))
            assert json.loads(second.recv(timeout=10))["payload"]["data"] == {"logout": True}
            _ends_with_session_error(ws)
    finally:
        context.__exit__(None, None, None)


def test_logout_over_the_same_socket_ends_its_subscriptions(server, sales):
    _, ws, context = _watching(server, "owner", sales["owner"])
    try:
        ws.send(json.dumps({"id": "out", "type": "subscribe", "payload": {"query": "mutation { logout }"}}))
        replies = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                replies.append(json.loads(ws.recv(timeout=10)))
        assert closed.value.rcvd.code == 4401
        assert {"id": "out", "type": "next", "payload": {"data": {"logout": True}}} in replies
        assert [m for m in replies if m["id"] == "1"][-1]["type"] == "error"
    finally:
        context.__exit__(None, None, None)


@pytest.mark.parametrize("how", ["flushed", "expired", "password changed"])
def test_a_session_that_ends_on_the_server_ends_the_socket(server, sales, how):
    _, ws, context = _watching(server, "owner", sales["owner"])
    _, other_ws, other_context = _watching(server, "other", sales["other"])
    try:
        owner_sessions = [s.pk for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(sales["owner"].user_id)]
        assert len(owner_sessions) == 1
        if how == "flushed":
            Session.objects.filter(pk__in=owner_sessions).delete()
        elif how == "expired":
            Session.objects.filter(pk__in=owner_sessions).update(expire_date=timezone.now() - timedelta(seconds=1))
        else:
            user = get_user_model().objects.get(username="owner")
            user.set_password("a new one")
            user.save()
        _ends_with_session_error(ws)
        _still_open(other_ws, server, sales["other"])
    finally:
        context.__exit__(None, None, None)
        other_context.__exit__(None, None, None)


def test_an_anonymous_socket_is_not_closed(server, sales):
    with Browser(server).websocket() as ws:
        time.sleep(float(CHECK) * 4)  # several checks pass
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=5))["type"] == "pong"


def test_the_sessions_of_many_sockets_are_checked_in_two_queries(db, django_user_model, client, django_assert_num_queries):
    watched = {}
    for i in range(30):
        user = django_user_model.objects.create_user(f"u{i}", password="pw")
        client.force_login(user)
        watched[client.session.session_key] = str(user.pk)
        client.cookies.clear()
    gone = next(iter(watched))
    Session.objects.filter(pk=gone).delete()
    with django_assert_num_queries(2):
        assert dead_sessions(watched) == {gone}
