"""Refunds through handle_http, by the card that paid, and Stripe's later moves on them."""

import pytest


def paid(api, amount=1000, method="pm_card_visa", currency="eur"):
    intent = api.payment_intent(
        amount=amount, currency=currency, payment_method=method, confirm=True
    )
    assert intent["status"] == "succeeded"
    return intent


def refund(api, **params):
    response = api.post("/v1/refunds", params)
    assert response.status == 200, response.body
    return response.body


def charge_of(api, intent):
    return api.get(f"/v1/charges/{intent['latest_charge']}").body


def new_events(emulator, before):
    return [stored.event for stored in emulator.events()[before:]]


# ---------------------------------------------------------- a normal card


def test_a_full_refund_by_default_succeeds_at_once(api, emulator):
    intent = paid(api, 1000)
    before = len(emulator.events())
    response = api.post(
        "/v1/refunds",
        {"payment_intent": intent["id"], "reason": "requested_by_customer", "metadata": {"k": "v"}},
    )
    assert response.status == 200
    created = response.body
    assert created["id"].startswith("re_") and created["object"] == "refund"
    assert (created["amount"], created["currency"], created["status"]) == (1000, "eur", "succeeded")
    assert (created["payment_intent"], created["charge"]) == (intent["id"], intent["latest_charge"])
    assert created["reason"] == "requested_by_customer" and created["metadata"] == {"k": "v"}
    assert created["failure_reason"] is None and created["failure_balance_transaction"] is None
    assert created["destination_details"] == {"card": {"type": "refund"}, "type": "card"}

    txn = api.get(f"/v1/balance_transactions/{created['balance_transaction']}").body
    assert (txn["type"], txn["reporting_category"], txn["source"]) == (
        "refund",
        "refund",
        created["id"],
    )
    assert (txn["amount"], txn["fee"], txn["net"], txn["fee_details"]) == (-1000, 0, -1000, [])

    charge = charge_of(api, intent)
    assert (charge["amount_refunded"], charge["refunded"]) == (1000, True)
    assert charge["refunds"]["data"] == [created]

    events = new_events(emulator, before)
    assert [e["type"] for e in events] == ["refund.created", "charge.refunded"]
    assert events[0]["data"]["object"] == created and events[1]["data"]["object"] == charge
    assert events[0]["request"] == {"id": response.headers["Request-Id"], "idempotency_key": None}
    assert api.get(f"/v1/refunds/{created['id']}").body == created


def test_partial_and_multiple_refunds_then_already_refunded(api):
    intent = paid(api, 1000)
    first = refund(api, payment_intent=intent["id"], amount=300)
    assert charge_of(api, intent)["amount_refunded"] == 300
    second = refund(api, charge=intent["latest_charge"], amount=200)
    charge = charge_of(api, intent)
    assert (charge["amount_refunded"], charge["refunded"]) == (500, False)
    assert [r["id"] for r in charge["refunds"]["data"]] == [second["id"], first["id"]]

    too_much = api.post("/v1/refunds", {"payment_intent": intent["id"], "amount": 501})
    assert too_much.status == 400
    assert (too_much.error["type"], too_much.error["code"], too_much.error["param"]) == (
        "invalid_request_error",
        "amount_too_large",
        "amount",
    )
    assert too_much.error["message"] == (
        "Refund amount (€5.01) is greater than unrefunded amount on charge (€5.00)"
    )

    rest = refund(api, payment_intent=intent["id"])
    assert rest["amount"] == 500
    charge = charge_of(api, intent)
    assert (charge["amount_refunded"], charge["refunded"]) == (1000, True)

    again = api.post("/v1/refunds", {"payment_intent": intent["id"], "amount": 1})
    assert (again.status, again.error["code"]) == (400, "charge_already_refunded")
    assert again.error["message"] == f"Charge {intent['latest_charge']} has already been refunded."


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        (
            1200,
            "usd",
            "Refund amount ($12.00) is greater than unrefunded amount on charge ($10.00)",
        ),
        (1200, "jpy", "Refund amount (¥1200) is greater than unrefunded amount on charge (¥1000)"),
    ],
)
def test_amount_too_large_message_follows_the_currency(api, amount, currency, message):
    intent = paid(api, 1000, currency=currency)
    response = api.post("/v1/refunds", {"payment_intent": intent["id"], "amount": amount})
    assert response.error["message"] == message


