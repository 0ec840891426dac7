"""Stripe's idempotency: same key and parameters replay, other parameters conflict."""

import json
import threading

PARAMS = {"amount": 2000, "currency": "eur", "metadata": {"payment_id": "abc"}}


def test_same_key_and_parameters_replay_without_side_effects(api, emulator):
    first = api.post("/v1/payment_intents", PARAMS, idempotency_key="key-1")
    second = api.post("/v1/payment_intents", PARAMS, idempotency_key="key-1")
    assert first.status == second.status == 200
    assert second.body == first.body
    assert (
        second.headers["Idempotent-Replayed"] == "true"
        and "Idempotent-Replayed" not in first.headers
    )
    assert second.headers["Request-Id"] == first.headers["Request-Id"]
    [event] = emulator.events()
    assert event.event["request"] == {"id": first.headers["Request-Id"], "idempotency_key": "key-1"}


def test_parameter_order_does_not_matter(api):
    first = api.post("/v1/payment_intents", "amount=1&currency=eur", idempotency_key="k")
    second = api.post("/v1/payment_intents", "currency=eur&amount=1", idempotency_key="k")
    assert second.headers.get("Idempotent-Replayed") == "true" and second.body == first.body


def test_same_key_with_other_parameters_is_an_idempotency_error(api, emulator):
    api.post("/v1/payment_intents", PARAMS, idempotency_key="key-1")
    conflict = api.post("/v1/payment_intents", {**PARAMS, "amount": 2001}, idempotency_key="key-1")
    assert conflict.status == 400
    assert conflict.body == {
        "error": {
            "type": "idempotency_error",
            "message": (
                "Keys for idempotent requests can only be used with the same parameters they were"
                " first used with. Try using a key other than 'key-1' if you meant to execute a"
                " different request."
            ),
        }
    }
    other_path = api.post("/v1/customers", idempotency_key="key-1")
    assert other_path.error["type"] == "idempotency_error"
    assert len(emulator.events()) == 1


def test_card_errors_are_replayed(api, emulator):
    intent = api.payment_intent()
    path = f"/v1/payment_intents/{intent['id']}/confirm"
    first = api.post(
        path, {"payment_method": "pm_card_chargeDeclined"}, idempotency_key="confirm-1"
    )
    events = len(emulator.events())
    second = api.post(
        path, {"payment_method": "pm_card_chargeDeclined"}, idempotency_key="confirm-1"
    )
    assert first.status == second.status == 402
    assert second.body == first.body and second.headers["Idempotent-Replayed"] == "true"
    assert len(emulator.events()) == events


def test_without_a_key_each_request_acts(api):
    first = api.post("/v1/payment_intents", PARAMS)
    assert api.post("/v1/payment_intents", PARAMS).body["id"] != first.body["id"]


def test_concurrent_requests_with_one_key_create_one_object(api, emulator):
    bodies = []

    def create():
        body, _, _ = emulator.handle_http(
            "POST",
            "https://api.stripe.com/v1/payment_intents",
            {"Idempotency-Key": "race"},
            "amount=5&currency=eur",
        )
        bodies.append(json.loads(body)["id"])

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(bodies)) == 1 and len(bodies) == 8
    assert api.event_types() == ["payment_intent.created"]
