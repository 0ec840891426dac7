"""Paying in the built React client, in Chromium, offline: the Payment Element
on the emulator's Stripe.js stand-in (stripeConfig.jsUrl), the emulator's
3-D Secure and hosted Checkout pages, Stripe's signed webhooks delivered by the
server's own emulator soon after each call (STRIPE_EMULATOR_AUTO_DELIVER, as
`make run` does), and the status the customer sees pushed live over the
paymentStatus subscription. Each test checks what the user sees and what our
ledger holds, and that no request left the server's origin (no js.stripe.com)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Permission

from events.models import Event
from payments.models import Invoice, Payment, Refund, Subscription, Transaction
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_client import log_in, only_our_origin
from tests.live_server import Browser

pytestmark = pytest.mark.usefixtures("built_client")

DECLINED = "4000000000000002"  # card_declined, generic_decline
THREE_D_SECURE = "4000002500003155"  # authentication required on every payment


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="pw-owner")


@pytest.fixture
def server(start_server):
    return start_server(STRIPE_EMULATOR_AUTO_DELIVER="true")


def eventually(check: Callable[[], bool], what: str, timeout: float = TIMEOUT_MS / 1000):
    """Our database, read until ``check`` holds: the webhooks land soon after the call."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.2)


def fresh(payment: Payment) -> Payment:
    payment.refresh_from_db()
    return payment


def start_paying(page, server, title: str = "Dentist"):
    """Logged in, an event created, the Payment Element of €9.99 for Automated on the page."""
    page.goto(server.base + "/")
    log_in(page, "owner", "pw-owner")
    page.get_by_label("Title").fill(title)
    page.get_by_role("button", name="Create event").click()
    page.get_by_test_id("events").get_by_text(f"{title}: not active").wait_for()
    page.get_by_role("button", name="Pay €9.99 for Automated").click()
    panel = page.get_by_role("region", name="Payment")
    expect_status(panel, "PENDING")
    card = panel.locator("input[name=cardnumber]")
    card.wait_for()
    return panel, card


def expect_status(panel, status: str) -> None:
    panel.get_by_test_id("payment-status").filter(has_text=re.compile(rf"^{status}$")).wait_for()


def history(panel) -> list[str]:
    return panel.get_by_test_id("status-history").locator("li").all_inner_texts()


def only_payment(owner) -> Payment:
    [payment] = Payment.objects.filter(user=owner)
    return payment


def test_pays_with_4242_and_sees_succeeded_live(server, page, owner, catalog):
    panel, card = start_paying(page, server)
    assert card.input_value().replace(" ", "") == "4242424242424242"  # the stand-in's prefilled test card
    panel.get_by_role("button", name="Pay", exact=True).click()
    expect_status(panel, "SUCCEEDED")
    assert history(panel)[0] == "PENDING" and history(panel)[-1] == "SUCCEEDED"
    page.get_by_test_id("events").get_by_text("Dentist: active (Automated)").wait_for()

    payment = only_payment(owner)
    assert (payment.status, payment.amount, payment.currency) == ("succeeded", 999, "eur")
    event = Event.objects.get(user=owner)
    assert event.is_active and event.tier_id == catalog["basic"].pk
    eventually(lambda: Transaction.objects.filter(payment=payment, type="charge", gross=999).exists(), "the charge in the ledger")
    only_our_origin(page, server)


def test_a_decline_shows_its_reason_and_a_retry_succeeds(server, page, owner, catalog):
    panel, card = start_paying(page, server)
    card.fill(DECLINED)
    panel.get_by_role("button", name="Pay", exact=True).click()
    assert "declined" in panel.get_by_test_id("confirm-error").inner_text().lower()  # Stripe.js's answer, at once
    expect_status(panel, "FAILED")  # the ledger's, from the webhook
    # The ledger keeps Stripe's decline_code (card_declined's generic_decline) and message.
    assert panel.get_by_test_id("failure-reason").inner_text() == "Declined: Your card was declined. (generic_decline)"
    payment = only_payment(owner)
    assert (payment.status, payment.failure_code, payment.failure_message) == ("failed", "generic_decline", "Your card was declined.")
    assert not Event.objects.get(user=owner).is_active

    card.fill("4242424242424242")
    panel.get_by_role("button", name="Try again").click()
    expect_status(panel, "SUCCEEDED")
    assert history(panel) == ["PENDING", "FAILED", "SUCCEEDED"]
    assert Payment.objects.filter(user=owner).count() == 1  # the same payment, paid on the second attempt
    assert fresh(payment).status == "succeeded"
    assert Event.objects.get(user=owner).is_active
    eventually(lambda: Transaction.objects.filter(payment=payment, type="charge").count() == 1, "one charge in the ledger")
    only_our_origin(page, server)


