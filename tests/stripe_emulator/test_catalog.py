"""Products, prices and webhook endpoints, through handle_http."""

import pytest


def test_product_create_retrieve_update_list(api, emulator):
    created = api.post(
        "/v1/products", {"name": "Pro", "description": "All of it", "metadata": {"tier": "pro"}}
    )
    product = created.body
    assert created.status == 200 and product["id"].startswith("prod_")
    assert (product["name"], product["description"], product["active"]) == (
        "Pro",
        "All of it",
        True,
    )
    assert product["metadata"] == {"tier": "pro"} and product["updated"] == product["created"]
    assert api.get(f"/v1/products/{product['id']}").body == product

    updated = api.post(f"/v1/products/{product['id']}", {"name": "Pro+", "active": False}).body
    assert (updated["name"], updated["active"], updated["description"]) == (
        "Pro+",
        False,
        "All of it",
    )
    events = [stored.event for stored in emulator.events()]
    assert [event["type"] for event in events] == ["product.created", "product.updated"]
    assert events[-1]["data"]["previous_attributes"]["name"] == "Pro"
    assert events[-1]["data"]["previous_attributes"]["active"] is True

    other = api.post("/v1/products", {"name": "Basic"}).body
    listed = api.get("/v1/products").body
    assert listed["url"] == "/v1/products"
    assert [p["id"] for p in listed["data"]] == [other["id"], product["id"]]
    assert [p["id"] for p in api.get("/v1/products", {"active": True}).body["data"]] == [
        other["id"]
    ]
    assert [p["id"] for p in api.get("/v1/products", {"active": False}).body["data"]] == [
        product["id"]
    ]
    assert api.post("/v1/products", {}).error["code"] == "parameter_missing"
    assert api.get("/v1/products/prod_nope").error["message"] == "No such product: 'prod_nope'"


def test_price_create_retrieve_update_list(api, emulator):
    product = api.post("/v1/products", {"name": "Pro"}).body
    monthly = api.post(
        "/v1/prices",
        {
            "product": product["id"],
            "currency": "EUR",
            "unit_amount": 1500,
            "recurring": {"interval": "month", "interval_count": 3},
            "nickname": "Quarterly",
            "lookup_key": "pro_quarterly",
            "metadata": {"plan": "pro"},
        },
    ).body
    assert monthly["id"].startswith("price_") and monthly["type"] == "recurring"
    assert (monthly["currency"], monthly["unit_amount"], monthly["unit_amount_decimal"]) == (
        "eur",
        1500,
        "1500",
    )
    assert monthly["recurring"]["interval"] == "month"
    assert monthly["recurring"]["interval_count"] == 3
    assert (monthly["nickname"], monthly["lookup_key"]) == ("Quarterly", "pro_quarterly")
    assert api.get(f"/v1/prices/{monthly['id']}").body == monthly

    once = api.post(
        "/v1/prices", {"product": product["id"], "currency": "eur", "unit_amount": 900}
    ).body
    assert once["type"] == "one_time" and once["recurring"] is None

    updated = api.post(
        f"/v1/prices/{monthly['id']}", {"active": False, "nickname": "", "metadata": {"x": "1"}}
    ).body
    assert (updated["active"], updated["nickname"]) == (False, None)
    assert updated["metadata"] == {"plan": "pro", "x": "1"}
    assert api.event_types()[-3:] == ["price.created", "price.created", "price.updated"]
    assert emulator.events()[-1].event["data"]["previous_attributes"]["active"] is True

    def ids(**params):
        return [price["id"] for price in api.get("/v1/prices", params).body["data"]]

    assert ids() == [once["id"], monthly["id"]]
    assert ids(type="recurring") == [monthly["id"]]
    assert ids(active=True) == [once["id"]]
    assert ids(product=product["id"], active=False) == [monthly["id"]]
    assert ids(product="prod_other") == []


@pytest.mark.parametrize("field", ["unit_amount", "currency", "recurring[interval]"])
def test_a_price_is_immutable(api, field):
    price = api.recurring_price()
    response = api.post(f"/v1/prices/{price['id']}", f"{field}=1")
    assert response.status == 400
    assert (response.error["code"], response.error["param"]) == (
        "parameter_unknown",
        field.split("[")[0],
    )
    assert api.get(f"/v1/prices/{price['id']}").body == price


