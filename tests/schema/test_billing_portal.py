"""The customer portal (issue 15 point 5) and receipts (point 6), through GraphQL
and signed webhooks only: the portal's URL for the viewer, its return URL checked
like Checkout's, what the customer does on the portal's page arriving by webhook;
the card and receipt of a payment, and of an invoice's payment."""

from __future__ import annotations

import io
from urllib.parse import urlencode, urlsplit
from wsgiref.util import setup_testing_defaults

import pytest

from events.models import Event
from payments.models import Customer, Payment
from stripe_emulator.http import App
from tests.conftest import make_event, post_event

PORTAL = """mutation($url: String!) { createBillingPortalSession(input: {returnUrl: $url}) {
  __typename ... on BillingPortalSession { url } ... on OperationInfo { messages { code field } } } }"""
SUBSCRIBE = """mutation($price: ID!) { createSubscription(input: {priceId: $price}) {
  ... on CreateSubscriptionPayload { subscription { id stripeSubscriptionId } } } }"""
SUBSCRIPTIONS = "{ subscriptions { id status cancelAtPeriodEnd } }"
PAYMENTS = """{ payments { edges { node { id status stripePaymentIntentId payable { type id }
  paymentMethod { type brand last4 } receiptUrl } } } }"""
PAY_EVENT = """mutation($price: ID!, $event: ID!) { createPaymentIntent(input: {priceId: $price, payable: {type: "event", id: $event}}) {
  ... on CreatePaymentIntentPayload { payment { id stripePaymentIntentId paymentMethod { type } receiptUrl } } } }"""
PAYMENT = "query($id: ID!) { payment(id: $id) { status paymentMethod { type brand last4 } receiptUrl } }"
RETURN = "http://localhost:5173/account"


@pytest.fixture
def event(user):
    return Event.objects.create(user=user, title="Dentist")


def ok_all(results) -> None:
    assert results and all(code == 200 for _, code in results), results


def payments_of(gql) -> list[dict]:
    return [edge["node"] for edge in gql.ok(PAYMENTS)["payments"]["edges"]]


def portal_page(emulator, url, form=None):
    """The customer's browser on the portal's page (the emulator's HTTP face): GET, or POST ``form``."""
    parts = urlsplit(url)
    body = urlencode(form or {}).encode()
    environ = {"REQUEST_METHOD": "POST" if form else "GET", "PATH_INFO": parts.path, "QUERY_STRING": parts.query}
    setup_testing_defaults(environ)
    environ.update({"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))})
    answer = {}
    text = b"".join(App(emulator, prefix="/_emulator")(environ, lambda s, h: answer.update(status=int(s[:3]))))
    return answer["status"], text.decode()


def paid_subscription(gql, catalog, emulator, deliver) -> dict:
    sub = gql.ok(SUBSCRIBE, {"price": str(catalog["full_monthly"].pk)})["createSubscription"]["subscription"]
    [payment] = payments_of(gql)
    emulator.pay(payment["stripePaymentIntentId"])
    ok_all(deliver())
    return sub


# ---------------------------------------------------------------- the portal


def test_the_portal_opens_the_viewers_own_customer_and_links_back(gql, user, catalog, emulator, deliver):
    paid_subscription(gql, catalog, emulator, deliver)
    portal = gql.ok(PORTAL, {"url": RETURN})["createBillingPortalSession"]
    assert portal["__typename"] == "BillingPortalSession"
    session = emulator.portal_session_by_url(portal["url"].rsplit("/", 1)[-1])
    assert session["customer"] == Customer.objects.get(user=user).stripe_customer_id
    assert session["return_url"] == RETURN
    status, page = portal_page(emulator, portal["url"])
    assert status == 200 and "€19.99 / month · active" in page and f'href="{RETURN}"' in page


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/account",  # another origin
        "javascript:alert(document.cookie)",
        "//evil.example/account",  # protocol-relative
        "http://localhost:5173@evil.example/",  # userinfo: the host is evil.example
        "http://localhost:5173.evil.example/",
        "ftp://localhost:5173/",
        "",
    ],
)
def test_a_return_url_off_our_origins_is_refused_and_reaches_no_stripe(gql, user, catalog, emulator, url):
    before = len(emulator.events())
    answer = gql.ok(PORTAL, {"url": url})["createBillingPortalSession"]
    assert answer == {"__typename": "OperationInfo", "messages": [{"code": "INVALID_INPUT", "field": "returnUrl"}]}
    assert len(emulator.events()) == before and not Customer.objects.exists()


