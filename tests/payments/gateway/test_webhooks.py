"""Signed deliveries: the emulator's signatures verify, a tampered body does not."""

import json

import pytest

from payments import gateway
from payments.errors import InvalidWebhook


def test_parse_webhook_reads_the_emulators_signed_events(emulator):
    gateway.create_customer(email="a@example.com", name="A", metadata={}, idempotency_key="c1")
    sent = []
    emulator.deliver_pending(sender=lambda body, headers: sent.append((body, headers)) or 200)
    body, headers = sent[0]
    event = gateway.parse_webhook(body, headers["Stripe-Signature"])
    assert (event.type, event.api_version, event.object["object"]) == ("customer.created", "2026-10-28.endive", "customer")
    assert event.payload == json.loads(body)


def test_parse_webhook_refuses_a_tampered_body(emulator):
    header = gateway.sign_webhook_payload('{"a": 1}', "whsec_development_emulator_secret")
    with pytest.raises(InvalidWebhook):
        gateway.parse_webhook(b'{"a": 2}', header)
