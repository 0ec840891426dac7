"""The customer's side (pay, authenticate, settle) and state shared between processes."""

import json

from stripe_emulator import Emulator


def test_pay_succeeds(api, emulator):
    intent = api.payment_intent()
    result = emulator.pay(intent["id"])
    assert result["error"] is None
    assert result["payment_intent"]["status"] == "succeeded"
    assert result["payment_intent"] == api.get(f"/v1/payment_intents/{intent['id']}").body
    assert api.event_types() == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    assert emulator.events()[-1].event["request"]["id"].startswith("req_")


def test_pay_declined_returns_the_card_error(api, emulator):
    result = emulator.pay(api.payment_intent()["id"], "4000000000009995")
    assert result["payment_intent"]["status"] == "requires_payment_method"
    assert result["error"]["decline_code"] == "insufficient_funds"
    assert result["payment_intent"]["last_payment_error"]["decline_code"] == "insufficient_funds"


def test_pay_an_unknown_or_paid_intent(api, emulator):
    missing = emulator.pay("pi_missing")
    assert missing["payment_intent"] is None and missing["error"]["code"] == "resource_missing"
    paid = api.payment_intent(payment_method="pm_card_visa", confirm=True)
    again = emulator.pay(paid["id"])
    assert again["error"]["code"] == "payment_intent_unexpected_state"
    assert again["payment_intent"]["status"] == "succeeded"


def test_authenticate_succeeds(api, emulator):
    intent = api.payment_intent()
    assert (
        emulator.pay(intent["id"], "4000002500003155")["payment_intent"]["status"]
        == "requires_action"
    )
    result = emulator.authenticate(intent["id"])
    assert result["error"] is None
    paid = result["payment_intent"]
    assert paid["status"] == "succeeded" and paid["next_action"] is None
    charge = emulator.retrieve(paid["latest_charge"])
    assert charge["payment_method_details"]["card"]["three_d_secure"]["result"] == "authenticated"
    assert api.event_types() == [
        "payment_intent.created",
        "payment_intent.requires_action",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]


def test_authenticate_fails(api, emulator):
    intent = api.payment_intent()
    emulator.pay(intent["id"], "4000002500003155")
    result = emulator.authenticate(intent["id"], succeed=False)
    assert result["error"] is None
    failed = result["payment_intent"]
    assert failed["status"] == "requires_payment_method" and failed["next_action"] is None
    assert failed["last_payment_error"]["code"] == "payment_intent_authentication_failure"
    assert failed["latest_charge"] is None
    assert api.event_types()[-1] == "payment_intent.payment_failed"
    assert emulator.authenticate(intent["id"])["error"]["code"] == "payment_intent_unexpected_state"


def test_processing_then_settle(api, emulator):
    intent = api.payment_intent()
    processing = emulator.pay(intent["id"], processing=True)["payment_intent"]
    assert processing["status"] == "processing"
    assert api.event_types()[-1] == "payment_intent.processing"
    assert (
        api.post(f"/v1/payment_intents/{intent['id']}/confirm").error["code"]
        == "payment_intent_unexpected_state"
    )
    settled = emulator.settle(intent["id"])
    assert settled["error"] is None and settled["payment_intent"]["status"] == "succeeded"
    assert api.event_types()[-2:] == ["charge.succeeded", "payment_intent.succeeded"]
    assert emulator.settle(intent["id"])["error"]["code"] == "payment_intent_unexpected_state"


def test_processing_then_failed_settlement(api, emulator):
    intent = api.payment_intent()
    emulator.pay(intent["id"], processing=True)
    result = emulator.settle(intent["id"], succeed=False)
    assert result["error"]["type"] == "card_error"
    assert result["payment_intent"]["status"] == "requires_payment_method"
    assert api.event_types()[-2:] == ["charge.failed", "payment_intent.payment_failed"]


def test_two_emulators_on_one_file_share_stripe(db_path, api, emulator):
    """Like the web server and the management command: two processes, one state."""
    other = Emulator(
        db_path=db_path, webhook_secret="whsec_other", webhook_url="http://127.0.0.1:9/"
    )
    intent = api.payment_intent()
    assert other.retrieve(intent["id"]) == intent
    other.pay(intent["id"])
    assert api.get(f"/v1/payment_intents/{intent['id']}").body["status"] == "succeeded"
    assert [stored.event["type"] for stored in other.events()] == api.event_types()

    first = api.post("/v1/customers", idempotency_key="shared-key")
    body, _, headers = other.handle_http(
        "POST", "https://api.stripe.com/v1/customers", {"idempotency-key": "shared-key"}, ""
    )
    assert headers["Idempotent-Replayed"] == "true" and json.loads(body) == first.body


def test_events_since_seq(api, emulator):
    api.payment_intent()
    [first] = emulator.events()
    api.payment_intent()
    [second] = emulator.events(since_seq=first.seq)
    assert second.seq > first.seq and not second.delivered and second.attempts == 0
