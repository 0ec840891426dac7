"""Checkout Sessions through handle_http, and the customer on the hosted page
(complete_checkout, settle_checkout, expire_checkout)."""

import pytest

from stripe_emulator.objects import card_fee

SUCCESS_URL = "https://shop.example/checkout/success?session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://shop.example/checkout/cancel"
PAID = ["charge.succeeded", "payment_intent.succeeded"]
SUBSCRIBED = [
    "customer.subscription.created",
    "invoice.created",
    "invoice.finalized",
    "payment_intent.created",
    "charge.succeeded",
    "payment_intent.succeeded",
    "invoice.payment_succeeded",
    "invoice.paid",
    "customer.subscription.updated",
    "checkout.session.completed",
]


def one_time_price(api, unit_amount=1500, currency="eur"):
    product = api.post("/v1/products", {"name": "Ticket"}).body
    response = api.post(
        "/v1/prices",
        {"product": product["id"], "currency": currency, "unit_amount": unit_amount},
    )
    assert response.status == 200, response.body
    return response.body


def session_params(api, mode="payment", price=None, customer=True, **params):
    """What the project sends (payments.gateway.create_checkout_session)."""
    if price is None:
        price = one_time_price(api) if mode == "payment" else api.recurring_price()
    body = {
        "mode": mode,
        "line_items": [{"price": price["id"], "quantity": 1}],
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "client_reference_id": "order-42",
        "metadata": {"order_id": "42"},
    }
    if customer:
        body["customer"] = api.post("/v1/customers", {"email": "buyer@example.com"}).body["id"]
    data = "payment_intent_data" if mode == "payment" else "subscription_data"
    body[data] = {"metadata": {"order_id": "42"}}
    return {**body, **params}


def create(api, mode="payment", **params):
    response = api.post("/v1/checkout/sessions", session_params(api, mode, **params))
    assert response.status == 200, response.body
    return response.body


def types_since(api, count):
    return [event["type"] for event in api.events_since(count)]


# ------------------------------------------------------------- creation


def test_create_in_payment_mode(api, emulator):
    price = one_time_price(api, 1500)
    params = session_params(api, price=price)
    events = len(emulator.events())
    session = api.post("/v1/checkout/sessions", params).body
    assert session["object"] == "checkout.session"
    assert session["id"].startswith("cs_test_") and len(session["id"]) == 66
    assert (session["mode"], session["status"], session["payment_status"]) == (
        "payment",
        "open",
        "unpaid",
    )
    assert session["url"] == f"{emulator.public_url}/checkout/{session['id']}"  # its hosted page, not checkout.stripe.com
    assert (session["amount_subtotal"], session["amount_total"], session["currency"]) == (
        1500,
        1500,
        "eur",
    )
    assert session["expires_at"] == session["created"] + 24 * 3600
    assert session["payment_intent"] is None and session["subscription"] is None  # lazily
    assert session["customer"] == params["customer"] and session["customer_creation"] is None
    assert session["client_reference_id"] == "order-42"
    assert session["metadata"] == {"order_id": "42"}
    assert (session["success_url"], session["cancel_url"]) == (SUCCESS_URL, CANCEL_URL)
    assert session["ui_mode"] == "hosted_page" and session["livemode"] is False
    assert session["payment_method_types"] == ["card"]
    assert session["customer_details"] is None and session["invoice"] is None
    assert "payment_intent_data" not in session and "line_items" not in session
    assert len(emulator.events()) == events  # Stripe sends no event at creation
    assert api.get(f"/v1/checkout/sessions/{session['id']}").body == session


def test_create_in_subscription_mode(api, emulator):
    price = api.recurring_price(900)
    events = len(emulator.events())
    session = create(api, "subscription", price=price)
    assert (session["mode"], session["status"], session["payment_status"]) == (
        "subscription",
        "open",
        "unpaid",
    )
    assert (session["amount_total"], session["currency"]) == (900, "eur")
    assert session["subscription"] is None and session["payment_intent"] is None
    assert session["invoice_creation"] is None and session["payment_method_collection"] == "always"
    assert len(emulator.events()) == events + 1  # the customer's creation only
    assert emulator.events()[-1].event["type"] == "customer.created"