@pytest.mark.parametrize(
    ("params", "status", "code", "param"),
    [
        ({}, 400, "parameter_missing", None),
        ({"payment_intent": "pi_nope"}, 404, "resource_missing", "payment_intent"),
        ({"charge": "ch_nope"}, 404, "resource_missing", "charge"),
        ({"amount": 0}, 400, "parameter_invalid_integer", "amount"),
        ({"amount": -5}, 400, "parameter_invalid_integer", "amount"),
        ({"amount": "ten"}, 400, "parameter_invalid_integer", "amount"),
        ({"reason": "changed_my_mind"}, 400, None, "reason"),
        ({"receipt_email": "a@b.test"}, 400, "parameter_unknown", "receipt_email"),
    ],
)
def test_invalid_refund_parameters(api, emulator, params, status, code, param):
    intent = paid(api)
    if params and "payment_intent" not in params and "charge" not in params:
        params = {"payment_intent": intent["id"], **params}
    before = len(emulator.events())
    response = api.post("/v1/refunds", params)
    assert response.status == status and response.error["type"] == "invalid_request_error"
    assert (response.error.get("code"), response.error.get("param")) == (code, param)
    assert len(emulator.events()) == before
    assert charge_of(api, intent)["amount_refunded"] == 0


def test_reason_message_is_stripes(api):
    response = api.post("/v1/refunds", {"payment_intent": paid(api)["id"], "reason": "other"})
    assert response.error["message"] == (
        "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer"
    )


@pytest.mark.parametrize("reason", ["duplicate", "fraudulent", "requested_by_customer"])
def test_every_reason_is_accepted(api, reason):
    assert refund(api, payment_intent=paid(api)["id"], reason=reason)["reason"] == reason


def test_a_payment_intent_that_did_not_succeed_has_nothing_to_refund(api):
    intent = api.payment_intent()
    response = api.post("/v1/refunds", {"payment_intent": intent["id"]})
    assert (response.status, response.error["code"]) == (400, "payment_intent_unexpected_state")
    assert response.error["message"] == (
        f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund."
    )
    declined = api.post(
        "/v1/payment_intents",
        {"amount": 500, "currency": "eur", "payment_method": "pm_card_chargeDeclined"},
    ).body
    failure = api.post(f"/v1/payment_intents/{declined['id']}/confirm").error
    failed_charge = api.post("/v1/refunds", {"charge": failure["charge"]})
    assert (failed_charge.status, failed_charge.error["code"]) == (400, "charge_not_refundable")


def test_a_charge_of_another_payment_intent(api):
    intent, other = paid(api), paid(api)
    response = api.post(
        "/v1/refunds", {"payment_intent": intent["id"], "charge": other["latest_charge"]}
    )
    assert (response.status, response.error["param"]) == (400, "charge")


def test_idempotent_refund_replay(api, emulator):
    intent = paid(api, 1000)
    params = {"payment_intent": intent["id"], "amount": 400}
    first = api.post("/v1/refunds", params, idempotency_key="refund-1")
    events = len(emulator.events())
    second = api.post("/v1/refunds", params, idempotency_key="refund-1")
    assert second.headers["Idempotent-Replayed"] == "true" and second.body == first.body
    assert len(emulator.events()) == events
    assert [r["id"] for r in api.get("/v1/refunds").body["data"]] == [first.body["id"]]
    assert charge_of(api, intent)["amount_refunded"] == 400
    conflict = api.post("/v1/refunds", {**params, "amount": 500}, idempotency_key="refund-1")
    assert conflict.error["type"] == "idempotency_error"


