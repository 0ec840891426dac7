"""GET /healthz: 200 when the database and the channel layer answer, 503 naming the part that does not."""

from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import Client

from payments import health


@pytest.fixture
def client(db):
    return Client()


def test_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_no_authentication_needed_and_not_cached(client):
    response = client.head("/healthz")
    assert response.status_code == 200
    assert "max-age=0" in response["Cache-Control"]


def test_database_down_is_503(client):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("could not connect to server at 10.0.0.5")

    with mock.patch.object(connection, "cursor", broken_cursor):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body == {
        "status": "error",
        "database": "error",
        "channel_layer": "ok",
        "errors": {"database": "OperationalError"},
    }
    assert "10.0.0.5" not in response.content.decode()  # details go to the log only


class BrokenLayer:
    async def new_channel(self, prefix="specific."):
        return f"{prefix}broken!1"

    async def send(self, channel, message):
        raise ConnectionError("Redis is gone")

    async def receive(self, channel):
        raise AssertionError("never reached")


def test_channel_layer_down_is_503(client, monkeypatch):
    monkeypatch.setattr(health, "get_channel_layer", lambda: BrokenLayer())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "ok",
        "channel_layer": "error",
        "errors": {"channel_layer": "ConnectionError"},
    }
    assert "Traceback" not in response.content.decode()


def test_channel_layer_that_never_answers_times_out(client, monkeypatch):
    class SilentLayer(BrokenLayer):
        async def send(self, channel, message):
            pass

        async def receive(self, channel):
            import asyncio

            await asyncio.sleep(60)

    monkeypatch.setattr(health, "CHANNEL_LAYER_TIMEOUT", 0.05)
    monkeypatch.setattr(health, "get_channel_layer", lambda: SilentLayer())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["errors"] == {"channel_layer": "timeout"}
