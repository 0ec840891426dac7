"""The reference React client (client/, built by make test) in Chromium, served
at / by a real Daphne process: login, the tiers, an event, billing history and
isPremium, a client route loaded directly, logout. Each test checks what the
user sees and what our database holds, and that no request of the page left the
server's origin (no CDN, no js.stripe.com)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from events.models import Event
from payments.models import Invoice, Payment, Subscription
from tests.conftest import make_event
from tests.live_server import post_webhook
from tests.payments.webhooks.test_views import intent

CLIENT = Path(__file__).resolve().parents[2] / "client"

pytestmark = pytest.mark.usefixtures("built_client")


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="pw-owner")


def log_in(page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def only_our_origin(page, server) -> None:
    strangers = [url for url in page.requested if not re.match(rf"^(http|ws)://127\.0\.0\.1:{server.port}/", url)]
    assert strangers == [], strangers


def test_logs_in_lists_the_tiers_and_creates_an_event(start_server, page, owner, catalog):
    server = start_server()
    page.goto(server.base + "/")
    page.get_by_text("Log in to pay").wait_for()
    log_in(page, "owner", "pw-owner")
    assert page.get_by_test_id("username").inner_text() == "owner"
    assert page.get_by_test_id("premium").inner_text() == "Not premium"

    tiers = page.get_by_role("region", name="Tiers")
    tiers.get_by_text("Automated").wait_for()
    assert tiers.get_by_role("button", name="Pay €9.99 for Automated").is_disabled()  # no event to pay for yet
    assert tiers.get_by_role("button", name="Pay $10.99 for Automated").count() == 1
    assert tiers.get_by_role("button", name="Subscribe €19.99 / month to Full Escalation").count() == 1
    assert tiers.get_by_role("button", name=re.compile("Pay .*€19.99")).count() == 0  # a recurring price is not paid once

    # A mutation after login: the client asked for the token Django rotated at login.
    page.get_by_label("Title").fill("Dentist")
    page.get_by_role("button", name="Create event").click()
    event_line = page.get_by_test_id("events").get_by_text("Dentist: not active")
    event_line.wait_for()
    event = Event.objects.get(user=owner)
    assert (event.title, event.is_active) == ("Dentist", False)
    assert page.get_by_label("Pay for event").input_value() == str(event.pk)
    assert tiers.get_by_role("button", name="Pay €9.99 for Automated").is_enabled()
    only_our_origin(page, server)


def test_a_wrong_password_is_shown_and_signs_nobody_in(start_server, page, owner, catalog):
    server = start_server()
    page.goto(server.base + "/")
    log_in(page, "owner", "wrong")
    assert page.get_by_role("alert").inner_text() != ""
    assert page.get_by_role("button", name="Log in").is_visible()
    assert page.get_by_test_id("username").count() == 0
    assert not any(c["name"] == "sessionid" for c in page.context.cookies())


def test_billing_history_and_premium(start_server, page, owner, catalog):
    now = timezone.now()
    subscription = Subscription.objects.create(
        user=owner, price=catalog["full_monthly"], tier=catalog["full"], status="active",
        stripe_subscription_id="sub_browser_1", current_period_start=now, current_period_end=now + timedelta(days=30),
    )
    Invoice.objects.create(
        user=owner, subscription=subscription, stripe_invoice_id="in_browser_1", number="INV-0001",
        status="paid", amount_due=1999, amount_paid=1999, currency="eur", created_at=now,
    )
    server = start_server()
    page.goto(server.base + "/")
    log_in(page, "owner", "pw-owner")
    assert page.get_by_test_id("premium").inner_text() == "Premium (Full Escalation)"
    billing = page.get_by_role("region", name="Billing")
    assert billing.get_by_test_id(f"subscription-{subscription.pk}").inner_text().startswith("Full Escalation, €19.99 / month: ACTIVE")
    row = billing.get_by_test_id("invoices").locator("tbody tr")
    assert row.count() == 1
    assert row.locator("td").all_inner_texts()[0::2] == ["INV-0001", "€19.99", "PAID"]
    assert row.locator("td").all_inner_texts()[3] == "€19.99"
    only_our_origin(page, server)


def test_a_client_route_loads_directly_and_logout_forgets_the_viewer(start_server, page, owner, django_user_model, catalog):
    Event.objects.create(user=owner, title="Owner's event")
    django_user_model.objects.create_user("other", password="pw-other")
    server = start_server()
    page.goto(server.base + "/checkout/cancel")  # a route of the client: index.html, then the app decides
    log_in(page, "owner", "pw-owner")
    assert page.get_by_role("status").inner_text() == "Checkout canceled: nothing was paid."
    page.get_by_test_id("events").get_by_text("Owner's event").wait_for()

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Log in").wait_for()
    assert page.get_by_test_id("events").count() == 0
    log_in(page, "other", "pw-other")  # a new session, a new CSRF token: its mutations work
    assert page.get_by_test_id("username").inner_text() == "other"
    page.get_by_label("Title").fill("Other's event")
    page.get_by_role("button", name="Create event").click()
    page.get_by_test_id("events").get_by_text("Other's event: not active").wait_for()
    assert page.get_by_test_id("events").get_by_text("Owner's event").count() == 0
    assert Event.objects.filter(user__username="other", title="Other's event").exists()
    only_our_origin(page, server)


@pytest.fixture
def vite_dev_server(tmp_path):
    """start(api_origin) -> the origin of `vite` (npm run dev) proxying to that API."""
    vite = CLIENT / "node_modules" / ".bin" / "vite"
    if not vite.exists():
        pytest.skip("the client's npm packages are not installed: `make test` (or `cd client && npm ci`)")
    processes = []

    def start(api_origin: str) -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        log = (tmp_path / "vite.log").open("w")
        processes.append(subprocess.Popen(
            [str(vite), "--host", "127.0.0.1", "--port", str(port), "--strictPort"],
            cwd=CLIENT, env={**os.environ, "API_ORIGIN": api_origin}, stdout=log, stderr=subprocess.STDOUT,
        ))
        origin = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(origin + "/", timeout=1).read()
                return origin
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("vite did not start: " + (tmp_path / "vite.log").read_text())

    yield start
    for process in processes:
        process.terminate()
        process.wait(10)


def test_the_dev_server_proxies_http_and_the_websocket_to_the_api(start_server, vite_dev_server, page, owner, catalog):
    """npm run dev: the page on Vite's origin, /graphql/ (HTTP and WebSocket) through its
    proxy, one origin for the browser, no CORS_ALLOWED_ORIGINS needed."""
    event = Event.objects.create(user=owner, title="Dentist")
    price = catalog["basic_eur"]
    payment = Payment.objects.create(
        user=owner, price=price, tier=price.tier, amount=price.unit_amount, currency=price.currency,
        payable_type="event", payable_id=str(event.pk), stripe_payment_intent_id="pi_dev_proxy_1",
    )
    server = start_server()
    dev = vite_dev_server(server.base)
    page.set_default_timeout(60_000)  # Vite transforms the modules at the first load
    page.goto(dev + "/")
    log_in(page, "owner", "pw-owner")
    page.get_by_role("region", name="Tiers").get_by_text("Automated").wait_for()
    page.get_by_label("Title").fill("Through the proxy")
    page.get_by_role("button", name="Create event").click()  # a POST with the CSRF token, through the proxy
    page.get_by_test_id("events").get_by_text("Through the proxy: not active").wait_for()
    assert Event.objects.filter(user=owner, title="Through the proxy").exists()

    # The live status over the proxied WebSocket: the payment panel of an existing payment.
    page.evaluate("() => { window.history.pushState({}, '', '/checkout/success'); }")
    page.evaluate(f"() => sessionStorage.setItem('checkoutPaymentId', '{payment.pk}')")
    page.reload()
    status = page.get_by_role("region", name="Checkout").get_by_test_id("payment-status")
    status.filter(has_text="PENDING").wait_for()
    succeeded = make_event("payment_intent.succeeded", intent(payment, "succeeded"), created=int(time.time()))
    assert post_webhook(server, succeeded) == 200
    status.filter(has_text="SUCCEEDED").wait_for()
    assert any(url.startswith(dev.replace("http", "ws") + "/graphql/") for url in page.requested)
    assert all(url.startswith((dev, dev.replace("http", "ws"))) for url in page.requested), page.requested