def test_create_without_customer_or_cancel_url_and_with_options(api):
    """cancel_url is optional (Stripe shows no back button); allowed_payment_method_types
    (API endive's name) is accepted though the project does not send it; expires_at
    within 30 min..24 h."""
    params = session_params(api, customer=False)
    del params["cancel_url"]
    expires_at = api.payment_intent()["created"] + 3600
    session = api.post(
        "/v1/checkout/sessions",
        {**params, "allowed_payment_method_types": ["card"], "expires_at": expires_at},
    ).body
    assert session["cancel_url"] is None and session["customer"] is None
    assert session["customer_creation"] == "if_required"
    assert session["expires_at"] == expires_at
    assert session["allowed_payment_method_types"] == session["payment_method_types"] == ["card"]


@pytest.mark.parametrize(
    ("change", "status", "code", "param", "message"),
    [
        ({"mode": "subscription"}, 400, None, "line_items", "at least one recurring price"),
        ({"price": "RECURRING"}, 400, None, "line_items[0][price]", "passed a recurring price"),
        ({"success_url": None}, 400, "parameter_missing", "success_url", "success_url"),
        ({"mode": None}, 400, "parameter_missing", "mode", "mode"),
        ({"mode": "setup"}, 400, None, "mode", "only payment and subscription"),
        ({"mode": "donation"}, 400, None, "mode", "Invalid mode"),
        ({"line_items": None}, 400, "parameter_missing", "line_items", "line_items"),
        ({"price": "price_nope"}, 404, "resource_missing", "line_items[0][price]", "No such"),
        ({"price": "INACTIVE"}, 400, None, "line_items[0][price]", "inactive"),
        ({"quantity": None}, 400, None, "line_items[0][quantity]", "Quantity is required"),
        ({"quantity": 2}, 400, None, "line_items[0][quantity]", "quantity of 1"),
        ({"customer": "cus_nope"}, 404, "resource_missing", "customer", "No such customer"),
        (
            {"subscription_data": {"metadata": {"a": "1"}}},
            400,
            None,
            "subscription_data",
            "You can not pass `subscription_data` in `payment` mode.",
        ),
        (
            {"payment_intent_data": {"customer": "cus_x"}},
            400,
            "parameter_unknown",
            "payment_intent_data[customer]",
            "unknown parameter",
        ),
        ({"expires_at": "SOON"}, 400, None, "expires_at", "at least 30 minutes"),
        ({"expires_at": "LATE"}, 400, None, "expires_at", "less than 24 hours"),
        ({"trial_period_days": 7}, 400, "parameter_unknown", "trial_period_days", "unknown"),
    ],
)
def test_invalid_parameters(api, emulator, change, status, code, param, message):
    recurring = api.recurring_price()
    inactive = one_time_price(api)
    api.post(f"/v1/prices/{inactive['id']}", {"active": False})
    params = session_params(api)
    now = api.payment_intent()["created"]
    named = {
        "RECURRING": recurring["id"],
        "INACTIVE": inactive["id"],
        "SOON": now + 60,
        "LATE": now + 25 * 3600,
    }
    for key, value in change.items():
        value = named.get(value, value) if isinstance(value, str) else value
        if key in ("price", "quantity"):
            params["line_items"][0][key] = value
        else:
            params[key] = value
    if params["line_items"]:
        [item] = params["line_items"]
        params["line_items"] = [{k: v for k, v in item.items() if v is not None}]
    events = len(emulator.events())
    response = api.post(
        "/v1/checkout/sessions", {k: v for k, v in params.items() if v is not None}
    )
    assert response.status == status, response.body
    assert (response.error.get("code"), response.error["param"]) == (code, param)
    assert message in response.error["message"]
    assert len(emulator.events()) == events
    assert api.get("/v1/checkout/sessions").body["data"] == []


def test_an_amount_of_our_own_through_price_data(api, emulator):
    """As the project sends a computed amount (a deposit): an inline price on a product,
    made inactive and without an event, that the payment then uses."""
    product = api.post("/v1/products", {"name": "Room deposit"}).body
    price_data = {"currency": "EUR", "unit_amount": 499, "product": product["id"]}
    params = session_params(api, price=one_time_price(api))
    params["line_items"] = [{"price_data": price_data, "quantity": 1}]
    prices = len(api.get("/v1/prices", {"limit": 100}).body["data"])
    events = len(emulator.events())
    session = api.post("/v1/checkout/sessions", params).body
    assert (session["amount_total"], session["currency"]) == (499, "eur")
    assert len(emulator.events()) == events
    inline = api.get("/v1/prices", {"limit": 100, "product": product["id"]}).body["data"]
    assert [(p["unit_amount"], p["active"], p["type"]) for p in inline] == [
        (499, False, "one_time")
    ]
    assert len(api.get("/v1/prices", {"limit": 100}).body["data"]) == prices + 1
    done = emulator.complete_checkout(session["id"])["session"]
    assert emulator.retrieve(done["payment_intent"])["amount"] == 499

    recurring = {**price_data, "recurring": {"interval": "month"}}
    subscription = session_params(api, "subscription", price=api.recurring_price())
    subscription["line_items"] = [{"price_data": recurring, "quantity": 1}]
    session = api.post("/v1/checkout/sessions", subscription).body
    done = emulator.complete_checkout(session["id"])["session"]
    sub = emulator.retrieve(done["subscription"])
    assert sub["status"] == "active" and sub["items"]["data"][0]["price"]["unit_amount"] == 499


