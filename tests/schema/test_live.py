"""paymentStatus over a real WebSocket (graphql-transport-ws) against real
Daphne processes: the viewer from the session cookie, the current state at
once, then each change pushed when a signed webhook is processed."""

from __future__ import annotations

import json
import os
import time

import pytest

from events.models import Event
from payments.models import Payment
from tests.conftest import make_event
from tests.live_server import Browser, post_webhook
from tests.payments.webhooks.test_views import intent

SUBSCRIBE = "subscription($id: ID!) { paymentStatus(paymentId: $id) { id status amount failureCode } }"


def subscribe(ws, payment_id, op_id: str = "1") -> None:
    ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": SUBSCRIBE, "variables": {"id": str(payment_id)}}}))


def receive(ws) -> dict:
    message = json.loads(ws.recv(timeout=15))
    assert message["type"] in {"next", "error", "complete"}, message
    return message


@pytest.fixture
def sale(django_user_model, catalog):
    owner = django_user_model.objects.create_user("owner", password="pw-owner")
    django_user_model.objects.create_user("stranger", password="pw-stranger")
    event = Event.objects.create(user=owner, title="Dentist")
    price = catalog["basic_eur"]
    payment = Payment.objects.create(
        user=owner, price=price, tier=price.tier, amount=price.unit_amount, currency=price.currency,
        payable_type="event", payable_id=str(event.pk), stripe_payment_intent_id="pi_live_1",
    )
    return payment


def test_owner_sees_the_current_state_then_each_change(start_server, sale):
    server = start_server()
    browser = Browser(server)
    browser.login("owner", "pw-owner")
    with browser.websocket() as ws:
        subscribe(ws, sale.pk)
        first = receive(ws)
        assert first["payload"]["data"]["paymentStatus"] == {"id": str(sale.pk), "status": "PENDING", "amount": 999, "failureCode": None}

        now = int(time.time())
        declined = {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline", "message": "Your card was declined."}
        assert post_webhook(server, make_event("payment_intent.payment_failed", intent(sale, "requires_payment_method", error=declined), created=now)) == 200
        assert receive(ws)["payload"]["data"]["paymentStatus"]["status"] == "FAILED"
        assert post_webhook(server, make_event("payment_intent.processing", intent(sale, "processing"), created=now + 1)) == 200
        assert post_webhook(server, make_event("payment_intent.succeeded", intent(sale, "succeeded"), created=now + 2)) == 200
        statuses = [receive(ws)["payload"]["data"]["paymentStatus"] for _ in range(2)]
        assert [s["status"] for s in statuses] == ["PROCESSING", "SUCCEEDED"]
        assert statuses[-1]["failureCode"] == "generic_decline"
    sale.refresh_from_db()
    assert sale.status == "succeeded"


def test_someone_else_gets_an_error_and_no_data(start_server, sale):
    server = start_server()
    browser = Browser(server)
    browser.login("stranger", "pw-stranger")
    with browser.websocket() as ws:
        subscribe(ws, sale.pk)
        message = receive(ws)
        assert message["type"] == "next"
        assert message["payload"]["data"] is None
        assert [e["message"] for e in message["payload"]["errors"]] == ["No such payment, or not yours."]
        assert receive(ws)["type"] == "complete"


def test_anonymous_websocket_gets_an_error(start_server, sale):
    server = start_server()
    with Browser(server).websocket() as ws:
        subscribe(ws, sale.pk)
        message = receive(ws)
        assert message["payload"]["data"] is None
        assert [e["message"] for e in message["payload"]["errors"]] == ["No such payment, or not yours."]


def test_login_over_the_websocket_makes_the_same_viewer(start_server, sale):
    server = start_server()
    with Browser(server).websocket() as ws:
        login = "mutation { login(username: \"owner\", password: \"pw-owner\") { username } }"
        ws.send(json.dumps({"id": "login", "type": "subscribe", "payload": {"query": login}}))
        assert receive(ws)["payload"]["data"] == {"login": {"username": "owner"}}
        assert receive(ws)["type"] == "complete"
        subscribe(ws, sale.pk)
        assert receive(ws)["payload"]["data"]["paymentStatus"]["status"] == "PENDING"
        ws.send(json.dumps({"id": "logout", "type": "subscribe", "payload": {"query": "mutation { logout }"}}))
        # (The logout then ends the socket's subscriptions: tests/schema/test_ws_sessions.py.)
        replies = [receive(ws) for _ in range(2)]
        assert [m for m in replies if m["id"] == "logout"][0]["payload"]["data"] == {"logout": True}


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: two server processes share changes through Redis (runs in CI)")
def test_change_processed_by_one_process_reaches_a_subscriber_of_another(start_server, sale):
    redis = os.environ["REDIS_URL"]
    a, b = start_server(REDIS_URL=redis), start_server(REDIS_URL=redis)
    browser = Browser(a)
    browser.login("owner", "pw-owner")
    with browser.websocket(a) as ws:
        subscribe(ws, sale.pk)
        assert receive(ws)["payload"]["data"]["paymentStatus"]["status"] == "PENDING"
        assert post_webhook(b, make_event("payment_intent.succeeded", intent(sale, "succeeded"))) == 200
        assert receive(ws)["payload"]["data"]["paymentStatus"]["status"] == "SUCCEEDED"