@pytest.mark.parametrize(
    ("params", "status", "code", "param"),
    [
        ({"product": None}, 400, "parameter_missing", "product"),
        ({"product": "prod_nope"}, 404, "resource_missing", "product"),
        ({"currency": None}, 400, "parameter_missing", "currency"),
        ({"unit_amount": None}, 400, "parameter_missing", "unit_amount"),
        ({"unit_amount": -1}, 400, "parameter_invalid_integer", "unit_amount"),
        ({"recurring": {"interval": "fortnight"}}, 400, None, "recurring[interval]"),
        ({"recurring": {"interval_count": 2}}, 400, "parameter_missing", "recurring[interval]"),
        (
            {"recurring": {"interval": "month", "aggregate_usage": "sum"}},
            400,
            "parameter_unknown",
            "recurring[aggregate_usage]",  # gone since API basil
        ),
    ],
)
def test_invalid_price_parameters(api, params, status, code, param):
    product = api.post("/v1/products", {"name": "Pro"}).body
    body = {"product": product["id"], "currency": "eur", "unit_amount": 100, **params}
    response = api.post("/v1/prices", {k: v for k, v in body.items() if v is not None})
    assert response.status == status
    assert (response.error.get("code"), response.error["param"]) == (code, param)


# ----------------------------------------------------- webhook endpoints


def test_webhook_endpoint_secret_only_on_create(api, emulator):
    created = api.post(
        "/v1/webhook_endpoints",
        {
            "url": "https://shop.example/api/payments/webhook/",
            "enabled_events": ["payment_intent.succeeded", "invoice.paid"],
            "api_version": "2026-10-28.endive",
            "description": "Shop",
            "metadata": {"env": "test"},
        },
    ).body
    assert created["id"].startswith("we_") and created["object"] == "webhook_endpoint"
    assert created["secret"] == emulator.webhook_secret  # the one every event is signed with
    assert created["enabled_events"] == ["payment_intent.succeeded", "invoice.paid"]
    assert (created["status"], created["api_version"], created["description"]) == (
        "enabled",
        "2026-10-28.endive",
        "Shop",
    )
    stored = api.get(f"/v1/webhook_endpoints/{created['id']}").body
    assert "secret" not in stored
    assert stored == {key: value for key, value in created.items() if key != "secret"}
    listed = api.get("/v1/webhook_endpoints").body
    assert listed["data"] == [stored] and listed["url"] == "/v1/webhook_endpoints"
    assert emulator.events() == []  # Stripe sends no events about endpoints


def test_webhook_endpoint_update_and_delete(api):
    endpoint = api.post(
        "/v1/webhook_endpoints", {"url": "https://a.example/hook", "enabled_events": ["*"]}
    ).body
    path = f"/v1/webhook_endpoints/{endpoint['id']}"
    updated = api.post(
        path,
        {
            "url": "https://b.example/hook",
            "enabled_events": ["charge.refunded"],
            "disabled": True,
            "description": "moved",
        },
    ).body
    assert (updated["url"], updated["enabled_events"], updated["status"]) == (
        "https://b.example/hook",
        ["charge.refunded"],
        "disabled",
    )
    assert "secret" not in updated and updated["description"] == "moved"
    assert api.post(path, {"disabled": False}).body["status"] == "enabled"
    assert api.post(path, {"secret": "whsec_x"}).error["code"] == "parameter_unknown"

    deleted = api.request("DELETE", path)
    assert deleted.status == 200
    assert deleted.body == {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}
    assert api.get(path).status == 404
    assert api.request("DELETE", path).status == 404
    assert api.get("/v1/webhook_endpoints").body["data"] == []


@pytest.mark.parametrize(
    ("params", "param"),
    [({"enabled_events": ["*"]}, "url"), ({"url": "https://a.example/hook"}, "enabled_events")],
)
def test_webhook_endpoint_requires_url_and_events(api, params, param):
    response = api.post("/v1/webhook_endpoints", params)
    assert response.status == 400 and response.error["param"] == param