def test_the_portal_needs_a_login_and_payments_on(anon_gql, gql, settings, emulator):
    answer = anon_gql.ok(PORTAL, {"url": RETURN})["createBillingPortalSession"]
    assert answer["messages"][0]["code"] == "UNAUTHENTICATED"
    settings.PAYMENTS_ENABLED = False
    assert gql.ok(PORTAL, {"url": RETURN})["createBillingPortalSession"]["messages"][0]["code"] == "PAYMENTS_DISABLED"


def test_a_cancel_on_the_portal_arrives_by_webhook(gql, catalog, emulator, deliver):
    sub = paid_subscription(gql, catalog, emulator, deliver)
    url = gql.ok(PORTAL, {"url": RETURN})["createBillingPortalSession"]["url"]
    status, _ = portal_page(emulator, url, {"action": "cancel", "subscription": sub["stripeSubscriptionId"]})
    assert status == 303
    assert gql.ok(SUBSCRIPTIONS)["subscriptions"][0]["cancelAtPeriodEnd"] is False  # not before Stripe says so
    ok_all(deliver())
    assert gql.ok(SUBSCRIPTIONS)["subscriptions"][0] == {"id": sub["id"], "status": "ACTIVE", "cancelAtPeriodEnd": True}
    emulator.advance_subscription(sub["stripeSubscriptionId"])
    ok_all(deliver())
    assert gql.ok(SUBSCRIPTIONS)["subscriptions"][0]["status"] == "CANCELED"


def test_a_card_saved_on_the_portal_arrives_by_webhook_and_pays_the_next_renewal(gql, user, catalog, emulator, deliver):
    sub = paid_subscription(gql, catalog, emulator, deliver)
    assert payments_of(gql)[0]["paymentMethod"]["last4"] == "4242"
    url = gql.ok(PORTAL, {"url": RETURN})["createBillingPortalSession"]["url"]
    status, _ = portal_page(emulator, url, {"action": "update_card", "card": "5555555555554444"})
    assert status == 303
    ok_all(deliver())
    customer = Customer.objects.get(user=user)
    assert customer.default_payment_method_id and emulator.retrieve(customer.default_payment_method_id)["card"]["last4"] == "4444"
    emulator.advance_subscription(sub["stripeSubscriptionId"])
    ok_all(deliver())
    renewal, first = payments_of(gql)
    assert renewal["status"] == "SUCCEEDED"
    assert renewal["paymentMethod"] == {"type": "card", "brand": "mastercard", "last4": "4444"}
    assert first["paymentMethod"]["last4"] == "4242"  # the first payment keeps the card that paid it


def test_an_older_customer_updated_delivered_late_does_not_set_the_card_back(gql, user, catalog, emulator, deliver):
    """Stripe's deliveries have no order: the newest customer.updated (by its
    creation) decides the default card, whichever arrives last."""
    paid_subscription(gql, catalog, emulator, deliver)
    url = gql.ok(PORTAL, {"url": RETURN})["createBillingPortalSession"]["url"]
    portal_page(emulator, url, {"action": "update_card", "card": "5555555555554444"})
    updated = [e.event for e in emulator.events() if e.event["type"] == "customer.updated"][-1]
    ok_all(deliver())
    newest = Customer.objects.get(user=user).default_payment_method_id
    assert newest
    from django.test import Client

    older = dict(updated["data"]["object"], invoice_settings={**updated["data"]["object"]["invoice_settings"],
                                                             "default_payment_method": "pm_older"})
    assert post_event(Client(), make_event("customer.updated", older, created=updated["created"] - 60)).status_code == 200
    assert Customer.objects.get(user=user).default_payment_method_id == newest
    newer = dict(older, invoice_settings={**older["invoice_settings"], "default_payment_method": "pm_newer"})
    assert post_event(Client(), make_event("customer.updated", newer, created=updated["created"] + 60)).status_code == 200
    assert Customer.objects.get(user=user).default_payment_method_id == "pm_newer"


# ---------------------------------------------------------------- receipts


