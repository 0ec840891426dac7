"""Subscriptions, their invoices and the test-clock-like moves, through handle_http."""

from datetime import UTC, datetime

import pytest

from stripe_emulator.billing_objects import add_interval, period_end
from stripe_emulator.objects import card_fee

CREATED = [
    "customer.subscription.created",
    "invoice.created",
    "invoice.finalized",
    "payment_intent.created",
]
PAID = [
    "charge.succeeded",
    "payment_intent.succeeded",
    "invoice.payment_succeeded",
    "invoice.paid",
    "customer.subscription.updated",
]
DECLINED = ["charge.failed", "payment_intent.payment_failed", "invoice.payment_failed"]


def intent_id(invoice):
    [payment] = invoice["payments"]["data"]
    return payment["payment"]["payment_intent"]


def invoice_of(api, invoice_id):
    response = api.get(f"/v1/invoices/{invoice_id}", {"expand": ["payments"]})
    assert response.status == 200, response.body
    return response.body


def paid_subscription(api, **params):
    sub = api.subscription(**params)
    assert api.emulator.pay(intent_id(sub["latest_invoice"]))["error"] is None
    return api.get(f"/v1/subscriptions/{sub['id']}").body


def types(events):
    return [event["type"] for event in events]


def ts(*args):
    return int(datetime(*args, tzinfo=UTC).timestamp())


# ------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("start", "interval", "count", "end"),
    [
        (ts(2026, 1, 31, 9), "month", 1, ts(2026, 2, 28, 9)),
        (ts(2028, 1, 31), "month", 1, ts(2028, 2, 29)),
        (ts(2026, 11, 30), "month", 3, ts(2027, 2, 28)),
        (ts(2028, 2, 29), "year", 1, ts(2029, 2, 28)),
        (ts(2026, 3, 1), "week", 2, ts(2026, 3, 15)),
        (ts(2026, 3, 1), "day", 1, ts(2026, 3, 2)),
    ],
)
def test_add_interval(start, interval, count, end):
    assert add_interval(start, interval, count) == end


def test_periods_count_from_the_anchor():
    anchor, monthly = ts(2026, 1, 31), {"interval": "month", "interval_count": 1}
    february = period_end(anchor, anchor, monthly)
    assert february == ts(2026, 2, 28)
    assert period_end(anchor, february, monthly) == ts(2026, 3, 31)


# ------------------------------------------------------------- creation


def test_create_default_incomplete(api, emulator):
    price = api.recurring_price(2500)
    sub = api.subscription(price, metadata={"user_id": "7"})
    assert sub["id"].startswith("sub_") and sub["status"] == "incomplete"
    assert sub["metadata"] == {"user_id": "7"} and sub["currency"] == "eur"
    assert sub["start_date"] == sub["created"] == sub["billing_cycle_anchor"]
    [item] = sub["items"]["data"]
    assert item["price"]["id"] == price["id"] and item["quantity"] == 1
    assert item["current_period_start"] == sub["created"]
    assert item["current_period_end"] == add_interval(sub["created"], "month", 1)
    assert "current_period_end" not in sub  # endive: periods live on the items

    invoice = sub["latest_invoice"]
    customer = api.get(f"/v1/customers/{sub['customer']}").body
    assert invoice["id"].startswith("in_") and invoice["status"] == "open"
    assert invoice["billing_reason"] == "subscription_create"
    assert invoice["number"] == f"{customer['invoice_prefix']}-0001"
    assert (invoice["amount_due"], invoice["amount_paid"], invoice["amount_remaining"]) == (
        2500,
        0,
        2500,
    )
    assert invoice["hosted_invoice_url"] == f"https://invoice.stripe.com/i/emulated/{invoice['id']}"
    assert invoice["invoice_pdf"] == f"https://pay.stripe.com/invoice/{invoice['id']}/pdf"
    assert invoice["status_transitions"]["finalized_at"] is not None
    assert invoice["status_transitions"]["paid_at"] is None
    assert invoice["parent"] == {
        "type": "subscription_details",
        "subscription_details": {"subscription": sub["id"], "metadata": {"user_id": "7"}},
        "quote_details": None,
    }
    [line] = invoice["lines"]["data"]
    assert line["amount"] == 2500 and line["description"] == "1 × Pro (at €25.00 / month)"
    assert line["period"] == {
        "start": item["current_period_start"],
        "end": item["current_period_end"],
    }
    assert line["pricing"]["price_details"] == {"price": price["id"], "product": price["product"]}
    # Stripe's invoice period looks back one period: none yet on the first invoice.
    assert invoice["period_start"] == invoice["period_end"] == invoice["created"]

    [payment] = invoice["payments"]["data"]
    assert payment["object"] == "invoice_payment" and payment["status"] == "open"
    assert payment["is_default"] is True and payment["amount_requested"] == 2500
    intent = api.get(f"/v1/payment_intents/{payment['payment']['payment_intent']}").body
    assert invoice["confirmation_secret"] == {
        "client_secret": intent["client_secret"],
        "type": "payment_intent",
    }
    assert (intent["amount"], intent["currency"], intent["customer"]) == (
        2500,
        "eur",
        customer["id"],
    )
    assert intent["status"] == "requires_payment_method" and intent["metadata"] == {}
    assert "invoice" not in intent
    assert intent["setup_future_usage"] == "off_session"

    assert api.event_types()[-4:] == CREATED
    assert emulator.events()[-4].event["data"]["object"]["latest_invoice"] == invoice["id"]


