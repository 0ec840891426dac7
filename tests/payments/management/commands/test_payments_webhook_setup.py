"""payments_webhook_setup: the endpoint with exactly the types we handle and our pinned version."""

from __future__ import annotations

import pytest

from payments import gateway
from payments.conf import get_config
from payments.webhooks import processing
from tests.payments.conftest import run

URL = "https://payments.example.com/api/payments/webhook/"


def _list(emulator) -> list[dict]:
    import json

    body, status, _ = emulator.handle_http(
        "GET", "https://api.stripe.com/v1/webhook_endpoints?limit=100", {"Authorization": "Bearer sk_test_emulator"}, None
    )
    assert status == 200, body
    return json.loads(body)["data"]


def test_creates_then_updates_and_prints_the_secret_once(settings, emulator):
    ran = run("payments_webhook_setup", "--url", URL)
    (endpoint,) = _list(emulator)
    assert endpoint["url"] == URL
    assert endpoint["enabled_events"] == sorted(processing.HANDLERS)
    assert endpoint["api_version"] == get_config().api_version == settings.STRIPE_API_VERSION
    assert f"{URL}: created ({endpoint['id']})" in ran.out
    secret = settings.STRIPE_WEBHOOK_SECRET  # the emulator signs with the configured secret
    assert f"signing secret: {secret}" in ran.out and "STRIPE_WEBHOOK_SECRET" in ran.out
    assert "secret" not in endpoint  # Stripe shows it in the creation's answer only

    again = run("payments_webhook_setup", "--url", URL)
    assert f"{URL}: unchanged ({endpoint['id']})" in again.out
    assert secret not in again.out and "signing secret is unchanged" in again.out
    assert len(_list(emulator)) == 1

    # Someone trimmed the types in the Dashboard; we now handle more than it sends.
    kept = ["payment_intent.succeeded", "customer.created"]
    gateway.update_webhook_endpoint(endpoint["id"], enabled_events=kept, description="", idempotency_key="trim")
    ran = run("payments_webhook_setup", "--url", URL)
    assert f"{URL}: updated ({endpoint['id']})" in ran.out
    added = next(line for line in ran.out.splitlines() if line.startswith("  added: "))
    assert "charge.refunded" in added and "payment_intent.succeeded" not in added
    assert "  removed: customer.created\n" in ran.out
    assert secret not in ran.out and "signing secret is unchanged" in ran.out
    (endpoint,) = _list(emulator)
    assert endpoint["enabled_events"] == sorted(processing.HANDLERS)


def test_dry_run_changes_nothing(emulator):
    ran = run("payments_webhook_setup", "--url", URL, "--dry-run")
    assert "would create" in ran.out and "signing secret" not in ran.out
    assert _list(emulator) == []
    run("payments_webhook_setup", "--url", URL)
    (endpoint,) = _list(emulator)
    gateway.update_webhook_endpoint(endpoint["id"], enabled_events=["charge.refunded"], description="", idempotency_key="t")
    assert "would update" in run("payments_webhook_setup", "--url", URL, "--dry-run").out
    assert _list(emulator)[0]["enabled_events"] == ["charge.refunded"]


@pytest.mark.parametrize("url", ["http://example.com/api/payments/webhook/", "ftp://example.com/", "example.com/hook"])
def test_refuses_urls_stripe_should_not_post_to(url, emulator):
    ran = run("payments_webhook_setup", "--url", url, fails=True)
    assert "https" in str(ran.error) or "absolute" in str(ran.error)
    assert _list(emulator) == []


@pytest.mark.parametrize("url", ["http://localhost:8000/api/payments/webhook/", "http://127.0.0.1:8000/api/payments/webhook/"])
def test_http_is_fine_on_this_machine(url, emulator):
    run("payments_webhook_setup", "--url", url)
    assert [e["url"] for e in _list(emulator)] == [url]


def test_an_endpoint_on_another_api_version_is_reported(emulator):
    old = gateway.create_webhook_endpoint(
        url=URL, enabled_events=["charge.refunded"], api_version="2024-06-20", description="", idempotency_key="old"
    )
    ran = run("payments_webhook_setup", "--url", URL, fails=True)
    assert "API version 2024-06-20" in str(ran.error) and "Delete it" in str(ran.error)
    assert f"updated ({old.id})" in ran.out  # the types are right all the same
    assert old.secret not in ran.out


def test_other_endpoints_for_the_url_are_warned_about(emulator):
    for key in ("a", "b"):
        gateway.create_webhook_endpoint(
            url=URL, enabled_events=sorted(processing.HANDLERS), api_version=get_config().api_version,
            description="", idempotency_key=key,
        )
    ran = run("payments_webhook_setup", "--url", URL)
    assert "other endpoints for the same URL" in ran.err