def test_update_metadata_and_cancel(api, emulator):
    created = refund(api, payment_intent=paid(api)["id"], metadata={"a": "1", "b": "2"})
    before = len(emulator.events())
    updated = api.post(f"/v1/refunds/{created['id']}", "metadata[b]=&metadata[c]=3").body
    assert updated["metadata"] == {"a": "1", "c": "3"} and updated["status"] == "succeeded"
    events = new_events(emulator, before)
    assert [e["type"] for e in events] == ["refund.updated", "charge.refund.updated"]
    assert all(e["data"]["object"] == updated for e in events)
    assert api.post(f"/v1/refunds/{created['id']}", {"amount": 5}).error["param"] == "amount"

    refused = api.post(f"/v1/refunds/{created['id']}/cancel")
    assert refused.status == 400 and "status of succeeded" in refused.error["message"]
    assert api.post("/v1/refunds/re_nope/cancel").error["code"] == "resource_missing"
    assert api.get(f"/v1/refunds/{created['id']}").body == updated


def test_cancel_a_refund_that_requires_action(api, emulator):
    """No card refund requires action; the state is set by hand to check the endpoint."""
    intent = paid(api, 1000)
    created = refund(api, payment_intent=intent["id"], amount=600)
    with emulator._store.transaction() as tx:
        tx.put({**created, "status": "requires_action"})
    canceled = api.post(f"/v1/refunds/{created['id']}/cancel").body
    assert canceled["status"] == "canceled"
    assert api.event_types()[-2:] == ["refund.updated", "charge.refund.updated"]
    assert charge_of(api, intent)["amount_refunded"] == 0
    assert refund(api, payment_intent=intent["id"])["amount"] == 1000


def test_list_refunds_with_filters_and_pages(api):
    one, two = paid(api), paid(api)
    a = refund(api, payment_intent=one["id"], amount=100)
    b = refund(api, payment_intent=two["id"], amount=200)
    c = refund(api, payment_intent=one["id"], amount=300)
    listed = api.get("/v1/refunds").body
    assert (listed["object"], listed["url"], listed["has_more"]) == ("list", "/v1/refunds", False)
    assert [r["id"] for r in listed["data"]] == [c["id"], b["id"], a["id"]]
    by_intent = api.get("/v1/refunds", {"payment_intent": one["id"]}).body["data"]
    assert [r["id"] for r in by_intent] == [c["id"], a["id"]]
    by_charge = api.get("/v1/refunds", {"charge": two["latest_charge"]}).body["data"]
    assert by_charge == [b]
    page = api.get("/v1/refunds", {"limit": 1, "starting_after": c["id"]}).body
    assert page["data"] == [b] and page["has_more"] is True
    expanded = api.get("/v1/refunds", {"expand": ["data.balance_transaction"]}).body["data"]
    assert expanded[0]["balance_transaction"]["source"] == c["id"]


# ------------------------------------------------------ the test cards


def test_refund_pending_card_succeeds_when_advanced(api, emulator):
    intent = paid(api, 1000, "pm_card_pendingRefund")
    before = len(emulator.events())
    pending = refund(api, payment_intent=intent["id"], amount=400)
    assert pending["status"] == "pending" and pending["balance_transaction"] is None
    assert [e["type"] for e in new_events(emulator, before)] == ["refund.created"]
    charge = charge_of(api, intent)
    assert (charge["amount_refunded"], charge["refunded"]) == (400, False)  # held, as Stripe does
    too_much = api.post("/v1/refunds", {"payment_intent": intent["id"], "amount": 601})
    assert too_much.error["code"] == "amount_too_large"

    before = len(emulator.events())
    [advanced] = emulator.advance_refunds()
    assert advanced["id"] == pending["id"] and advanced["status"] == "succeeded"
    assert api.get(f"/v1/refunds/{pending['id']}").body == advanced
    txn = api.get(f"/v1/balance_transactions/{advanced['balance_transaction']}").body
    assert (txn["type"], txn["amount"], txn["net"]) == ("refund", -400, -400)
    events = new_events(emulator, before)
    assert [e["type"] for e in events] == [
        "refund.updated",
        "charge.refund.updated",
        "charge.refunded",
    ]
    assert events[0]["data"]["object"] == advanced
    assert events[2]["data"]["object"]["amount_refunded"] == 400
    assert all(e["request"] == {"id": None, "idempotency_key": None} for e in events)
    assert emulator.advance_refunds() == []


