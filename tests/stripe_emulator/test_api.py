"""The v1 endpoints, through handle_http with form-encoded bodies."""

import pytest

CARD = {"exp_month": 12, "exp_year": 2030, "cvc": "123"}


def card_method(api, number):
    response = api.post("/v1/payment_methods", {"type": "card", "card": {"number": number, **CARD}})
    assert response.status == 200, response.body
    return response.body


# ------------------------------------------------------------- customers


def test_customer_create_retrieve_update(api):
    created = api.post("/v1/customers", "email=jo%40example.com&name=Jo&metadata[user_id]=7")
    assert created.status == 200
    customer = created.body
    assert customer["id"].startswith("cus_")
    assert (customer["email"], customer["name"], customer["metadata"]) == (
        "jo@example.com",
        "Jo",
        {"user_id": "7"},
    )

    assert api.get(f"/v1/customers/{customer['id']}").body == customer

    updated = api.post(
        f"/v1/customers/{customer['id']}", "name=Joan&metadata[plan]=pro&metadata[user_id]="
    ).body
    assert updated["name"] == "Joan" and updated["email"] == "jo@example.com"
    assert updated["metadata"] == {"plan": "pro"}
    assert api.event_types() == ["customer.created", "customer.updated"]


# ------------------------------------------------------- payment methods


def test_payment_method_from_a_raw_card(api):
    method = card_method(api, "4242 4242 4242 4242")
    assert method["id"].startswith("pm_") and method["type"] == "card"
    assert method["card"]["last4"] == "4242" and method["card"]["brand"] == "visa"
    assert api.get(f"/v1/payment_methods/{method['id']}").body == method
    assert card_method(api, "5555555555554444")["card"]["brand"] == "mastercard"


def test_an_invalid_card_number_is_a_card_error(api):
    response = api.post(
        "/v1/payment_methods", {"type": "card", "card": {"number": "4242424242424241", **CARD}}
    )
    assert response.status == 402
    assert response.error["type"] == "card_error" and response.error["code"] == "incorrect_number"


def test_test_payment_method_ids_are_accepted(api):
    method = api.get("/v1/payment_methods/pm_card_chargeDeclined").body
    assert method["id"].startswith("pm_") and method["card"]["last4"] == "0002"


# ------------------------------------------------------- payment intents


def test_create_payment_intent(api, emulator):
    response = api.post(
        "/v1/payment_intents",
        "amount=2000&currency=EUR&metadata[payment_id]=abc&automatic_payment_methods[enabled]=true&description=Order",
    )
    intent = response.body
    assert response.status == 200 and response.headers["Request-Id"].startswith("req_")
    assert response.headers.get("request-id") == response.headers["Request-Id"]
    assert intent["status"] == "requires_payment_method"
    assert (intent["amount"], intent["currency"], intent["amount_received"]) == (2000, "eur", 0)
    assert intent["metadata"] == {"payment_id": "abc"} and intent["description"] == "Order"
    assert intent["automatic_payment_methods"] == {"enabled": True}
    assert api.get(f"/v1/payment_intents/{intent['id']}").body == intent
    [created] = emulator.events()
    assert created.event["type"] == "payment_intent.created"
    assert created.event["data"]["object"] == intent
    assert created.event["request"] == {
        "id": response.headers["Request-Id"],
        "idempotency_key": None,
    }


def test_a_payment_method_without_confirm_requires_confirmation(api):
    assert api.payment_intent(payment_method="pm_card_visa")["status"] == "requires_confirmation"


