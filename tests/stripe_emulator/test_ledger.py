"""Fees, balance transactions and the balance, through handle_http."""

import pytest

from stripe_emulator.objects import card_fee


def paid(api, amount=2000, currency="eur", method="pm_card_visa"):
    intent = api.payment_intent(
        amount=amount, currency=currency, payment_method=method, confirm=True
    )
    assert intent["status"] == "succeeded"
    return intent


def charge_of(api, intent, **params):
    response = api.get(f"/v1/charges/{intent['latest_charge']}", params)
    assert response.status == 200, response.body
    return response.body


@pytest.mark.parametrize(
    ("amount", "currency", "fee"),
    [
        (2999, "eur", 117),  # 86.971 + 30
        (1099, "usd", 62),  # 31.871 + 30
        (1000, "eur", 59),  # 29.0 + 30
        (50, "usd", 31),  # 1.45 + 30
        (1500, "jpy", 74),  # zero-decimal: 43.5 yen, half up, + 30 yen
    ],
)
def test_a_charge_gets_a_balance_transaction_with_the_card_fee(api, amount, currency, fee):
    assert card_fee(amount) == fee
    intent = paid(api, amount, currency)
    charge = charge_of(api, intent)
    txn = api.get(f"/v1/balance_transactions/{charge['balance_transaction']}").body
    assert (txn["type"], txn["reporting_category"], txn["source"]) == (
        "charge",
        "charge",
        charge["id"],
    )
    assert (txn["amount"], txn["fee"], txn["net"], txn["currency"]) == (
        amount,
        fee,
        amount - fee,
        currency,
    )
    assert txn["fee_details"] == [
        {
            "amount": fee,
            "application": None,
            "currency": currency,
            "description": "Stripe processing fees",
            "type": "stripe_fee",
        }
    ]
    assert txn["status"] == "available" and txn["available_on"] == txn["created"]
    assert (charge["amount_refunded"], charge["refunded"]) == (0, False)


def test_charge_retrieve_expands_its_balance_transaction(api):
    intent = paid(api, 2999)
    charge = charge_of(api, intent, expand=["balance_transaction"])
    assert charge["balance_transaction"]["net"] == 2882
    assert api.get("/v1/charges/ch_nope").error["code"] == "resource_missing"
    assert api.get("/v1/balance_transactions/txn_nope").status == 404


def test_expand_latest_charge_balance_transaction_on_a_payment_intent(api):
    intent = paid(api, 1099, "usd")
    expanded = api.get(
        f"/v1/payment_intents/{intent['id']}", {"expand": ["latest_charge.balance_transaction"]}
    ).body
    txn = expanded["latest_charge"]["balance_transaction"]
    assert (txn["object"], txn["fee"], txn["net"]) == ("balance_transaction", 62, 1037)
    assert expanded["latest_charge"]["id"] == intent["latest_charge"]


def test_a_declined_charge_moves_no_money(api):
    response = api.post(
        "/v1/payment_intents",
        {"amount": 500, "currency": "eur", "payment_method": "pm_card_chargeDeclined"},
    )
    api.post(f"/v1/payment_intents/{response.body['id']}/confirm")
    assert api.get("/v1/balance_transactions").body["data"] == []
    assert api.get("/v1/balance").body["available"] == []


def test_list_balance_transactions_with_filters_and_pages(api):
    first = charge_of(api, paid(api, 1000))
    second = charge_of(api, paid(api, 2000))
    refund = api.post("/v1/refunds", {"charge": second["id"], "amount": 500}).body

    listed = api.get("/v1/balance_transactions").body
    assert (listed["object"], listed["url"], listed["has_more"]) == (
        "list",
        "/v1/balance_transactions",
        False,
    )
    assert [t["source"] for t in listed["data"]] == [refund["id"], second["id"], first["id"]]

    refunds = api.get("/v1/balance_transactions", {"type": "refund"}).body["data"]
    assert [(t["id"], t["amount"]) for t in refunds] == [(refund["balance_transaction"], -500)]
    by_source = api.get("/v1/balance_transactions", {"source": first["id"]}).body["data"]
    assert [t["id"] for t in by_source] == [first["balance_transaction"]]

    page = api.get("/v1/balance_transactions", {"limit": 2}).body
    assert page["has_more"] is True and page["data"] == listed["data"][:2]
    rest = api.get(
        "/v1/balance_transactions", {"limit": 2, "starting_after": page["data"][-1]["id"]}
    ).body
    assert rest["data"] == listed["data"][2:] and rest["has_more"] is False
    missing = api.get("/v1/balance_transactions", {"starting_after": "txn_nope"})
    assert (missing.status, missing.error["param"]) == (404, "starting_after")
    assert api.get("/v1/balance_transactions", {"limit": 101}).status == 400
    unknown = api.get("/v1/balance_transactions", {"customer": "cus_x"}).error
    assert (unknown["code"], unknown["param"]) == ("parameter_unknown", "customer")


def test_balance_is_the_sum_of_nets_after_a_mixed_run(api, emulator):
    normal = paid(api, 2999)  # net 2882
    paid(api, 1099, "usd")  # net 1037
    failing = paid(api, 5000, method="pm_card_refundFail")  # fee 175, net 4825
    pending = paid(api, 1000, method="pm_card_pendingRefund")  # fee 59, net 941
    api.post("/v1/refunds", {"payment_intent": normal["id"], "amount": 999})
    api.post("/v1/refunds", {"payment_intent": failing["id"]})
    api.post("/v1/refunds", {"payment_intent": pending["id"], "amount": 400})
    emulator.advance_refunds()  # failing's refund fails; pending's succeeds

    nets: dict[str, int] = {}
    for txn in api.get("/v1/balance_transactions", {"limit": 100}).body["data"]:
        nets[txn["currency"]] = nets.get(txn["currency"], 0) + txn["net"]
    eur = 2882 - 999 + 4825 - 5000 + 5000 + 941 - 400
    assert nets == {"eur": eur, "usd": 1037}

    balance = api.get("/v1/balance").body
    assert balance["object"] == "balance" and balance["livemode"] is False
    assert balance["available"] == [
        {"amount": eur, "currency": "eur", "source_types": {"card": eur}},
        {"amount": 1037, "currency": "usd", "source_types": {"card": 1037}},
    ]
    assert balance["pending"] == [
        {"amount": 0, "currency": "eur", "source_types": {"card": 0}},
        {"amount": 0, "currency": "usd", "source_types": {"card": 0}},
    ]