def test_includables_are_there_only_when_expanded(api):
    sub = api.subscription()
    plain = api.get(f"/v1/subscriptions/{sub['id']}").body
    assert plain["latest_invoice"] == sub["latest_invoice"]["id"]
    invoice = api.get(f"/v1/invoices/{plain['latest_invoice']}").body
    assert "payments" not in invoice and "confirmation_secret" not in invoice
    expanded = api.get(
        f"/v1/invoices/{invoice['id']}", {"expand": ["payments", "confirmation_secret"]}
    ).body
    assert expanded["payments"] == sub["latest_invoice"]["payments"]
    assert expanded["confirmation_secret"] == sub["latest_invoice"]["confirmation_secret"]
    assert expanded["payments"]["url"] == f"/v1/invoice_payments?invoice={invoice['id']}"
    nested = api.get(
        f"/v1/subscriptions/{sub['id']}",
        {"expand": ["latest_invoice.payments.data.payment.payment_intent"]},
    ).body
    [payment] = nested["latest_invoice"]["payments"]["data"]
    assert payment["payment"]["payment_intent"]["object"] == "payment_intent"
    listed = api.get("/v1/invoices", {"expand": ["data.confirmation_secret"]}).body
    assert listed["data"][0]["confirmation_secret"] == expanded["confirmation_secret"]


@pytest.mark.parametrize(
    ("params", "status", "code", "param"),
    [
        ({"customer": None}, 400, "parameter_missing", "customer"),
        ({"customer": "cus_nope"}, 404, "resource_missing", "customer"),
        ({"items": None}, 400, "parameter_missing", "items"),
        ({"items": [{"price": "price_nope"}]}, 404, "resource_missing", "items[0][price]"),
        ({"items": [{"price": "ONE_TIME"}]}, 400, None, "items[0][price]"),
        ({"items": [{"price": "INACTIVE"}]}, 400, None, "items[0][price]"),
        ({"payment_behavior": "pending_if_incomplete"}, 400, None, "payment_behavior"),
        ({"plan": "price_x"}, 400, "parameter_unknown", "plan"),  # gone from the API
    ],
)
def test_invalid_subscription_parameters(api, emulator, params, status, code, param):
    customer = api.post("/v1/customers").body
    price = api.recurring_price()
    one_time = api.post(
        "/v1/prices", {"product": price["product"], "currency": "eur", "unit_amount": 500}
    ).body
    inactive = api.recurring_price()
    api.post(f"/v1/prices/{inactive['id']}", {"active": False})
    named = {"ONE_TIME": one_time["id"], "INACTIVE": inactive["id"]}
    body = {"customer": customer["id"], "items": [{"price": price["id"]}], **params}
    if body["items"]:
        body["items"] = [{"price": named.get(i["price"], i["price"])} for i in body["items"]]
    events = len(emulator.events())
    response = api.post("/v1/subscriptions", {k: v for k, v in body.items() if v is not None})
    assert response.status == status, response.body
    assert (response.error.get("code"), response.error["param"]) == (code, param)
    assert len(emulator.events()) == events