def test_a_payment_shows_the_card_that_paid_and_its_receipt(gql, catalog, event, emulator, deliver):
    created = gql.ok(PAY_EVENT, {"price": str(catalog["full_eur"].pk), "event": str(event.pk)})["createPaymentIntent"]
    payment = created["payment"]
    assert payment["paymentMethod"] is None and payment["receiptUrl"] is None
    emulator.pay(payment["stripePaymentIntentId"], "4000000000009995")  # declined: nothing paid yet
    ok_all(deliver())
    assert gql.ok(PAYMENT, {"id": payment["id"]})["payment"] == {"status": "FAILED", "paymentMethod": None, "receiptUrl": None}
    emulator.pay(payment["stripePaymentIntentId"], "5555555555554444")
    ok_all(deliver())
    shown = gql.ok(PAYMENT, {"id": payment["id"]})["payment"]
    assert shown["paymentMethod"] == {"type": "card", "brand": "mastercard", "last4": "4444"}
    charge = emulator.retrieve(emulator.retrieve(payment["stripePaymentIntentId"])["latest_charge"])
    assert shown["receiptUrl"] == charge["receipt_url"]


def test_an_invoice_payment_shows_its_card_and_receipt(gql, catalog, emulator, deliver):
    sub = paid_subscription(gql, catalog, emulator, deliver)
    [payment] = payments_of(gql)
    assert payment["payable"] == {"type": "subscription", "id": sub["id"]}
    assert payment["paymentMethod"] == {"type": "card", "brand": "visa", "last4": "4242"}
    assert payment["receiptUrl"].startswith("https://pay.stripe.com/receipts/payment/")


def test_a_receipt_filled_in_later_by_charge_updated_is_taken_and_a_blank_never_erases(gql, catalog, event, emulator, deliver):
    created = gql.ok(PAY_EVENT, {"price": str(catalog["full_eur"].pk), "event": str(event.pk)})["createPaymentIntent"]
    emulator.pay(created["payment"]["stripePaymentIntentId"])
    events = {e.event["type"]: e.event for e in emulator.events()}
    charge = dict(events["charge.succeeded"]["data"]["object"], receipt_url=None)
    from django.test import Client

    assert post_event(Client(), make_event("charge.succeeded", charge)).status_code == 200
    shown = gql.ok(PAYMENT, {"id": created["payment"]["id"]})["payment"]
    assert shown["paymentMethod"]["last4"] == "4242" and shown["receiptUrl"] is None
    later = dict(charge, receipt_url="https://pay.stripe.com/receipts/payment/later")
    assert post_event(Client(), make_event("charge.updated", later)).status_code == 200
    assert gql.ok(PAYMENT, {"id": created["payment"]["id"]})["payment"]["receiptUrl"].endswith("/later")
    assert post_event(Client(), make_event("charge.updated", charge)).status_code == 200  # blank again
    assert gql.ok(PAYMENT, {"id": created["payment"]["id"]})["payment"]["receiptUrl"].endswith("/later")
    other = dict(later, id="ch_someone_else", receipt_url="https://pay.stripe.com/receipts/payment/other")
    assert post_event(Client(), make_event("charge.updated", other)).status_code == 200
    assert gql.ok(PAYMENT, {"id": created["payment"]["id"]})["payment"]["receiptUrl"].endswith("/later")
    assert Payment.objects.get().stripe_charge_id == charge["id"]


def test_without_charge_succeeded_the_ledgers_read_of_the_charge_records_it(
    gql, catalog, event, emulator, django_capture_on_commit_callbacks
):
    """The charge event lost (or before its Payment existed): the ledger reads the charge
    after commit anyway (its balance transaction), and that read tells what paid."""
    created = gql.ok(PAY_EVENT, {"price": str(catalog["full_eur"].pk), "event": str(event.pk)})["createPaymentIntent"]
    emulator.pay(created["payment"]["stripePaymentIntentId"])
    from django.test import Client

    for stored in emulator.events():
        if stored.event["type"] != "charge.succeeded":
            with django_capture_on_commit_callbacks(execute=True):
                assert post_event(Client(), stored.event).status_code == 200
    shown = gql.ok(PAYMENT, {"id": created["payment"]["id"]})["payment"]
    assert shown["status"] == "SUCCEEDED"
    assert shown["paymentMethod"] == {"type": "card", "brand": "visa", "last4": "4242"} and shown["receiptUrl"]
