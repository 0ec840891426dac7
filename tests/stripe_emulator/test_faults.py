"""Injected faults, for the gateway's retry and error handling."""

import json

import pytest

from stripe_emulator import EmulatorConnectionError


def test_500_and_429_answer_without_acting(api, emulator):
    emulator.inject_fault("500")
    emulator.inject_fault("429")
    failed = api.post("/v1/payment_intents", {"amount": 100, "currency": "eur"})
    assert failed.status == 500 and failed.error["type"] == "api_error"
    # The stripe library looks the header up in lower case.
    assert failed.headers["stripe-should-retry"] == "false"
    assert "stripe-should-retry" in failed.headers
    limited = api.get("/v1/events")
    assert limited.status == 429 and limited.error["type"] == "rate_limit_error"
    assert limited.headers["Stripe-Should-Retry"] == "false"
    assert emulator.events() == []
    assert api.get("/v1/events").status == 200


def test_connection_error_never_reaches_stripe(api, emulator):
    emulator.inject_fault("connection_error", times=2)
    for _ in range(2):
        with pytest.raises(EmulatorConnectionError) as raised:
            api.post("/v1/payment_intents", {"amount": 100, "currency": "eur"}, idempotency_key="k")
        assert raised.value.kind == "connection_error"
    assert emulator.events() == []
    assert (
        "Idempotent-Replayed"
        not in api.post(
            "/v1/payment_intents", {"amount": 100, "currency": "eur"}, idempotency_key="k"
        ).headers
    )


def test_timeout_loses_the_answer_after_stripe_acted(api, emulator):
    emulator.inject_fault("timeout", path_prefix="/v1/payment_intents")
    with pytest.raises(EmulatorConnectionError):
        api.post("/v1/payment_intents", {"amount": 100, "currency": "eur"}, idempotency_key="k")
    [created] = emulator.events()
    retried = api.post(
        "/v1/payment_intents", {"amount": 100, "currency": "eur"}, idempotency_key="k"
    )
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert retried.body["id"] == created.event["data"]["object"]["id"]


def test_faults_match_their_path_prefix_only(api, emulator):
    emulator.inject_fault("500", path_prefix="/v1/payment_intents")
    assert api.post("/v1/customers").status == 200
    body, status, _ = emulator.handle_http(
        "GET", "https://api.stripe.com/v1/payment_intents/pi_1?expand[0]=x", {}, None
    )
    assert status == 500 and json.loads(body)["error"]["type"] == "api_error"


def test_unknown_fault_kind(emulator):
    with pytest.raises(ValueError):
        emulator.inject_fault("teapot")


def test_a_refund_whose_answer_was_lost_is_replayed_not_repeated(api, emulator):
    intent = api.payment_intent(payment_method="pm_card_visa", confirm=True)
    params = {"payment_intent": intent["id"], "amount": 500}
    emulator.inject_fault("timeout", path_prefix="/v1/refunds")
    with pytest.raises(EmulatorConnectionError):
        api.post("/v1/refunds", params, idempotency_key="refund-k")
    retried = api.post("/v1/refunds", params, idempotency_key="refund-k")
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert [r["id"] for r in api.get("/v1/refunds").body["data"]] == [retried.body["id"]]
    assert api.get(f"/v1/charges/{intent['latest_charge']}").body["amount_refunded"] == 500


def test_faults_reach_the_ledger_endpoints(api, emulator):
    emulator.inject_fault("connection_error", path_prefix="/v1/refunds")
    with pytest.raises(EmulatorConnectionError):
        api.post("/v1/refunds", {"payment_intent": "pi_x"})
    emulator.inject_fault("429", path_prefix="/v1/balance")
    assert api.get("/v1/balance_transactions").status == 429
    assert api.get("/v1/balance").status == 200