def test_idempotent_create(api, emulator):
    customer = api.post("/v1/customers").body
    params = {
        "customer": customer["id"],
        "items": [{"price": api.recurring_price()["id"]}],
        "payment_behavior": "default_incomplete",
    }
    first = api.post("/v1/subscriptions", params, idempotency_key="sub-1")
    events = len(emulator.events())
    again = api.post("/v1/subscriptions", params, idempotency_key="sub-1")
    assert again.headers["Idempotent-Replayed"] == "true" and again.body == first.body
    assert len(emulator.events()) == events
    assert len(api.get("/v1/subscriptions").body["data"]) == 1
    assert len(api.get("/v1/invoices").body["data"]) == 1


# ------------------------------------------------ paying the first invoice


def test_pay_the_first_invoice(api, emulator):
    sub = api.subscription()
    before = len(emulator.events())
    result = emulator.pay(intent_id(sub["latest_invoice"]))
    assert result["error"] is None and result["payment_intent"]["status"] == "succeeded"
    events = api.events_since(before)
    assert types(events) == PAID
    assert events[-1]["data"]["previous_attributes"] == {
        "status": "incomplete",
        "default_payment_method": None,
    }

    active = api.get(f"/v1/subscriptions/{sub['id']}").body
    assert active["status"] == "active"
    assert active["default_payment_method"] == result["payment_intent"]["payment_method"]
    invoice = invoice_of(api, sub["latest_invoice"]["id"])
    assert (invoice["status"], invoice["amount_paid"], invoice["amount_remaining"]) == (
        "paid",
        2000,
        0,
    )
    assert invoice["attempt_count"] == 1 and invoice["attempted"] is True
    assert invoice["status_transitions"]["paid_at"] >= invoice["status_transitions"]["finalized_at"]
    [payment] = invoice["payments"]["data"]
    assert payment["status"] == "paid" and payment["amount_paid"] == 2000
    assert payment["status_transitions"]["paid_at"] == invoice["status_transitions"]["paid_at"]


def test_pay_through_the_confirm_endpoint(api):
    sub = api.subscription()
    response = api.post(
        f"/v1/payment_intents/{intent_id(sub['latest_invoice'])}/confirm",
        {"payment_method": "pm_card_visa"},
    )
    assert response.status == 200 and response.body["status"] == "succeeded"
    assert api.get(f"/v1/subscriptions/{sub['id']}").body["status"] == "active"
    assert api.event_types()[-5:] == PAID


def test_a_declined_first_invoice_stays_open(api, emulator):
    sub = api.subscription()
    before = len(emulator.events())
    result = emulator.pay(intent_id(sub["latest_invoice"]), "4000000000000002")
    assert result["error"]["decline_code"] == "generic_decline"
    assert types(api.events_since(before)) == DECLINED
    invoice = invoice_of(api, sub["latest_invoice"]["id"])
    assert invoice["status"] == "open" and invoice["attempt_count"] == 1
    assert invoice["payments"]["data"][0]["status"] == "open"
    assert api.get(f"/v1/subscriptions/{sub['id']}").body["status"] == "incomplete"

    assert emulator.pay(intent_id(invoice))["error"] is None
    assert api.get(f"/v1/subscriptions/{sub['id']}").body["status"] == "active"
    assert invoice_of(api, invoice["id"])["attempt_count"] == 2


def test_three_d_secure_requires_action_on_the_invoice(api, emulator):
    sub = api.subscription()
    pi_id = intent_id(sub["latest_invoice"])
    before = len(emulator.events())
    assert emulator.pay(pi_id, "4000002500003155")["payment_intent"]["status"] == "requires_action"
    events = api.events_since(before)
    assert types(events) == ["payment_intent.requires_action", "invoice.payment_action_required"]
    assert events[-1]["data"]["object"]["id"] == sub["latest_invoice"]["id"]
    assert api.get(f"/v1/subscriptions/{sub['id']}").body["status"] == "incomplete"
    emulator.authenticate(pi_id)
    assert api.get(f"/v1/subscriptions/{sub['id']}").body["status"] == "active"
    assert api.event_types()[-5:] == PAID


