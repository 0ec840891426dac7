"""The emulator's HTTP face in the dev server: there while the emulator is active, never otherwise."""

from __future__ import annotations

import pytest

AUTH = {"HTTP_AUTHORIZATION": "Bearer sk_test_anything"}


@pytest.fixture
def active(settings):
    settings.DEBUG = True
    settings.STRIPE_API_BASE = ""


def test_the_dev_server_serves_the_emulator_api(active, client, emulator):
    response = client.post("/_emulator/v1/customers", data="email=a%40example.com",
                           content_type="application/x-www-form-urlencoded", **AUTH)
    assert response.status_code == 200, response.content
    customer = response.json()
    assert customer["object"] == "customer" and customer["email"] == "a@example.com"
    assert emulator.retrieve(customer["id"])["email"] == "a@example.com"  # the gateway's emulator
    assert client.get(f"/_emulator/v1/customers/{customer['id']}", **AUTH).json()["id"] == customer["id"]


@pytest.mark.parametrize(
    "change",
    [{"STRIPE_SECRET_KEY": "sk_live_51Habcdefghijklmnop"}, {"STRIPE_SECRET_KEY": "sk_test_51Habcdefgh"},
     {"DEBUG": False}, {"STRIPE_API_BASE": "http://127.0.0.1:12111"}],
    ids=["live-key", "test-key", "debug-off", "other-stripe"],
)
def test_not_there_with_a_real_key_another_stripe_or_debug_off(active, settings, client, change):
    for name, value in change.items():
        setattr(settings, name, value)
    assert client.get("/_emulator/v1/balance", **AUTH).status_code == 404
