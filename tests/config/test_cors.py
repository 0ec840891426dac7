"""A front end on another origin (config/settings.py, django-cors-headers): one
variable, CORS_ALLOWED_ORIGINS, lets it preflight and POST /graphql/ with
credentials, makes it trusted for CSRF and for WebSocket handshakes; an origin
not listed gets none of it. PORT moves the defaults that name the port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application

ROOT = Path(__file__).resolve().parents[2]
FRONT_END = "http://localhost:5173"


def _settings_with(**env: str) -> dict:
    """The project's settings as a fresh process reads them from ``env``."""
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({k: getattr(settings, k) for k in ('CORS_ALLOWED_ORIGINS', 'CSRF_TRUSTED_ORIGINS', "
        "'STRIPE_EMULATOR_WEBHOOK_URL', 'PAYMENTS_REDIRECT_ORIGINS', 'SESSION_COOKIE_SAMESITE', 'CSRF_COOKIE_SAMESITE')}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"PORT", "CORS_ALLOWED_ORIGINS", "CSRF_TRUSTED_ORIGINS"}}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout)


def test_one_variable_configures_a_front_end():
    read = _settings_with(CORS_ALLOWED_ORIGINS=f"{FRONT_END},https://app.example.com")
    assert read["CORS_ALLOWED_ORIGINS"] == [FRONT_END, "https://app.example.com"]
    assert set(read["CORS_ALLOWED_ORIGINS"]) <= set(read["CSRF_TRUSTED_ORIGINS"])
    assert set(read["CORS_ALLOWED_ORIGINS"]) <= set(read["PAYMENTS_REDIRECT_ORIGINS"])
    assert _settings_with()["CORS_ALLOWED_ORIGINS"] == []  # empty by default


def test_the_port_moves_the_defaults_that_name_it():
    read = _settings_with(PORT="8100")
    assert read["STRIPE_EMULATOR_WEBHOOK_URL"] == "http://127.0.0.1:8100/api/payments/webhook/"
    assert {"http://127.0.0.1:8100", "http://localhost:8100"} <= set(read["PAYMENTS_REDIRECT_ORIGINS"])
    assert not any(":8000" in o for o in read["PAYMENTS_REDIRECT_ORIGINS"])
    explicit = _settings_with(PORT="8100", STRIPE_EMULATOR_WEBHOOK_URL="http://hooks.internal/x")
    assert explicit["STRIPE_EMULATOR_WEBHOOK_URL"] == "http://hooks.internal/x"


def test_samesite_is_configurable_and_checked():
    assert _settings_with(SESSION_COOKIE_SAMESITE="None", CSRF_COOKIE_SAMESITE="Strict")["SESSION_COOKIE_SAMESITE"] == "None"
    with pytest.raises(subprocess.CalledProcessError):
        _settings_with(SESSION_COOKIE_SAMESITE="lax-ish")


@pytest.fixture
def front_end(settings):
    settings.CORS_ALLOWED_ORIGINS = [FRONT_END]
    settings.CSRF_TRUSTED_ORIGINS = [FRONT_END]


def _preflight(origin: str):
    return Client().options(
        "/graphql/", HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type,x-csrftoken",
    )


def test_a_listed_origin_preflights_a_json_post_with_credentials(front_end):
    response = _preflight(FRONT_END)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == FRONT_END
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert {"content-type", "x-csrftoken"} <= {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}


def test_an_unlisted_origin_gets_no_cors_headers(db, front_end):
    response = _preflight("http://evil.example")
    assert "Access-Control-Allow-Origin" not in response
    post = Client().post("/graphql/", data='{"query": "{ tiers { id } }"}', content_type="application/json",
                         HTTP_ORIGIN="http://evil.example")
    assert "Access-Control-Allow-Origin" not in post


def _logged_in_post(user, origin: str):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    browser.get("/graphql/?query=%7B__typename%7D")
    token = browser.cookies["csrftoken"].value
    return browser.post(
        "/graphql/", data=json.dumps({"query": 'mutation { createEvent(input: {title: "From the SPA"}) { __typename } }'}),
        content_type="application/json", HTTP_ORIGIN=origin, HTTP_X_CSRFTOKEN=token, HTTP_HOST="localhost:8000",
    )


def test_a_listed_origin_mutates_with_the_session_and_token(front_end, user):
    response = _logged_in_post(user, FRONT_END)
    assert response.status_code == 200, response.content
    assert response.json()["data"]["createEvent"]["__typename"] == "CreateEventPayload"
    assert response["Access-Control-Allow-Origin"] == FRONT_END
    assert response["Access-Control-Allow-Credentials"] == "true"


def test_an_unlisted_origin_cannot_mutate_even_with_the_token(front_end, user):
    from events.models import Event

    response = _logged_in_post(user, "http://evil.example")
    assert response.status_code == 403
    assert not Event.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_websocket_without_origin_authenticates_like_any_other(user):
    """Node, SSR or a script sends no Origin: accepted, and the session cookie is its viewer."""
    browser = Client()
    browser.force_login(user)
    cookie = f"sessionid={browser.cookies['sessionid'].value}".encode()

    async def scenario():
        ws = WebsocketCommunicator(application, "/graphql/", headers=[(b"host", b"localhost"), (b"cookie", cookie)],
                                   subprotocols=["graphql-transport-ws"])
        accepted, _ = await ws.connect()
        assert accepted
        await ws.send_json_to({"type": "connection_init", "payload": {}})
        assert (await ws.receive_json_from(timeout=5))["type"] == "connection_ack"
        await ws.send_json_to({"id": "me", "type": "subscribe", "payload": {"query": "{ me { username } }"}})
        assert (await ws.receive_json_from(timeout=5))["payload"]["data"] == {"me": {"username": user.username}}
        await ws.disconnect()

    async_to_sync(scenario)()