def test_an_invoice_payment_intent_cannot_be_canceled(api):
    sub = api.subscription()
    response = api.post(f"/v1/payment_intents/{intent_id(sub['latest_invoice'])}/cancel")
    assert response.status == 400 and "created by an invoice" in response.error["message"]


@pytest.mark.parametrize(
    ("behavior", "method", "status", "sub_status"),
    [
        ("allow_incomplete", "pm_card_visa", 200, "active"),
        ("allow_incomplete", "pm_card_chargeDeclined", 200, "incomplete"),
        ("allow_incomplete", None, 200, "incomplete"),
        ("error_if_incomplete", "pm_card_visa", 200, "active"),
        ("error_if_incomplete", "pm_card_chargeDeclined", 402, None),
        ("error_if_incomplete", "pm_card_authenticationRequired", 402, None),
        ("error_if_incomplete", None, 400, None),
    ],
)
def test_payment_behaviors_that_pay_at_once(api, emulator, behavior, method, status, sub_status):
    customer = api.post("/v1/customers").body
    price = api.recurring_price()
    events = len(emulator.events())
    params = {"customer": customer["id"], "items": [{"price": price["id"]}]}
    if behavior != "allow_incomplete":  # the default
        params["payment_behavior"] = behavior
    if method:
        params["default_payment_method"] = method
    response = api.post("/v1/subscriptions", params)
    assert response.status == status, response.body
    if sub_status is None:  # error_if_incomplete: nothing is left
        assert api.get("/v1/subscriptions", {"status": "all"}).body["data"] == []
        assert api.get("/v1/invoices").body["data"] == []
        assert len(emulator.events()) == events
        assert "payment_intent" not in response.error
    else:
        assert response.body["status"] == sub_status


# --------------------------------------------------------------- renewal


def test_advance_renews_and_charges_the_default_payment_method(api, emulator):
    sub = paid_subscription(api)
    [item] = sub["items"]["data"]
    balance = api.get("/v1/balance").body["available"][0]["amount"]
    before = len(emulator.events())

    result = emulator.advance_subscription(sub["id"])
    assert result["error"] is None
    renewed, invoice = result["subscription"], result["invoice"]
    events = api.events_since(before)
    assert types(events) == [
        "invoice.created",
        "invoice.finalized",
        "payment_intent.created",
        *PAID,
    ]
    [new_item] = renewed["items"]["data"]
    assert new_item["current_period_start"] == item["current_period_end"]
    assert new_item["current_period_end"] == add_interval(sub["created"], "month", 2)
    assert renewed["status"] == "active" and renewed["latest_invoice"] == invoice["id"]
    assert events[-1]["data"]["previous_attributes"]["items"] == sub["items"]
    assert events[-1]["data"]["previous_attributes"]["latest_invoice"] == sub["latest_invoice"]

    assert invoice["billing_reason"] == "subscription_cycle" and invoice["status"] == "paid"
    assert invoice["number"].endswith("-0002") and invoice["amount_paid"] == 2000
    assert (invoice["period_start"], invoice["period_end"]) == (
        item["current_period_start"],
        item["current_period_end"],
    )
    assert invoice["lines"]["data"][0]["period"] == {
        "start": new_item["current_period_start"],
        "end": new_item["current_period_end"],
    }
    intent = api.get(f"/v1/payment_intents/{intent_id(invoice_of(api, invoice['id']))}").body
    assert intent["payment_method"] == sub["default_payment_method"]
    charge = api.get(f"/v1/charges/{intent['latest_charge']}").body
    txn = api.get(f"/v1/balance_transactions/{charge['balance_transaction']}").body
    assert txn["fee"] == card_fee(2000)
    assert api.get("/v1/balance").body["available"][0]["amount"] == balance + 2000 - card_fee(2000)
    invoices = api.get("/v1/invoices", {"subscription": sub["id"]}).body["data"]
    assert [i["billing_reason"] for i in invoices] == ["subscription_cycle", "subscription_create"]