@pytest.mark.parametrize(
    ("params", "status", "code", "param"),
    [
        ({"currency": "eur"}, 400, "parameter_missing", "amount"),
        ({"amount": 100}, 400, "parameter_missing", "currency"),
        ({"amount": "ten", "currency": "eur"}, 400, "parameter_invalid_integer", "amount"),
        ({"amount": 0, "currency": "eur"}, 400, "parameter_invalid_integer", "amount"),
        (
            {"amount": 100, "currency": "eur", "customer": "cus_nope"},
            404,
            "resource_missing",
            "customer",
        ),
        (
            {"amount": 100, "currency": "eur", "payment_method": "pm_nope"},
            404,
            "resource_missing",
            "payment_method",
        ),
        (
            {"amount": 100, "currency": "eur", "payment_method_types": ["card"]},
            400,
            "parameter_unknown",
            "payment_method_types",  # API endive: allowed_payment_method_types
        ),
    ],
)
def test_invalid_payment_intent_parameters(api, emulator, params, status, code, param):
    response = api.post("/v1/payment_intents", params)
    assert response.status == status
    assert response.error["type"] == "invalid_request_error"
    assert (response.error["code"], response.error["param"]) == (code, param)
    assert emulator.events() == []


def test_update_payment_intent_merges_metadata(api, emulator):
    intent = api.payment_intent(metadata={"a": "1", "b": "2"})
    updated = api.post(
        f"/v1/payment_intents/{intent['id']}", "metadata[b]=&metadata[c]=3&description=New"
    ).body
    assert updated["metadata"] == {"a": "1", "c": "3"} and updated["description"] == "New"
    assert api.event_types() == ["payment_intent.created"]  # Stripe has no payment_intent.updated


def test_missing_objects_and_unknown_urls(api):
    response = api.get("/v1/payment_intents/pi_x")
    assert response.status == 404
    assert response.error == {
        "type": "invalid_request_error",
        "code": "resource_missing",
        "param": "id",
        "message": "No such payment_intent: 'pi_x'",
        "request_log_url": f"https://dashboard.stripe.com/test/logs/{response.headers['Request-Id']}",
    }
    unknown = api.get("/v1/disputes/dp_1")
    assert unknown.status == 404
    assert unknown.error["message"] == "Unrecognized request URL (GET: /v1/disputes/dp_1)."
    assert api.request("DELETE", "/v1/customers/cus_1").status == 404


# ------------------------------------------------------- confirm, by card


def test_visa_succeeds_with_a_charge(api, emulator):
    intent = api.payment_intent()
    response = api.post(
        f"/v1/payment_intents/{intent['id']}/confirm", {"payment_method": "pm_card_visa"}
    )
    confirmed = response.body
    assert response.status == 200
    assert confirmed["status"] == "succeeded" and confirmed["amount_received"] == 2000
    charge = emulator.retrieve(confirmed["latest_charge"])
    assert charge["status"] == "succeeded" and charge["paid"] is True and charge["captured"] is True
    assert (
        charge["payment_intent"] == intent["id"]
        and charge["payment_method"] == confirmed["payment_method"]
    )
    assert charge["payment_method_details"]["card"]["last4"] == "4242"
    assert charge["payment_method_details"]["card"]["brand"] == "visa"
    balance = emulator.retrieve(charge["balance_transaction"])
    assert (balance["object"], balance["source"], balance["amount"]) == (
        "balance_transaction",
        charge["id"],
        2000,
    )

    events = [stored.event for stored in emulator.events()]
    assert [e["type"] for e in events] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    assert events[1]["data"]["object"] == charge
    assert events[2]["data"]["object"] == confirmed
    assert (
        events[0]["data"]["object"]["status"] == "requires_payment_method"
    )  # a snapshot, not the latest