@pytest.mark.parametrize("choice, final", [("Complete authentication", "SUCCEEDED"), ("Fail authentication", "FAILED")])
def test_three_d_secure_approved_or_failed(server, page, owner, catalog, choice, final):
    panel, card = start_paying(page, server)
    card.fill(THREE_D_SECURE)
    panel.get_by_role("button", name="Pay", exact=True).click()
    challenge = page.frame_locator('iframe[title="3D Secure challenge"]')
    challenge.get_by_role("button", name=choice).wait_for()
    expect_status(panel, "REQUIRES_ACTION")  # pushed live while the bank's page is open
    challenge.get_by_role("button", name=choice).click()
    expect_status(panel, final)
    assert history(panel) == ["PENDING", "REQUIRES_ACTION", final]
    assert page.locator('iframe[title="3D Secure challenge"]').count() == 0  # the overlay is gone
    payment = only_payment(owner)
    if final == "SUCCEEDED":
        assert fresh(payment).status == "succeeded"
        assert Event.objects.get(user=owner).is_active
        assert panel.get_by_test_id("confirm-error").count() == 0
    else:
        assert (payment.status, payment.failure_code) == ("failed", "payment_intent_authentication_failure")
        assert not Event.objects.get(user=owner).is_active
        assert panel.get_by_test_id("confirm-error").inner_text() != ""
        assert panel.get_by_role("button", name="Try again").is_enabled()  # the customer may pay again
    only_our_origin(page, server)


def test_checkout_hosted_page_back_to_success_url(server, page, owner, catalog):
    page.goto(server.base + "/")
    log_in(page, "owner", "pw-owner")
    page.get_by_label("Title").fill("Dentist")
    page.get_by_role("button", name="Create event").click()
    page.get_by_test_id("events").get_by_text("Dentist: not active").wait_for()
    page.get_by_role("button", name="Checkout €9.99 for Automated").click()

    page.wait_for_url(re.compile(rf"^{re.escape(server.base)}/_emulator/checkout/cs_"))
    assert page.locator("input[name=cardnumber]").count() == 1
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(re.compile(rf"^{re.escape(server.base)}/checkout/success\?session_id=cs_"))
    session_id = page.url.rsplit("session_id=", 1)[1]
    section = page.get_by_role("region", name="Checkout")
    expect_status(section, "SUCCEEDED")

    payment = only_payment(owner)
    assert payment.stripe_checkout_session_id == session_id
    assert (payment.status, payment.amount) == ("succeeded", 999)
    assert Event.objects.get(user=owner).is_active
    only_our_origin(page, server)


def test_a_subscription_first_invoice_paid_in_the_browser(server, page, owner, catalog):
    page.goto(server.base + "/")
    log_in(page, "owner", "pw-owner")
    assert page.get_by_test_id("premium").inner_text() == "Not premium"
    page.get_by_role("button", name="Subscribe €19.99 / month to Full Escalation").click()
    panel = page.get_by_role("region", name="Subscription")
    panel.get_by_test_id("subscription-status").filter(has_text="INCOMPLETE").wait_for()
    panel.locator("input[name=cardnumber]").wait_for()
    panel.get_by_role("button", name="Pay the first invoice").click()
    panel.get_by_test_id("subscription-status").filter(has_text="ACTIVE").wait_for()
    page.get_by_test_id("premium").filter(has_text="Premium (Full Escalation)").wait_for()
    invoices = page.get_by_test_id("invoices").locator("tbody tr")
    invoices.filter(has_text="PAID").wait_for()
    assert invoices.count() == 1

    subscription = Subscription.objects.get(user=owner)
    assert (subscription.status, subscription.price_id) == ("active", catalog["full_monthly"].pk)
    invoice = Invoice.objects.get(user=owner)
    assert (invoice.status, invoice.amount_paid, invoice.subscription_id) == ("paid", 1999, subscription.pk)
    only_our_origin(page, server)


def test_a_refund_is_seen_live_by_the_customer(server, page, owner, catalog, django_user_model):
    panel, _ = start_paying(page, server)
    panel.get_by_role("button", name="Pay", exact=True).click()
    expect_status(panel, "SUCCEEDED")
    payment = only_payment(owner)

    cashier = django_user_model.objects.create_user("cashier", password="pw-cashier", is_staff=True)
    cashier.user_permissions.add(Permission.objects.get(codename="add_refund", content_type__app_label="payments"))
    staff = Browser(server)
    staff.login("cashier", "pw-cashier")
    result = staff.graphql(
        "mutation($id: ID!) { refund(input: {paymentId: $id, reason: REQUESTED_BY_CUSTOMER}) { __typename } }",
        {"id": str(payment.pk)},
    )
    assert result == {"data": {"refund": {"__typename": "RefundPayload"}}}, result

    expect_status(panel, "REFUNDED")  # the customer's page, untouched, told by the subscription
    assert panel.get_by_test_id("amount-refunded").inner_text() == "Refunded €9.99"
    assert history(panel)[-2:] == ["SUCCEEDED", "REFUNDED"]
    assert (fresh(payment).status, payment.amount_refunded) == ("refunded", 999)
    assert Refund.objects.get(payment=payment).amount == 999
    assert not Event.objects.get(user=owner).is_active  # a full refund revokes the tier
    only_our_origin(page, server)
