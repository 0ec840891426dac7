"""Signed webhook delivery."""

import hashlib
import hmac
import json
import socket

from stripe_emulator import HttpSender

from .conftest import WEBHOOK_SECRET


class RecordingSender:
    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.requests: list[tuple[bytes, dict[str, str]]] = []

    def __call__(self, body: bytes, headers: dict[str, str]) -> int:
        self.requests.append((body, headers))
        return self.statuses.pop(0) if self.statuses else 200


def verify(body: bytes, header: str, secret: str) -> bool:
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(
        secret.encode(), f"{fields['t']}.{body.decode()}".encode(), hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def test_pending_events_are_delivered_signed_in_order(api, emulator):
    api.payment_intent(payment_method="pm_card_visa", confirm=True)
    sender = RecordingSender()
    results = emulator.deliver_pending(sender)

    stored = emulator.events()
    assert results == [(s.event["id"], 200) for s in stored]
    delivered = [json.loads(body) for body, _ in sender.requests]
    assert [event["type"] for event in delivered] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    assert delivered == [{**s.event, "pending_webhooks": 1} for s in stored]
    for body, headers in sender.requests:
        assert headers["Content-Type"].startswith("application/json")
        assert verify(body, headers["Stripe-Signature"], WEBHOOK_SECRET)
        assert not verify(body, headers["Stripe-Signature"], "whsec_wrong")
    assert all(s.delivered and s.attempts == 1 for s in stored)
    assert all(s.event["pending_webhooks"] == 0 for s in stored)
    assert emulator.deliver_pending(sender) == [] and len(sender.requests) == 3


def test_failed_deliveries_stay_pending_and_later_events_are_still_sent(api, emulator):
    api.payment_intent()
    api.payment_intent()
    sender = RecordingSender(500, 200)
    first, second = emulator.deliver_pending(sender)
    assert (first[1], second[1]) == (500, 200)
    pending, done = emulator.events()
    assert (pending.delivered, pending.attempts) == (False, 1) and done.delivered
    assert emulator.deliver_pending(RecordingSender(0)) == [(pending.event["id"], 0)]
    assert emulator.deliver_pending(RecordingSender()) == [(pending.event["id"], 200)]
    assert emulator.events()[0].attempts == 3


def test_the_webhook_endpoint_may_call_stripe_while_receiving(api, emulator):
    intent = api.payment_intent()

    def endpoint(body: bytes, headers: dict[str, str]) -> int:
        return api.get(f"/v1/payment_intents/{intent['id']}").status

    assert emulator.deliver_pending(endpoint)[0][1] == 200


def test_http_sender_reports_an_unreachable_endpoint_as_0():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert HttpSender(f"http://127.0.0.1:{port}/webhook/", timeout=2)(b"{}", {}) == 0