@pytest.mark.parametrize(
    ("card", "decline_code", "message"),
    [
        ("4000000000000002", "generic_decline", "Your card was declined."),
        ("4000000000009995", "insufficient_funds", "Your card has insufficient funds."),
    ],
)
def test_declined_cards(api, emulator, card, decline_code, message):
    intent = api.payment_intent()
    method = card_method(api, card)
    response = api.post(
        f"/v1/payment_intents/{intent['id']}/confirm", {"payment_method": method["id"]}
    )
    assert response.status == 402
    error = response.error
    assert error["type"] == "card_error" and error["code"] == "card_declined"
    assert (error["decline_code"], error["message"]) == (decline_code, message)
    assert error["doc_url"] == "https://stripe.com/docs/error-codes/card-declined"
    assert error["request_log_url"].endswith(response.headers["Request-Id"])
    assert error["payment_method"] == method
    failed_intent = error["payment_intent"]
    assert (
        failed_intent["id"] == intent["id"] and failed_intent["status"] == "requires_payment_method"
    )
    assert failed_intent["payment_method"] is None
    last = failed_intent["last_payment_error"]
    assert (last["type"], last["code"], last["decline_code"], last["message"]) == (
        "card_error",
        "card_declined",
        decline_code,
        message,
    )
    assert last["payment_method"]["id"] == method["id"] and last["charge"] == error["charge"]
    charge = emulator.retrieve(error["charge"])
    assert charge["status"] == "failed" and charge["paid"] is False
    assert (charge["failure_code"], charge["failure_message"]) == ("card_declined", message)
    assert charge["outcome"]["reason"] == decline_code
    assert api.get(f"/v1/payment_intents/{intent['id']}").body == failed_intent
    assert api.event_types() == [
        "payment_intent.created",
        "charge.failed",
        "payment_intent.payment_failed",
    ]

    retried = api.post(
        f"/v1/payment_intents/{intent['id']}/confirm", {"payment_method": "pm_card_visa"}
    ).body
    assert retried["status"] == "succeeded" and retried["last_payment_error"] is None


def test_create_and_confirm_at_once_with_a_declined_test_id(api):
    response = api.post(
        "/v1/payment_intents",
        {
            "amount": 500,
            "currency": "eur",
            "payment_method": "pm_card_chargeDeclinedInsufficientFunds",
            "confirm": True,
        },
    )
    assert response.status == 402 and response.error["decline_code"] == "insufficient_funds"
    assert response.error["payment_intent"]["amount"] == 500


def test_three_d_secure_requires_action(api, emulator):
    intent = api.payment_intent()
    confirmed = api.post(
        f"/v1/payment_intents/{intent['id']}/confirm",
        {"payment_method": "pm_card_authenticationRequired"},
    ).body
    assert confirmed["status"] == "requires_action"
    assert (
        confirmed["next_action"]["type"] == "use_stripe_sdk"
        and confirmed["next_action"]["use_stripe_sdk"]
    )
    assert api.event_types()[-1] == "payment_intent.requires_action"

    redirected = api.payment_intent(
        payment_method="pm_card_authenticationRequired",
        confirm=True,
        return_url="https://shop.test/done",
    )
    assert redirected["next_action"]["type"] == "redirect_to_url"
    assert redirected["next_action"]["redirect_to_url"]["return_url"] == "https://shop.test/done"
    # The emulator's own challenge page, not hooks.stripe.com; like Stripe's, its URL carries the secret.
    assert redirected["next_action"]["redirect_to_url"]["url"].startswith(
        f"{api.emulator.public_url}/3d_secure/{redirected['id']}"
        f"?payment_intent_client_secret={redirected['client_secret']}&source=src_"
    )


def test_three_d_secure_off_session_is_declined(api):
    response = api.post(
        "/v1/payment_intents",
        {
            "amount": 500,
            "currency": "eur",
            "payment_method": "pm_card_authenticationRequired",
            "confirm": True,
            "off_session": True,
        },
    )
    assert response.status == 402
    assert (response.error["code"], response.error["decline_code"]) == (
        "authentication_required",
        "authentication_required",
    )
    assert response.error["payment_intent"]["status"] == "requires_payment_method"
    assert api.event_types()[-1] == "payment_intent.payment_failed"


def test_unknown_valid_numbers_succeed_and_invalid_ones_fail(api):
    assert (
        api.emulator.pay(api.payment_intent()["id"], "378282246310005")["payment_intent"]["status"]
        == "succeeded"
    )
    result = api.emulator.pay(api.payment_intent()["id"], "1234567812345678")
    assert (
        result["error"]["code"] == "incorrect_number"
        and result["payment_intent"]["status"] == "requires_payment_method"
    )


def test_confirm_without_a_payment_method(api):
    response = api.post(f"/v1/payment_intents/{api.payment_intent()['id']}/confirm")
    assert response.status == 400 and response.error["code"] == "parameter_missing"