@pytest.mark.parametrize(
    ("item", "status", "param", "message"),
    [
        (
            {"price": "PRICE", "price_data": "DATA"},
            400,
            "line_items[0][price_data]",
            "You may only specify one of these parameters: price, price_data.",
        ),
        ({}, 400, "line_items[0][price]", "Missing required param: line_items[0][price]."),
        (
            {"price_data": {"currency": None}},
            400,
            "line_items[0][price_data][currency]",
            "Missing required param",
        ),
        (
            {"price_data": {"product": "prod_nope"}},
            404,
            "line_items[0][price_data][product]",
            "No such product: 'prod_nope'",
        ),
        (
            {"price_data": {"unit_amount": None}},
            400,
            "line_items[0][price_data][unit_amount]",
            "Missing required param",
        ),
        (
            {"price_data": {"product_data": {"name": "X"}}},
            400,
            "line_items[0][price_data][product_data]",
            "The Stripe emulator supports price_data with a product",
        ),
        (
            {"price_data": {"product_data": {"name": "X", "colour": "red"}}},
            400,
            "line_items[0][price_data][product_data][colour]",
            "Received unknown parameter",
        ),
        (
            {"price_data": {"recurring": {"interval": "month"}}},
            400,
            "line_items[0][price]",
            "passed a recurring price",
        ),
    ],
)
def test_invalid_price_data(api, emulator, item, status, param, message):
    price = one_time_price(api)
    data = {"currency": "eur", "unit_amount": 499, "product": price["product"]}
    if "price_data" in item:
        data = {**data, **(item["price_data"] if isinstance(item["price_data"], dict) else {})}
        item = {**item, "price_data": {k: v for k, v in data.items() if v is not None}}
    if "price" in item:
        item["price"] = price["id"]
    params = session_params(api, price=price)
    params["line_items"] = [{**item, "quantity": 1}]
    prices = api.get("/v1/prices", {"limit": 100}).body["data"]
    response = api.post("/v1/checkout/sessions", params)
    assert response.status == status, response.body
    assert response.error["param"] == param and message in response.error["message"]
    assert api.get("/v1/prices", {"limit": 100}).body["data"] == prices  # nothing left behind
    assert api.get("/v1/checkout/sessions").body["data"] == []


def test_payment_intent_data_in_subscription_mode_is_refused(api):
    params = session_params(api, "subscription", payment_intent_data={"metadata": {"a": "1"}})
    response = api.post("/v1/checkout/sessions", params)
    assert response.status == 400 and response.error["param"] == "payment_intent_data"
    assert response.error["message"] == (
        "You can not pass `payment_intent_data` in `subscription` mode."
    )


def test_unknown_session(api):
    response = api.get("/v1/checkout/sessions/cs_test_nope")
    assert response.status == 404
    assert response.error["message"] == "No such checkout.session: 'cs_test_nope'"
    assert api.post("/v1/checkout/sessions/cs_test_nope/expire").status == 404
    assert api.get(f"/v1/checkout/sessions/{api.payment_intent()['id']}").status == 404


def test_idempotent_create(api, emulator):
    params = session_params(api)
    first = api.post("/v1/checkout/sessions", params, idempotency_key="checkout-42")
    again = api.post("/v1/checkout/sessions", params, idempotency_key="checkout-42")
    assert first.status == again.status == 200
    assert again.body == first.body and again.headers["Idempotent-Replayed"] == "true"
    assert [s["id"] for s in api.get("/v1/checkout/sessions").body["data"]] == [first.body["id"]]
    changed = {**params, "client_reference_id": "x"}
    other = api.post("/v1/checkout/sessions", changed, idempotency_key="checkout-42")
    assert other.status == 400 and other.error["type"] == "idempotency_error"


