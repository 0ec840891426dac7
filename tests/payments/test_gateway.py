"""The gateway against the emulator: the real stripe library, our own errors."""

import json

import pytest

from payments import gateway
from payments.errors import CardDeclined, IdempotencyConflict, InvalidWebhook, ProviderError, ProviderUnavailable


def test_client_pins_the_api_version_and_retries(settings):
    settings.STRIPE_API_VERSION = "2026-10-28.endive"
    settings.STRIPE_MAX_NETWORK_RETRIES = 3
    gateway.reset_client()
    client = gateway.get_client()
    options = client._requestor._options  # what every request is sent with
    assert (options.stripe_version, options.max_network_retries) == ("2026-10-28.endive", 3)


def test_payment_intent_round_trip():
    customer = gateway.create_customer(email="a@example.com", name="A", metadata={}, idempotency_key="c1")
    created = gateway.create_payment_intent(
        amount=999, currency="eur", customer_id=customer.id, metadata={"payment_id": "x"}, description="d",
        idempotency_key="p1",
    )
    assert (created.status, created.amount, created.currency, created.customer) == ("requires_payment_method", 999, "eur", customer.id)
    assert created.client_secret.startswith(created.id + "_secret_")
    assert gateway.retrieve_payment_intent(created.id) == created


def test_same_key_other_parameters_is_an_idempotency_conflict():
    gateway.create_customer(email="a@example.com", name="A", metadata={}, idempotency_key="k")
    with pytest.raises(IdempotencyConflict) as info:
        gateway.create_customer(email="b@example.com", name="B", metadata={}, idempotency_key="k")
    assert info.value.__cause__ is not None  # raised from the stripe error


def test_unknown_object_is_a_provider_error():
    with pytest.raises(ProviderError):
        gateway.retrieve_payment_intent("pi_missing")


@pytest.mark.parametrize("fault", ["connection_error", "timeout", "500", "429"])
def test_unreachable_or_overloaded_stripe_is_provider_unavailable(emulator, fault):
    emulator.inject_fault(fault)
    with pytest.raises(ProviderUnavailable):
        gateway.create_customer(email="a@example.com", name="A", metadata={}, idempotency_key="k")


def test_card_errors_become_card_declined(emulator):
    from payments.gateway import get_client

    intent = gateway.create_payment_intent(
        amount=100, currency="usd", customer_id=gateway.create_customer(email="", name="", metadata={}, idempotency_key="c").id,
        metadata={}, description="", idempotency_key="p",
    )
    with pytest.raises(CardDeclined) as info:
        gateway._call(get_client().v1.payment_intents.confirm, intent.id, params={"payment_method": "pm_card_chargeDeclinedInsufficientFunds"})
    assert info.value.decline_code == "insufficient_funds"


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


def test_the_gateway_does_not_know_the_emulator_exists():
    """It reaches any Stripe by STRIPE_API_BASE / STRIPE_HTTP_CLIENT (settings)."""
    from pathlib import Path

    assert "emulator" not in Path(gateway.__file__).read_text().lower()


def test_api_base_is_where_the_client_sends(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:12111"
    settings.STRIPE_HTTP_CLIENT = ""
    gateway.reset_client()
    assert gateway.get_client()._requestor.base_addresses["api"] == "http://127.0.0.1:12111"
    gateway.reset_client()
