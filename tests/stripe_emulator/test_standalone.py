"""The emulator as its own process: `python -m stripe_emulator` on a loopback
port, the product's gateway pointed at it by STRIPE_API_BASE (the real stripe
library over real HTTP), its webhooks delivered signed to a real Daphne."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from payments import gateway
from payments.models import WebhookEvent
from tests.live_server import ROOT, _free_port


@pytest.fixture
def standalone(settings, tmp_path):
    """start(webhook_url) -> the base URL of a fresh emulator process."""
    procs = []

    def start(webhook_url: str) -> str:
        port = _free_port()
        log = (tmp_path / "emulator.log").open("w")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "stripe_emulator", "--port", str(port), "--db", str(tmp_path / "own.sqlite3"),
             "--webhook-url", webhook_url, "--webhook-secret", settings.DEVELOPMENT_WEBHOOK_SECRET,
             "--delivery-delay", "0.1"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        ))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return f"http://127.0.0.1:{port}"
            except OSError:
                assert procs[-1].poll() is None, (tmp_path / "emulator.log").read_text()
                time.sleep(0.05)
        raise AssertionError("the emulator did not start")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_gateway_reaches_the_emulator_by_its_base_url_and_daphne_gets_its_webhook(
    standalone, start_server, settings
):
    server = start_server()
    settings.STRIPE_API_BASE = standalone(f"{server.base}/api/payments/webhook/")
    settings.STRIPE_HTTP_CLIENT = ""  # the stripe library's own HTTP client, over the network
    gateway.reset_client()

    customer = gateway.create_customer(email="a@example.com", name="A", metadata={}, idempotency_key="c1")
    intent = gateway.create_payment_intent(
        amount=999, currency="eur", customer_id=customer.id, metadata={}, description="standalone", idempotency_key="s1"
    )
    assert intent.id.startswith("pi_") and intent.status == "requires_payment_method"
    assert gateway.retrieve_payment_intent(intent.id) == intent

    deadline = time.monotonic() + 20  # delivered soon after the call, by no command
    while not WebhookEvent.objects.filter(type="payment_intent.created").exists():
        assert time.monotonic() < deadline, "no webhook reached the server"
        time.sleep(0.1)
    stored = WebhookEvent.objects.get(type="payment_intent.created")
    assert stored.payload["data"]["object"]["id"] == intent.id  # Daphne verified its signature to store it
    (event,) = gateway.list_events(created_gte=0, types=frozenset({"payment_intent.created"}))
    assert event.id == stored.stripe_event_id


def test_on_its_own_it_serves_the_stand_in_and_names_its_own_address_in_its_pages_urls(standalone):
    import json
    import urllib.request

    base = standalone("http://127.0.0.1:9/")
    with urllib.request.urlopen(f"{base}/js/v3/") as response:
        assert response.status == 200 and b"window.Stripe = Stripe" in response.read()
    request = urllib.request.Request(
        f"{base}/v1/payment_intents", method="POST", headers={"Authorization": "Bearer sk_test_x"},
        data=b"amount=500&currency=eur&confirm=true&payment_method=pm_card_authenticationRequired",
    )
    with urllib.request.urlopen(request) as response:
        intent = json.loads(response.read())
    assert intent["next_action"]["use_stripe_sdk"]["stripe_js"].startswith(f"{base}/3d_secure/{intent['id']}?")