# ------------------------------------------------------- payment mode


def test_complete_in_payment_mode(api, emulator):
    session = create(api)
    events = len(emulator.events())
    result = emulator.complete_checkout(session["id"])
    assert result["error"] is None
    done = result["session"]
    assert (done["status"], done["payment_status"]) == ("complete", "paid")
    assert done["url"] is None
    assert done["customer_details"]["email"] == "buyer@example.com"
    assert done == api.get(f"/v1/checkout/sessions/{session['id']}").body
    assert types_since(api, events) == [
        "payment_intent.created",
        *PAID,
        "checkout.session.completed",
    ]
    completed = api.events_since(events)[-1]
    assert completed["data"]["object"] == done
    assert completed["request"] == {"id": None, "idempotency_key": None}

    intent = api.get(f"/v1/payment_intents/{done['payment_intent']}").body
    assert intent["status"] == "succeeded" and intent["metadata"] == {"order_id": "42"}
    assert (intent["amount"], intent["currency"], intent["customer"]) == (
        1500,
        "eur",
        session["customer"],
    )
    charge = api.get(f"/v1/charges/{intent['latest_charge']}").body
    assert charge["metadata"] == {"order_id": "42"} and charge["amount"] == 1500
    txn = api.get(f"/v1/balance_transactions/{charge['balance_transaction']}").body
    assert (txn["fee"], txn["net"]) == (card_fee(1500), 1500 - card_fee(1500))
    expanded = api.get(f"/v1/checkout/sessions/{session['id']}", {"expand": ["payment_intent"]})
    assert expanded.body["payment_intent"] == intent


def test_a_decline_keeps_the_session_open_and_the_page_retries(api, emulator):
    session = create(api)
    events = len(emulator.events())
    result = emulator.complete_checkout(session["id"], "4000000000009995")
    assert result["error"]["type"] == "card_error"
    assert result["error"]["decline_code"] == "insufficient_funds"
    declined = result["session"]
    assert (declined["status"], declined["payment_status"]) == ("open", "unpaid")
    assert declined["url"] == session["url"] and declined["payment_intent"] is not None
    assert types_since(api, events) == [
        "payment_intent.created",
        "charge.failed",
        "payment_intent.payment_failed",
    ]
    retried = emulator.complete_checkout(session["id"])
    assert retried["error"] is None and retried["session"]["status"] == "complete"
    assert retried["session"]["payment_intent"] == declined["payment_intent"]  # the same intent
    assert types_since(api, events)[3:] == [*PAID, "checkout.session.completed"]


def test_an_invalid_card_number_changes_nothing(api, emulator):
    session = create(api)
    events = len(emulator.events())
    result = emulator.complete_checkout(session["id"], "4242424242424241")
    assert result["error"]["code"] == "incorrect_number"
    assert result["session"] == session
    assert len(emulator.events()) == events


def test_three_d_secure_is_passed_on_the_page(api, emulator):
    session = create(api)
    events = len(emulator.events())
    result = emulator.complete_checkout(session["id"], "4000002500003155")
    assert result["error"] is None and result["session"]["payment_status"] == "paid"
    assert types_since(api, events) == [
        "payment_intent.created",
        "payment_intent.requires_action",
        *PAID,
        "checkout.session.completed",
    ]
    intent = emulator.retrieve(result["session"]["payment_intent"])
    charge = emulator.retrieve(intent["latest_charge"])
    assert charge["payment_method_details"]["card"]["three_d_secure"]["result"] == "authenticated"


def test_delayed_payment_then_settled(api, emulator):
    session = create(api)
    events = len(emulator.events())
    result = emulator.complete_checkout(session["id"], delayed=True)
    assert result["error"] is None
    done = result["session"]
    assert (done["status"], done["payment_status"]) == ("complete", "unpaid")
    assert emulator.retrieve(done["payment_intent"])["status"] == "processing"
    assert types_since(api, events) == [
        "payment_intent.created",
        "payment_intent.processing",
        "checkout.session.completed",
    ]
    assert api.events_since(events)[-1]["data"]["object"]["payment_status"] == "unpaid"

    events = len(emulator.events())
    settled = emulator.settle_checkout(session["id"])
    assert settled["error"] is None
    assert (settled["session"]["status"], settled["session"]["payment_status"]) == (
        "complete",
        "paid",
    )
    assert types_since(api, events) == [*PAID, "checkout.session.async_payment_succeeded"]
    assert api.events_since(events)[-1]["data"]["object"] == settled["session"]
    assert emulator.retrieve(done["payment_intent"])["status"] == "succeeded"
    again = emulator.settle_checkout(session["id"])
    assert "no payment to settle" in again["error"]["message"]


