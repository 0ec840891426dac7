"""The customer portal: sessions through the real stripe library, and its page on
the emulator's HTTP face, where the customer saves a card and cancels at period end."""

from __future__ import annotations

import io
import re
from urllib.parse import urlencode, urlsplit
from wsgiref.util import setup_testing_defaults

import pytest
import stripe

from stripe_emulator.http import App
from stripe_emulator.inprocess import HTTPClient
from stripe_emulator.objects import template
from tests.stripe_emulator.test_fixtures import missing_keys


@pytest.fixture
def client(emulator) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_emulator", max_network_retries=0, http_client=HTTPClient(emulator))


def paid_subscription(client, emulator):
    product = client.v1.products.create(params={"name": "Basic"})
    price = client.v1.prices.create(
        params={"product": product.id, "currency": "eur", "unit_amount": 500, "recurring": {"interval": "month"}}
    )
    customer = client.v1.customers.create(params={"email": "p@example.com"})
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            "payment_behavior": "default_incomplete",
            "payment_settings": {"save_default_payment_method": "on_subscription"},
            "expand": ["latest_invoice.payments"],
        }
    )
    emulator.pay(sub.latest_invoice.payments.data[0].payment.payment_intent)
    return client.v1.subscriptions.retrieve(sub.id)


def page(emulator, url, method="GET", form=None, prefix=""):
    """One request to the emulator's HTTP face as a browser makes it: (status, headers, body)."""
    parts = urlsplit(url)
    body = urlencode(form or {}).encode()
    environ = {"REQUEST_METHOD": method, "PATH_INFO": parts.path, "QUERY_STRING": parts.query}
    setup_testing_defaults(environ)
    environ.update({"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))})
    answer = {}

    def start_response(status, headers):
        answer.update(status=int(status.split()[0]), headers=dict(headers))

    text = b"".join(App(emulator, prefix=prefix)(environ, start_response)).decode()
    return answer["status"], answer["headers"], text


def test_a_session_has_a_url_on_the_emulators_public_base_and_stripes_shape(client, emulator):
    emulator.public_url = "http://127.0.0.1:8000/_emulator"
    customer = client.v1.customers.create()
    session = client.v1.billing_portal.sessions.create(
        params={"customer": customer.id, "return_url": "http://localhost:5173/account"}
    )
    assert session.id.startswith("bps_") and session.customer == customer.id
    assert session.return_url == "http://localhost:5173/account"
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/_emulator/billing_portal/p/session/test_\w+", session.url)
    assert session.id not in session.url
    assert missing_keys(session.to_dict(), template("billing_portal.session")) == []
    assert not emulator.events()[-1].event["type"].startswith("billing_portal")  # Stripe sends none


@pytest.mark.parametrize("url", ["javascript:alert(1)", "//evil.example/", "not a url", "ftp://x.example/"])
def test_a_session_refuses_a_return_url_that_is_not_a_web_url(client, url):
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.billing_portal.sessions.create(params={"customer": customer.id, "return_url": url})
    assert info.value.param == "return_url"


def test_an_unknown_customer_or_portal_page_is_refused(client, emulator):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.billing_portal.sessions.create(params={"customer": "cus_nobody"})
    assert info.value.http_status == 404
    status, _, _ = page(emulator, "http://x/billing_portal/p/session/test_guessed")
    assert status == 404


def test_the_page_shows_the_card_the_subscription_and_a_link_back(client, emulator):
    sub = paid_subscription(client, emulator)
    session = client.v1.billing_portal.sessions.create(
        params={"customer": sub.customer, "return_url": "http://localhost:5173/account?a=1&b=<2>"}
    )
    status, headers, body = page(emulator, session.url)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "visa •••• 4242" in body and "€5.00 / month · active" in body
    assert 'href="http://localhost:5173/account?a=1&amp;b=&lt;2&gt;"' in body  # escaped, not markup
    assert "Cancel at period end" in body


def test_saving_a_card_on_the_page_makes_it_the_default_with_stripes_events(client, emulator):
    sub = paid_subscription(client, emulator)
    session = client.v1.billing_portal.sessions.create(params={"customer": sub.customer})
    before = len(emulator.events())
    status, headers, _ = page(emulator, session.url, "POST", {"action": "update_card", "card": "5555 5555 5555 4444"})
    assert status == 303 and headers["Location"] == "?done=update_card"
    events = [stored.event for stored in emulator.events()][before:]
    assert [e["type"] for e in events] == [
        "payment_method.attached", "customer.updated", "customer.subscription.updated",
    ]
    method = events[0]["data"]["object"]
    assert method["card"]["last4"] == "4444" and method["customer"] == sub.customer
    customer = events[1]["data"]
    assert customer["object"]["invoice_settings"]["default_payment_method"] == method["id"]
    assert customer["previous_attributes"]["invoice_settings"]["default_payment_method"] is None
    assert events[2]["data"]["object"]["default_payment_method"] == method["id"]
    assert events[2]["data"]["previous_attributes"]["default_payment_method"] == sub.default_payment_method
    _, _, body = page(emulator, session.url + "?done=update_card")
    assert "mastercard •••• 4444" in body and "Your card was saved." in body

    renewal = emulator.advance_subscription(sub.id)["invoice"]
    invoice = client.v1.invoices.retrieve(renewal["id"], params={"expand": ["payments"]})
    intent = client.v1.payment_intents.retrieve(invoice.payments.data[0].payment.payment_intent)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.payment_method_details.card.last4 == "4444"  # the renewal used the new card


def test_a_bad_card_on_the_page_changes_nothing(client, emulator):
    sub = paid_subscription(client, emulator)
    session = client.v1.billing_portal.sessions.create(params={"customer": sub.customer})
    before = len(emulator.events())
    status, headers, _ = page(emulator, session.url, "POST", {"action": "update_card", "card": "4242424242424241"})
    assert status == 303 and headers["Location"] == "?done=error"
    assert len(emulator.events()) == before


def test_canceling_on_the_page_cancels_at_period_end_and_only_the_customers_own(client, emulator):
    sub = paid_subscription(client, emulator)
    other = paid_subscription(client, emulator)
    session = client.v1.billing_portal.sessions.create(params={"customer": sub.customer})
    before = len(emulator.events())
    page(emulator, session.url, "POST", {"action": "cancel", "subscription": other.id})
    assert len(emulator.events()) == before and not client.v1.subscriptions.retrieve(other.id).cancel_at_period_end
    status, headers, _ = page(emulator, session.url, "POST", {"action": "cancel", "subscription": sub.id})
    assert status == 303
    [event] = [stored.event for stored in emulator.events()][before:]
    assert event["type"] == "customer.subscription.updated"
    assert event["data"]["object"]["cancel_at_period_end"] is True
    assert event["data"]["previous_attributes"]["cancel_at_period_end"] is False
    assert event["data"]["object"]["cancellation_details"]["reason"] == "cancellation_requested"
    _, _, body = page(emulator, session.url)
    assert "Cancel at period end" not in body and " · ends " in body


def test_the_page_answers_under_the_dev_servers_prefix(client, emulator):
    sub = paid_subscription(client, emulator)
    emulator.public_url = "http://127.0.0.1:8000/_emulator"
    session = client.v1.billing_portal.sessions.create(params={"customer": sub.customer})
    status, _, body = page(emulator, session.url, prefix="/_emulator")
    assert status == 200 and "€5.00 / month" in body