def test_a_failed_renewal_is_past_due_until_paid(api, emulator):
    sub = paid_subscription(api)
    before = len(emulator.events())
    result = emulator.advance_subscription(sub["id"], succeed=False)
    assert result["error"]["code"] == "card_declined"
    assert result["subscription"]["status"] == "past_due"
    invoice = result["invoice"]
    assert invoice["status"] == "open" and invoice["attempt_count"] == 1
    events = api.events_since(before)
    assert types(events) == [
        "invoice.created",
        "invoice.finalized",
        "payment_intent.created",
        *DECLINED,
        "customer.subscription.updated",
    ]
    assert events[-1]["data"]["previous_attributes"]["status"] == "active"
    assert events[-1]["data"]["object"]["status"] == "past_due"

    before = len(emulator.events())
    assert emulator.pay(intent_id(invoice_of(api, invoice["id"])))["error"] is None
    events = api.events_since(before)
    assert types(events) == PAID
    assert events[-1]["data"]["previous_attributes"]["status"] == "past_due"
    assert api.get(f"/v1/subscriptions/{sub['id']}").body["status"] == "active"
    assert invoice_of(api, invoice["id"])["status"] == "paid"


def test_a_declining_default_card_fails_the_renewal(api, emulator):
    sub = api.subscription(
        default_payment_method="pm_card_chargeDeclinedInsufficientFunds",
        payment_settings={"save_default_payment_method": "off"},
    )
    emulator.pay(intent_id(sub["latest_invoice"]))
    result = emulator.advance_subscription(sub["id"])
    assert result["error"]["decline_code"] == "insufficient_funds"
    assert result["subscription"]["status"] == "past_due"
    assert result["invoice"]["status"] == "open"


def test_cancel_at_period_end_then_advance_ends_it(api, emulator):
    sub = paid_subscription(api)
    period_end_at = sub["items"]["data"][0]["current_period_end"]
    updated = api.post(f"/v1/subscriptions/{sub['id']}", {"cancel_at_period_end": True}).body
    assert updated["cancel_at_period_end"] is True and updated["status"] == "active"
    assert updated["cancel_at"] == period_end_at and updated["canceled_at"] is not None
    [event] = api.events_since(len(emulator.events()) - 1)
    assert event["type"] == "customer.subscription.updated"
    assert event["data"]["previous_attributes"]["cancel_at_period_end"] is False

    before = len(emulator.events())
    result = emulator.advance_subscription(sub["id"])
    assert result["error"] is None and result["invoice"] is None
    ended = result["subscription"]
    assert ended["status"] == "canceled" and ended["ended_at"] == period_end_at
    assert ended["canceled_at"] == updated["canceled_at"]
    assert api.event_types()[before:] == ["customer.subscription.deleted"]
    assert len(api.get("/v1/invoices", {"subscription": sub["id"]}).body["data"]) == 1
    assert emulator.advance_subscription(sub["id"])["error"]["message"].endswith("canceled.")


def test_cancel_at_period_end_can_be_undone(api, emulator):
    sub = paid_subscription(api)
    path = f"/v1/subscriptions/{sub['id']}"
    api.post(path, {"cancel_at_period_end": True})
    undone = api.post(path, {"cancel_at_period_end": False, "metadata": {"a": "1"}}).body
    assert (undone["cancel_at_period_end"], undone["cancel_at"], undone["canceled_at"]) == (
        False,
        None,
        None,
    )
    assert undone["metadata"] == {"a": "1"}
    assert undone["cancellation_details"]["reason"] is None
    [event] = api.events_since(len(emulator.events()) - 1)
    assert set(event["data"]["previous_attributes"]) == {
        "cancel_at_period_end",
        "cancel_at",
        "canceled_at",
        "cancellation_details",
        "metadata",
    }
    before = len(emulator.events())
    assert api.post(path, {"metadata": {"a": "1"}}).status == 200
    assert len(emulator.events()) == before  # nothing changed, nothing sent


