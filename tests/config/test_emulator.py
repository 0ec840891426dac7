"""The emulator's HTTP face in the dev server: there while the emulator is active, never otherwise."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

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


# ------------------------------------------------ the browser's side (issue 11.3)

STRIPE_CONFIG = "{ stripeConfig { publishableKey jsUrl emulated } }"
ORIGIN = "http://localhost:5173"


def _stripe_config(client, **extra) -> dict:
    response = client.get("/graphql/", {"query": STRIPE_CONFIG}, **extra)
    assert response.status_code == 200, response.content
    return response.json()["data"]["stripeConfig"]


def _three_d_secure_path(emulator) -> str:
    """The challenge page of a new intent asking for 3-D Secure, as its next_action names it."""
    body, status, _ = emulator.handle_http(
        "POST", "https://api.stripe.com/v1/payment_intents", {"Authorization": "Bearer sk_test_anything"},
        "amount=500&currency=eur&confirm=true&payment_method=pm_card_authenticationRequired"
        "&return_url=http%3A%2F%2Flocalhost%3A5173%2Fdone",
    )
    assert status == 200, body
    url = urlsplit(json.loads(body)["next_action"]["redirect_to_url"]["url"])
    return f"{url.path}?{url.query}"


def test_stripe_config_points_at_the_stand_in_on_the_requests_origin(active, client, db):
    assert _stripe_config(client) == {
        "publishableKey": "pk_test_emulator", "jsUrl": "http://testserver/_emulator/js/v3/", "emulated": True,
    }
    assert _stripe_config(client, HTTP_HOST="localhost")["jsUrl"] == "http://localhost/_emulator/js/v3/"


def test_the_stand_in_and_the_pages_are_served_and_may_be_framed(active, client, emulator, settings):
    script = client.get("/_emulator/js/v3/")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert b"window.Stripe = Stripe" in script.content
    path = _three_d_secure_path(emulator)
    assert path.startswith("/_emulator/3d_secure/pi_"), path  # STRIPE_EMULATOR_PUBLIC_URL's path
    page = client.get(path)
    assert page.status_code == 200 and b"Complete authentication" in page.content
    assert "X-Frame-Options" not in page  # the stand-in shows it in an iframe on the shop's page
    done = client.post(path, "outcome=complete", content_type="application/x-www-form-urlencoded")
    assert done.status_code == 303 and done["Location"].startswith("http://localhost:5173/done?")


def test_django_cors_headers_neither_blocks_nor_duplicates_the_emulators_cors(active, client, settings, emulator):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]  # a front end's origin, with credentials at /graphql/
    preflight = client.options("/_emulator/v1/payment_methods", HTTP_ORIGIN="http://elsewhere.test",
                               HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                               HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type")
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*" and "Access-Control-Allow-Credentials" not in preflight
    for origin in (ORIGIN, "http://elsewhere.test"):
        created = client.post("/_emulator/v1/payment_methods",
                              "key=pk_test_emulator&type=card&card[number]=4242424242424242&card[exp_month]=12"
                              "&card[exp_year]=2040&card[cvc]=123",
                              content_type="application/x-www-form-urlencoded", HTTP_ORIGIN=origin)
        assert created.status_code == 200, created.content
        assert [v for k, v in created.items() if k.lower() == "access-control-allow-origin"] == ["*"]
        assert "Access-Control-Allow-Credentials" not in created
    refused = client.post("/_emulator/v1/customers", "key=pk_test_emulator",
                          content_type="application/x-www-form-urlencoded", HTTP_ORIGIN=ORIGIN)
    assert refused.status_code == 401 and refused["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    "change",
    [{"STRIPE_SECRET_KEY": "sk_live_51Habcdefghijklmnop", "STRIPE_PUBLISHABLE_KEY": "pk_live_51Habcdefgh"},
     {"STRIPE_SECRET_KEY": "sk_test_51Habcdefgh", "STRIPE_PUBLISHABLE_KEY": "pk_test_51Habcdefgh"},
     {"DEBUG": False}],
    ids=["live-key", "test-key", "debug-off"],
)
def test_no_stand_in_no_pages_and_stripes_own_js_with_real_keys_or_debug_off(active, settings, client, emulator, change):
    path = _three_d_secure_path(emulator)  # made while active
    for name, value in change.items():
        setattr(settings, name, value)
    for url in ("/_emulator/js/v3/", "/_emulator/js/v3", path, "/_emulator/checkout/cs_test_x"):
        assert client.get(url).status_code == 404, url
    assert client.options("/_emulator/v1/payment_methods").status_code == 404
    config = _stripe_config(client)
    assert config["jsUrl"] == "https://js.stripe.com/v3/" and config["emulated"] is False
    assert config["publishableKey"] == settings.STRIPE_PUBLISHABLE_KEY