def test_confirm_or_cancel_in_a_final_state_is_an_unexpected_state(api):
    succeeded = api.payment_intent(payment_method="pm_card_visa", confirm=True)
    for action in ("confirm", "cancel"):
        response = api.post(
            f"/v1/payment_intents/{succeeded['id']}/{action}",
            {"payment_method": "pm_card_visa"} if action == "confirm" else None,
        )
        assert response.status == 400
        assert response.error["code"] == "payment_intent_unexpected_state"
        assert response.error["payment_intent"]["status"] == "succeeded"


def test_cancel(api, emulator):
    intent = api.payment_intent()
    canceled = api.post(
        f"/v1/payment_intents/{intent['id']}/cancel", {"cancellation_reason": "abandoned"}
    ).body
    assert canceled["status"] == "canceled" and canceled["cancellation_reason"] == "abandoned"
    assert isinstance(canceled["canceled_at"], int)
    assert api.event_types()[-1] == "payment_intent.canceled"
    again = api.post(
        f"/v1/payment_intents/{intent['id']}/confirm", {"payment_method": "pm_card_visa"}
    )
    assert again.error["code"] == "payment_intent_unexpected_state"


def test_expand_latest_charge_and_customer(api):
    customer = api.post("/v1/customers", {"email": "a@b.test"}).body
    intent = api.payment_intent(
        customer=customer["id"], payment_method="pm_card_visa", confirm=True
    )
    expanded = api.get(
        f"/v1/payment_intents/{intent['id']}", {"expand": ["latest_charge", "customer"]}
    ).body
    assert expanded["customer"] == customer
    assert expanded["latest_charge"]["id"] == intent["latest_charge"]
    nested = api.get(
        f"/v1/payment_intents/{intent['id']}", {"expand": ["latest_charge.balance_transaction"]}
    ).body
    assert nested["latest_charge"]["balance_transaction"]["object"] == "balance_transaction"
    confirmed_with_expand = api.post(
        "/v1/payment_intents",
        {
            "amount": 100,
            "currency": "eur",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "expand": ["latest_charge"],
        },
    ).body
    assert confirmed_with_expand["latest_charge"]["object"] == "charge"
    refused = api.get(f"/v1/payment_intents/{intent['id']}", {"expand": ["amount"]})
    assert refused.status == 400 and "cannot be expanded" in refused.error["message"]


# ------------------------------------------------------------- events


def test_list_and_retrieve_events(api, emulator):
    api.payment_intent(payment_method="pm_card_visa", confirm=True)
    api.payment_intent()
    all_events = api.get("/v1/events").body
    assert (
        all_events["object"] == "list"
        and all_events["url"] == "/v1/events"
        and all_events["has_more"] is False
    )
    types = [event["type"] for event in all_events["data"]]
    assert types == [
        "payment_intent.created",
        "payment_intent.succeeded",
        "charge.succeeded",
        "payment_intent.created",
    ]

    page = api.get("/v1/events", {"limit": 2}).body
    assert page["has_more"] is True and page["data"] == all_events["data"][:2]
    rest = api.get("/v1/events", {"limit": 2, "starting_after": page["data"][-1]["id"]}).body
    assert rest["data"] == all_events["data"][2:] and rest["has_more"] is False

    intents = api.get("/v1/events", {"type": "payment_intent.*"}).body["data"]
    assert [event["type"] for event in intents] == [
        "payment_intent.created",
        "payment_intent.succeeded",
        "payment_intent.created",
    ]
    assert len(api.get("/v1/events", {"type": "charge.succeeded"}).body["data"]) == 1
    created = all_events["data"][0]["created"]
    assert api.get("/v1/events", {"created": {"gte": created + 1}}).body["data"] == []
    assert len(api.get("/v1/events", {"created": {"gte": created - 60}}).body["data"]) == 4

    event = all_events["data"][0]
    assert api.get(f"/v1/events/{event['id']}").body == event
    assert event["api_version"] == "2026-10-28.endive" and event["pending_webhooks"] == 1
    assert api.get("/v1/events/evt_nope").error["code"] == "resource_missing"
    assert api.get("/v1/events", {"limit": 0}).status == 400