def test_delete_cancels_now(api, emulator):
    sub = paid_subscription(api)
    response = api.request("DELETE", f"/v1/subscriptions/{sub['id']}")
    canceled = response.body
    assert response.status == 200 and canceled["status"] == "canceled"
    assert canceled["canceled_at"] == canceled["ended_at"] is not None
    assert canceled["cancellation_details"]["reason"] == "cancellation_requested"
    assert api.event_types()[-1] == "customer.subscription.deleted"
    assert api.request("DELETE", f"/v1/subscriptions/{sub['id']}").status == 400
    refused = api.post(f"/v1/subscriptions/{sub['id']}", {"cancel_at_period_end": True})
    assert refused.status == 400
    assert api.get(f"/v1/subscriptions/{sub['id']}").body == canceled


def test_pause_and_resume(api, emulator):
    sub = paid_subscription(api)
    before = len(emulator.events())
    paused = emulator.pause_subscription(sub["id"])
    assert paused["error"] is None and paused["subscription"]["status"] == "paused"
    assert paused["invoice"] is None
    events = api.events_since(before)
    assert types(events) == ["customer.subscription.paused", "customer.subscription.updated"]
    assert events[-1]["data"]["previous_attributes"] == {"status": "active"}
    assert emulator.pause_subscription(sub["id"])["error"]["message"].endswith("paused.")
    assert emulator.advance_subscription(sub["id"])["error"] is not None

    resumed = emulator.resume_subscription(sub["id"])
    assert resumed["subscription"]["status"] == "active"
    assert api.event_types()[-2:] == [
        "customer.subscription.resumed",
        "customer.subscription.updated",
    ]
    assert emulator.resume_subscription(sub["id"])["error"] is not None
    missing = emulator.pause_subscription("sub_nope")
    assert missing["subscription"] is None and missing["error"]["code"] == "resource_missing"


# ----------------------------------------------------------------- lists


def test_list_subscriptions_and_invoices(api, emulator):
    first, second = paid_subscription(api), api.subscription()
    api.request("DELETE", f"/v1/subscriptions/{first['id']}")

    def ids(**params):
        return [sub["id"] for sub in api.get("/v1/subscriptions", params).body["data"]]

    assert ids() == [second["id"]]  # Stripe leaves the canceled ones out by default
    assert ids(status="all") == [second["id"], first["id"]]
    assert ids(status="canceled") == ids(status="ended") == [first["id"]]
    assert ids(status="incomplete") == [second["id"]]
    assert ids(status="all", customer=first["customer"]) == [first["id"]]
    assert ids(status="all", price=first["items"]["data"][0]["price"]["id"]) == [first["id"]]
    assert api.get("/v1/subscriptions", {"status": "bored"}).status == 400

    def invoices(**params):
        return [invoice["id"] for invoice in api.get("/v1/invoices", params).body["data"]]

    assert invoices() == [second["latest_invoice"]["id"], first["latest_invoice"]]
    assert invoices(status="paid") == [first["latest_invoice"]]
    assert invoices(customer=second["customer"]) == [second["latest_invoice"]["id"]]
    assert invoices(subscription=first["id"]) == [first["latest_invoice"]]
    assert api.get("/v1/invoices/in_nope").error["code"] == "resource_missing"


def test_a_canceled_incomplete_subscriptions_first_invoice_stays_payable(api, emulator):
    """As at Stripe: canceling leaves the open invoice open, and an invoice's
    PaymentIntent cannot be canceled; paying it does not revive the subscription.
    (The project closes a superseded start this way and refunds such a payment.)"""
    sub = api.subscription()
    assert api.request("DELETE", f"/v1/subscriptions/{sub['id']}").body["status"] == "canceled"
    assert invoice_of(api, sub["latest_invoice"]["id"])["status"] == "open"
    before = len(emulator.events())
    assert emulator.pay(intent_id(sub["latest_invoice"]))["error"] is None
    assert types(api.events_since(before)) == PAID[:-1]  # no customer.subscription.updated
    assert invoice_of(api, sub["latest_invoice"]["id"])["status"] == "paid"
    assert api.get(f"/v1/subscriptions/{sub['id']}").body["status"] == "canceled"
