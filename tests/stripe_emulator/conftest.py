"""Fixtures for the Stripe emulator's tests: a fresh emulator per test and a
client that speaks to it the way the stripe library does (form-encoded)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest

from stripe_emulator import Emulator

WEBHOOK_SECRET = "whsec_test_secret"


def encode(params: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's form encoding: nested dicts as a[b], lists as a[0]."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else key
        if isinstance(value, dict):
            pairs += encode(value, name)
        elif isinstance(value, list):
            pairs += encode(dict(enumerate(value)), name)
        elif isinstance(value, bool):
            pairs.append((name, str(value).lower()))
        else:
            pairs.append((name, str(value)))
    return pairs


@dataclass
class Response:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def error(self) -> dict[str, Any]:
        return self.body["error"]


class Api:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Response:
        data = params if isinstance(params, str) else urlencode(encode(params or {}))
        url = f"https://api.stripe.com{path}"
        if method == "GET" and data:
            url, data = f"{url}?{data}", None
        headers = {"Authorization": "Bearer sk_test_emulator"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        body, status, response_headers = self.emulator.handle_http(method, url, headers, data)
        return Response(status, json.loads(body), response_headers)

    def post(
        self, path: str, params: dict[str, Any] | str | None = None, **kwargs: Any
    ) -> Response:
        return self.request("POST", path, params, **kwargs)

    def get(self, path: str, params: dict[str, Any] | None = None) -> Response:
        return self.request("GET", path, params)

    def event_types(self) -> list[str]:
        return [stored.event["type"] for stored in self.emulator.events()]

    def payment_intent(self, **params: Any) -> dict[str, Any]:
        response = self.post("/v1/payment_intents", {"amount": 2000, "currency": "eur", **params})
        assert response.status == 200, response.body
        return response.body

    def recurring_price(self, unit_amount: int = 2000, **recurring: Any) -> dict[str, Any]:
        product = self.post("/v1/products", {"name": "Pro"}).body
        response = self.post(
            "/v1/prices",
            {
                "product": product["id"],
                "currency": "eur",
                "unit_amount": unit_amount,
                "recurring": {"interval": "month", **recurring},
            },
        )
        assert response.status == 200, response.body
        return response.body

    def subscription(self, price: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
        """As the project creates one: default_incomplete, saving the payment method, the
        latest invoice expanded with its confirmation secret and payments."""
        customer = self.post("/v1/customers", {"email": "subscriber@example.com"}).body
        response = self.post(
            "/v1/subscriptions",
            {
                "customer": customer["id"],
                "items": [{"price": (price or self.recurring_price())["id"]}],
                "payment_behavior": "default_incomplete",
                "payment_settings": {"save_default_payment_method": "on_subscription"},
                "expand": ["latest_invoice.confirmation_secret", "latest_invoice.payments"],
                **params,
            },
        )
        assert response.status == 200, response.body
        return response.body

    def events_since(self, count: int) -> list[dict[str, Any]]:
        """The events after the first ``count``, oldest first."""
        return [stored.event for stored in self.emulator.events()][count:]


@pytest.fixture
def db_path(tmp_path) -> str:
    return str(tmp_path / "stripe" / "emulator.sqlite3")


@pytest.fixture
def emulator(db_path: str) -> Emulator:
    return Emulator(
        db_path=db_path, webhook_secret=WEBHOOK_SECRET, webhook_url="http://127.0.0.1:9/"
    )


@pytest.fixture
def api(emulator: Emulator) -> Api:
    return Api(emulator)