def test_delayed_payment_then_failed(api, emulator):
    session = create(api)
    emulator.complete_checkout(session["id"], delayed=True)
    events = len(emulator.events())
    result = emulator.settle_checkout(session["id"], succeed=False)
    assert result["error"]["type"] == "card_error"
    assert (result["session"]["status"], result["session"]["payment_status"]) == (
        "complete",
        "unpaid",
    )
    assert types_since(api, events) == [
        "charge.failed",
        "payment_intent.payment_failed",
        "checkout.session.async_payment_failed",
    ]
    intent = emulator.retrieve(result["session"]["payment_intent"])
    assert intent["status"] == "requires_payment_method"


def test_settle_needs_a_delayed_payment(api, emulator):
    session = create(api)
    assert "is open and unpaid" in emulator.settle_checkout(session["id"])["error"]["message"]
    emulator.complete_checkout(session["id"])
    assert "complete and paid" in emulator.settle_checkout(session["id"])["error"]["message"]
    missing = emulator.settle_checkout("cs_test_nope")
    assert missing["session"] is None and missing["error"]["code"] == "resource_missing"


# -------------------------------------------------- subscription mode


def test_complete_in_subscription_mode(api, emulator):
    price = api.recurring_price(900)
    session = create(api, "subscription", price=price)
    events = len(emulator.events())
    result = emulator.complete_checkout(session["id"])
    assert result["error"] is None
    done = result["session"]
    assert (done["status"], done["payment_status"]) == ("complete", "paid")
    assert done["payment_intent"] is None and done["url"] is None
    assert types_since(api, events) == SUBSCRIBED
    assert api.events_since(events)[-1]["data"]["object"] == done

    sub = api.get(f"/v1/subscriptions/{done['subscription']}").body
    assert sub["status"] == "active" and sub["customer"] == session["customer"]
    assert sub["metadata"] == {"order_id": "42"}
    assert sub["items"]["data"][0]["price"]["id"] == price["id"]
    assert sub["default_payment_method"] is not None
    assert sub["latest_invoice"] == done["invoice"]
    invoice = api.get(f"/v1/invoices/{done['invoice']}", {"expand": ["payments"]}).body
    assert invoice["status"] == "paid" and invoice["amount_paid"] == 900
    assert invoice["parent"]["subscription_details"]["metadata"] == {"order_id": "42"}
    intent_id = invoice["payments"]["data"][0]["payment"]["payment_intent"]
    intent = api.get(f"/v1/payment_intents/{intent_id}").body
    assert intent["status"] == "succeeded"
    assert intent["payment_method"] == sub["default_payment_method"]
    expanded = api.get(f"/v1/checkout/sessions/{session['id']}", {"expand": ["subscription"]})
    assert expanded.body["subscription"] == sub


def test_a_declined_subscription_is_undone(api, emulator):
    session = create(api, "subscription")
    events = len(emulator.events())
    result = emulator.complete_checkout(session["id"], "4000000000000002")
    assert result["error"]["decline_code"] == "generic_decline"
    assert "payment_intent" not in result["error"] and "charge" not in result["error"]
    assert result["session"] == session
    assert len(emulator.events()) == events
    assert api.get("/v1/subscriptions", {"status": "all"}).body["data"] == []
    retried = emulator.complete_checkout(session["id"])
    assert retried["error"] is None and retried["session"]["status"] == "complete"
    assert types_since(api, events) == SUBSCRIBED


def test_subscription_mode_without_customer_creates_one(api, emulator):
    session = create(api, "subscription", customer=False)
    assert session["customer"] is None
    events = len(emulator.events())
    done = emulator.complete_checkout(session["id"])["session"]
    assert types_since(api, events) == ["customer.created", *SUBSCRIBED]
    assert done["customer"].startswith("cus_")
    assert emulator.retrieve(done["subscription"])["customer"] == done["customer"]