def test_refund_fails_card_fails_after_succeeding(api, emulator):
    intent = paid(api, 1000, "pm_card_refundFail")
    before = len(emulator.events())
    created = refund(api, payment_intent=intent["id"], amount=700)
    assert created["status"] == "succeeded"
    assert [e["type"] for e in new_events(emulator, before)] == [
        "refund.created",
        "charge.refunded",
    ]
    assert charge_of(api, intent)["amount_refunded"] == 700

    before = len(emulator.events())
    [failed] = emulator.advance_refunds()
    assert (failed["status"], failed["failure_reason"]) == ("failed", "expired_or_canceled_card")
    assert failed["balance_transaction"] == created["balance_transaction"]
    failure = api.get(f"/v1/balance_transactions/{failed['failure_balance_transaction']}").body
    assert (failure["type"], failure["reporting_category"], failure["source"]) == (
        "refund_failure",
        "refund_failure",
        created["id"],
    )
    assert (failure["amount"], failure["fee"], failure["net"]) == (700, 0, 700)
    charge = charge_of(api, intent)
    assert (charge["amount_refunded"], charge["refunded"]) == (0, False)
    events = new_events(emulator, before)
    assert [e["type"] for e in events] == [
        "refund.failed",
        "refund.updated",
        "charge.refund.updated",
    ]
    assert all(e["data"]["object"] == failed for e in events)
    assert emulator.advance_refunds() == []
    # The failed amount can be refunded again (and fails again).
    assert refund(api, payment_intent=intent["id"])["amount"] == 1000


@pytest.mark.parametrize(
    ("card", "status"), [("4000000000007726", "pending"), ("4000000000005126", "succeeded")]
)
def test_refund_test_cards_pay_through_pay(api, emulator, card, status):
    intent = api.payment_intent(amount=800)
    result = emulator.pay(intent["id"], card)
    assert result["error"] is None and result["payment_intent"]["status"] == "succeeded"
    assert refund(api, payment_intent=intent["id"])["status"] == status


def test_advance_moves_each_refund_one_step_oldest_first(api, emulator):
    normal = paid(api)
    pending = paid(api, method="pm_card_pendingRefund")
    failing = paid(api, method="pm_card_refundFail")
    kept = refund(api, payment_intent=normal["id"])
    first = refund(api, payment_intent=failing["id"])
    second = refund(api, payment_intent=pending["id"])
    advanced = emulator.advance_refunds()
    assert [(r["id"], r["status"]) for r in advanced] == [
        (first["id"], "failed"),
        (second["id"], "succeeded"),
    ]
    assert api.get(f"/v1/refunds/{kept['id']}").body == kept


# --------------------------------------------------------- the Dashboard


def test_dashboard_refund_has_the_apis_effects_with_a_null_request(api, emulator):
    intent = paid(api, 1000)
    before = len(emulator.events())
    result = emulator.dashboard_refund(intent["id"], amount=250, reason="duplicate")
    assert result["error"] is None
    made = result["refund"]
    assert (made["amount"], made["reason"], made["status"]) == (250, "duplicate", "succeeded")
    assert api.get(f"/v1/refunds/{made['id']}").body == made
    events = new_events(emulator, before)
    assert [e["type"] for e in events] == ["refund.created", "charge.refunded"]
    assert all(e["request"] == {"id": None, "idempotency_key": None} for e in events)

    rest = emulator.dashboard_refund(intent["id"])["refund"]
    assert rest["amount"] == 750 and rest["reason"] is None
    again = emulator.dashboard_refund(intent["id"])
    assert again["refund"] is None and again["error"]["code"] == "charge_already_refunded"
    assert emulator.dashboard_refund("pi_nope")["error"]["code"] == "resource_missing"
    assert emulator.dashboard_refund(intent["id"], reason="bored")["error"]["param"] == "reason"
