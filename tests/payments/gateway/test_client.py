"""The one client and the one way a call reaches Stripe: the real stripe library
against the emulator, our own errors raised from Stripe's."""

import pytest

from payments import gateway
from payments.errors import CardDeclined, IdempotencyConflict, ProviderError, ProviderUnavailable
from payments.gateway import client


def test_client_pins_the_api_version_and_retries(settings):
    settings.STRIPE_API_VERSION = "2026-10-28.endive"
    settings.STRIPE_MAX_NETWORK_RETRIES = 3
    gateway.reset_client()
    options = gateway.get_client()._requestor._options  # what every request is sent with
    assert (options.stripe_version, options.max_network_retries) == ("2026-10-28.endive", 3)


def test_api_base_is_where_the_client_sends(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:12111"
    settings.STRIPE_HTTP_CLIENT = ""
    gateway.reset_client()
    assert gateway.get_client()._requestor.base_addresses["api"] == "http://127.0.0.1:12111"
    gateway.reset_client()


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
    intent = gateway.create_payment_intent(
        amount=100, currency="usd", customer_id=gateway.create_customer(email="", name="", metadata={}, idempotency_key="c").id,
        metadata={}, description="", idempotency_key="p",
    )
    with pytest.raises(CardDeclined) as info:
        client.call(client.v1().payment_intents.confirm, intent.id, params={"payment_method": "pm_card_chargeDeclinedInsufficientFunds"})
    assert info.value.decline_code == "insufficient_funds"


def test_every_resource_call_goes_through_call_and_get_client(monkeypatch):
    """What the benchmarks' Stripe-call counter and the no-call-under-a-lock test
    rely on: wrapping ``client.call`` / ``client.get_client`` sees every request."""
    calls, clients = [], []
    real_call, real_get = client.call, client.get_client
    monkeypatch.setattr(client, "call", lambda fn, *a, **k: calls.append(fn.__name__) or real_call(fn, *a, **k))
    monkeypatch.setattr(client, "get_client", lambda: clients.append(1) or real_get())
    customer = gateway.create_customer(email="a@example.com", name="A", metadata={}, idempotency_key="c1")
    gateway.list_products()
    assert customer.id.startswith("cus_")
    assert calls == ["create", "list"] and len(clients) == 2