def test_subscription_mode_delayed_then_settled(api, emulator):
    session = create(api, "subscription")
    events = len(emulator.events())
    done = emulator.complete_checkout(session["id"], delayed=True)["session"]
    assert (done["status"], done["payment_status"]) == ("complete", "unpaid")
    assert emulator.retrieve(done["subscription"])["status"] == "incomplete"
    assert types_since(api, events) == [
        *SUBSCRIBED[:4],
        "payment_intent.processing",
        "checkout.session.completed",
    ]
    events = len(emulator.events())
    settled = emulator.settle_checkout(session["id"])["session"]
    assert settled["payment_status"] == "paid"
    assert emulator.retrieve(done["subscription"])["status"] == "active"
    assert types_since(api, events) == [
        *SUBSCRIBED[4:-1],
        "checkout.session.async_payment_succeeded",
    ]


# ------------------------------------------------------------- expiry


def test_expire_then_complete_is_refused(api, emulator):
    session = create(api)
    events = len(emulator.events())
    response = api.post(f"/v1/checkout/sessions/{session['id']}/expire")
    assert response.status == 200
    expired = response.body
    assert (expired["status"], expired["payment_status"], expired["url"]) == (
        "expired",
        "unpaid",
        None,
    )
    assert types_since(api, events) == ["checkout.session.expired"]
    assert api.events_since(events)[0]["data"]["object"] == expired
    assert api.events_since(events)[0]["request"]["id"] == response.headers["Request-Id"]

    again = api.post(f"/v1/checkout/sessions/{session['id']}/expire")
    assert again.status == 400
    assert again.error["message"] == (
        'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout'
        " Session has a status of `expired`."
    )
    refused = emulator.complete_checkout(session["id"])
    assert refused["error"]["message"] == "This Checkout Session is no longer open: it is expired."
    assert refused["session"] == expired
    assert types_since(api, events) == ["checkout.session.expired"]


def test_expire_action_after_a_declined_attempt_cancels_its_intent(api, emulator):
    session = create(api)
    declined = emulator.complete_checkout(session["id"], "4000000000000002")
    intent_id = declined["session"]["payment_intent"]
    events = len(emulator.events())
    result = emulator.expire_checkout(session["id"])
    assert result["error"] is None and result["session"]["status"] == "expired"
    assert types_since(api, events) == ["payment_intent.canceled", "checkout.session.expired"]
    intent = emulator.retrieve(intent_id)
    assert (intent["status"], intent["cancellation_reason"]) == ("canceled", "abandoned")


def test_a_completed_session_cannot_expire(api, emulator):
    session = create(api)
    emulator.complete_checkout(session["id"])
    assert "status of `complete`" in emulator.expire_checkout(session["id"])["error"]["message"]
    response = api.post(f"/v1/checkout/sessions/{session['id']}/expire")
    assert response.status == 400
    refused = emulator.complete_checkout(session["id"])
    assert refused["error"]["message"].endswith("it is complete.")


# -------------------------------------------------------------- lists


def test_list_filters(api, emulator):
    paid = create(api)
    subscribed = create(api, "subscription")
    expired = create(api)
    still_open = create(api, customer=False)
    paid = emulator.complete_checkout(paid["id"])["session"]
    subscribed = emulator.complete_checkout(subscribed["id"])["session"]
    emulator.expire_checkout(expired["id"])

    def ids(**params):
        response = api.get("/v1/checkout/sessions", params)
        assert response.status == 200, response.body
        assert response.body["url"] == "/v1/checkout/sessions"
        return [session["id"] for session in response.body["data"]]

    assert ids() == [still_open["id"], expired["id"], subscribed["id"], paid["id"]]
    assert ids(status="complete") == [subscribed["id"], paid["id"]]
    assert ids(status="open") == [still_open["id"]]
    assert ids(status="expired") == [expired["id"]]
    assert ids(payment_intent=paid["payment_intent"]) == [paid["id"]]
    assert ids(subscription=subscribed["subscription"]) == [subscribed["id"]]
    assert ids(customer=paid["customer"]) == [paid["id"]]
    assert ids(payment_intent="pi_nope") == []
    page = api.get("/v1/checkout/sessions", {"limit": 2}).body
    assert page["has_more"] is True and len(page["data"]) == 2
    rest = api.get(
        "/v1/checkout/sessions", {"limit": 2, "starting_after": page["data"][-1]["id"]}
    ).body
    assert [s["id"] for s in rest["data"]] == [subscribed["id"], paid["id"]]
    assert rest["has_more"] is False
    invalid = api.get("/v1/checkout/sessions", {"status": "paid"})
    assert invalid.status == 400 and invalid.error["param"] == "status"
