"""The emulator's objects carry the keys of Stripe's own examples."""

import json
from pathlib import Path
from typing import Any

import pytest

from stripe_emulator.objects import template

REPO = Path(__file__).resolve().parents[2]
SHARED_FIXTURES = REPO / ".." / "shared" / "stripe" / "fixtures3.json"
VENDORED = REPO / "stripe_emulator" / "fixtures.json"


def missing_keys(obj: Any, example: Any, path: str = "") -> list[str]:
    """Keys of ``example`` absent from ``obj``, recursively where both are objects."""
    if not (isinstance(obj, dict) and isinstance(example, dict)):
        return []
    missing = [f"{path}{key}" for key in example if key not in obj]
    for key in example.keys() & obj.keys() - {"metadata", "data"}:
        missing += missing_keys(obj[key], example[key], f"{path}{key}.")
    return missing


def test_vendored_fixtures_are_stripes():
    if not SHARED_FIXTURES.exists():
        pytest.skip(f"{SHARED_FIXTURES} is not in this checkout")
    shared = json.loads(SHARED_FIXTURES.read_text())["resources"]
    vendored = json.loads(VENDORED.read_text())["resources"]
    assert {name: shared[name] for name in vendored} == vendored
    assert {"balance", "balance_transaction", "charge", "refund"} <= vendored.keys()
    assert {
        *("product", "price", "subscription", "subscription_item", "invoice", "line_item"),
        *("invoice_payment", "webhook_endpoint", "deleted_webhook_endpoint"),
        "checkout.session",
    } <= vendored.keys()
    assert (REPO / "stripe_emulator" / "STRIPE_FIXTURES_LICENSE").exists()


def test_objects_have_every_key_of_stripes_examples(api, emulator):
    customer = api.post("/v1/customers", {"email": "a@example.com"}).body
    method = api.post(
        "/v1/payment_methods",
        {"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030}},
    ).body
    intent = api.payment_intent(customer=customer["id"], payment_method=method["id"], confirm=True)
    declined = api.payment_intent(payment_method="pm_card_chargeDeclined", confirm=False)
    failure = api.post(f"/v1/payment_intents/{declined['id']}/confirm").error
    refund = api.post("/v1/refunds", {"payment_intent": intent["id"], "amount": 100}).body
    failing = api.payment_intent(payment_method="pm_card_refundFail", confirm=True)
    api.post("/v1/refunds", {"payment_intent": failing["id"]})
    [failed] = emulator.advance_refunds()
    events = api.get("/v1/events", {"limit": 100}).body["data"]
    objects = {
        "customer": [customer],
        "payment_method": [method],
        "payment_intent": [intent, failure["payment_intent"]],
        "charge": [
            emulator.retrieve(intent["latest_charge"]),
            emulator.retrieve(failure["charge"]),
        ],
        "balance_transaction": [
            emulator.retrieve(emulator.retrieve(intent["latest_charge"])["balance_transaction"]),
            emulator.retrieve(refund["balance_transaction"]),
            emulator.retrieve(failed["failure_balance_transaction"]),
        ],
        "refund": [refund, failed],
        "balance": [api.get("/v1/balance").body],
        "event": events,
    }
    for resource, found in objects.items():
        for obj in found:
            assert obj["object"] == resource
            assert missing_keys(obj, template(resource)) == [], resource


def test_billing_objects_have_every_key_of_stripes_examples(api, emulator):
    sub = api.subscription(metadata={"user_id": "7"})
    emulator.pay(sub["latest_invoice"]["payments"]["data"][0]["payment"]["payment_intent"])
    renewed = emulator.advance_subscription(sub["id"])
    invoice = api.get(f"/v1/invoices/{renewed['invoice']['id']}", {"expand": ["payments"]}).body
    price = api.get(f"/v1/prices/{sub['items']['data'][0]['price']['id']}").body
    endpoint = api.post(
        "/v1/webhook_endpoints", {"url": "https://a.example/hook", "enabled_events": ["*"]}
    ).body
    deleted = api.request("DELETE", f"/v1/webhook_endpoints/{endpoint['id']}").body
    objects = {
        "product": [api.get(f"/v1/products/{price['product']}").body],
        "price": [price],
        "subscription": [sub, renewed["subscription"]],
        "subscription_item": [sub["items"]["data"][0], renewed["subscription"]["items"]["data"][0]],
        "invoice": [sub["latest_invoice"], invoice],
        "line_item": [
            line for i in (sub["latest_invoice"], invoice) for line in i["lines"]["data"]
        ],
        "invoice_payment": [
            *sub["latest_invoice"]["payments"]["data"],
            *invoice["payments"]["data"],
        ],
        "webhook_endpoint": [endpoint],
        "deleted_webhook_endpoint": [deleted],
    }
    for resource, found in objects.items():
        for obj in found:
            assert obj["object"] == resource.removeprefix("deleted_"), resource
            assert missing_keys(obj, template(resource)) == [], resource
    assert missing_keys(sub["items"]["data"][0]["price"], template("price")) == []


def test_checkout_sessions_have_every_key_of_stripes_example(api, emulator):
    """In every state and both modes, and in the events that carry them."""
    customer = api.post("/v1/customers", {"email": "a@example.com"}).body
    product = api.post("/v1/products", {"name": "Ticket"}).body
    one_time = api.post(
        "/v1/prices", {"product": product["id"], "currency": "eur", "unit_amount": 500}
    ).body
    sessions = []
    for mode, price in (("payment", one_time), ("subscription", api.recurring_price())):
        for _ in range(3):
            response = api.post(
                "/v1/checkout/sessions",
                {
                    "mode": mode,
                    "line_items": [{"price": price["id"], "quantity": 1}],
                    "customer": customer["id"],
                    "success_url": "https://a.example/ok",
                    "cancel_url": "https://a.example/back",
                },
            )
            assert response.status == 200, response.body
            sessions.append(response.body)
    paid, delayed, expired = sessions[:3]
    emulator.complete_checkout(paid["id"])
    emulator.complete_checkout(delayed["id"], delayed=True)
    emulator.settle_checkout(delayed["id"], succeed=False)
    emulator.expire_checkout(expired["id"])
    emulator.complete_checkout(sessions[3]["id"])
    emulator.complete_checkout(sessions[4]["id"], delayed=True)
    emulator.settle_checkout(sessions[4]["id"])
    listed = api.get("/v1/checkout/sessions", {"limit": 100}).body["data"]
    events = [
        stored.event["data"]["object"]
        for stored in emulator.events()
        if stored.event["type"].startswith("checkout.session.")
    ]
    assert {s["status"] for s in listed} == {"open", "complete", "expired"}
    assert len(events) == 7
    for obj in [*sessions, *listed, *events]:
        assert obj["object"] == "checkout.session"
        assert missing_keys(obj, template("checkout.session")) == [], obj["status"]


def test_example_only_values_are_replaced(api):
    intent = api.payment_intent()
    assert intent["id"].startswith("pi_") and len(intent["id"]) == 27
    assert intent["client_secret"].startswith(f"{intent['id']}_secret_")
    assert intent["livemode"] is False
    for field in (
        "last_payment_error",
        "next_action",
        "processing",
        "transfer_data",
        "canceled_at",
    ):
        assert intent[field] is None, field
