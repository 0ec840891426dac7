"""The emulator in the browser, in Chromium: a shop's page on another origin loads
the Stripe.js stand-in from the API server (/_emulator/js/v3/, stripeConfig's
jsUrl) and pays with the calls @stripe/stripe-js and @stripe/react-stripe-js make
(Stripe(pk), _registerWrapper, registerAppInfo, elements({clientSecret}),
create('payment'), mount, on('ready'), elements.submit(), confirmPayment), typing
the emulator's test cards into the card form's input[name=cardnumber]. The
answers are Stripe.js's shapes; 3-D Secure is the emulator's challenge page in an
iframe (or a redirect), Checkout its hosted page; and the ledger (our Payment,
moved by the signed webhooks the emulator sends) follows."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from events.models import Event
from payments import gateway
from payments.models import Payment, PaymentStatus
from payments.services.checkout import create_checkout_session
from payments.services.payments import PayableRef, create_payment_intent

SHOP = """<!doctype html>
<html><head><title>shop</title></head><body><h1>shop</h1>
<form id="checkout"><div id="payment-element"></div><div id="card-element"></div></form>
<script src="%(js_url)s"></script>
<script>
let stripe, elements, card;
window.changes = [];
window.mountPayment = async (pk, clientSecret) => {
  stripe = Stripe(pk);
  // What loadStripe and <Elements> call on it first.
  stripe._registerWrapper({name: "react-stripe-js", version: "7.0.1", startTime: Date.now()});
  stripe.registerAppInfo({name: "react-stripe-js", version: "7.0.1", url: "https://stripe.com/docs/stripe-js/react"});
  elements = stripe.elements({clientSecret});
  const element = elements.create("payment");
  element.on("change", (event) => window.changes.push(event));
  const ready = new Promise((resolve) => element.on("ready", resolve));
  element.mount("#payment-element");
  await ready;
  elements.update({locale: "en"});  // what <Elements> and <PaymentElement> do on re-render
  element.update({layout: "tabs"});
  return "ready";
};
window.pay = async (redirect) => {
  const {error: submitError} = await elements.submit();
  if (submitError) return {submitError};
  return stripe.confirmPayment({elements, confirmParams: {return_url: location.origin + "/done"}, redirect});
};
window.payLater = (redirect) => { window.done = undefined; pay(redirect).then((result) => { window.done = result; }); };
window.payWithCardElement = async (pk, clientSecret) => {
  stripe = Stripe(pk);
  card = stripe.elements().create("card");
  const ready = new Promise((resolve) => card.on("ready", resolve));
  card.mount("#card-element");
  await ready;
  return stripe.confirmCardPayment(clientSecret, {payment_method: {card}});
};
</script></body></html>
"""
CARD_INPUT = "input[name=cardnumber]"
CHALLENGE = 'iframe[title="3D Secure challenge"]'


@pytest.fixture
def shop(start_server, other_site, settings, page):
    """(server, site): the API server and the shop's page on another origin, loaded."""
    server = start_server()
    # Objects this test process makes (a Checkout session) name the server's pages, as its own do.
    settings.STRIPE_EMULATOR_PUBLIC_URL = f"{server.base}/_emulator"
    gateway.reset_client()
    site = other_site(SHOP % {"js_url": f"{server.base}/_emulator/js/v3/"})
    settings.PAYMENTS_REDIRECT_ORIGINS = [site.origin]
    page.goto(site.origin + "/")
    page.wait_for_function("typeof window.Stripe === 'function'")
    return server, site


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="pw-owner")


@pytest.fixture
def started(owner, catalog):
    """A payment of the full tier for an event: (Payment, client secret)."""
    event = Event.objects.create(user=owner, title="Dentist")
    result = create_payment_intent(user=owner, price_id=str(catalog["full_eur"].pk), payable=PayableRef("event", str(event.pk)))
    return result.payment, result.client_secret


def _mount(page, client_secret: str) -> None:
    assert page.evaluate("([pk, cs]) => mountPayment(pk, cs)", ["pk_test_emulator", client_secret]) == "ready"
    assert page.input_value(CARD_INPUT) == "4242 4242 4242 4242"
    assert page.input_value("input[name=cvc]") == "123" and re.fullmatch(r"12 / \d\d", page.input_value("input[name=exp-date]"))


def _ledger(deliver, payment: Payment) -> Payment:
    results = deliver()
    assert results and all(code == 200 for _, code in results), results
    return Payment.objects.get(pk=payment.pk)


def test_4242_pays_and_the_ledger_follows(shop, page, started, deliver):
    server, site = shop
    payment, secret = started
    _mount(page, secret)
    result = page.evaluate("() => pay('if_required')")
    assert "error" not in result, result
    assert result["paymentIntent"]["status"] == "succeeded"
    assert result["paymentIntent"]["id"] == payment.stripe_payment_intent_id
    assert "metadata" not in result["paymentIntent"]  # a publishable key's view
    assert _ledger(deliver, payment).status == PaymentStatus.SUCCEEDED
    api_calls = [url for url in page.requested if "/v1/" in url]
    assert api_calls and all(url.startswith(f"{server.base}/_emulator/v1/payment_intents/") for url in api_calls)
    assert all(url.startswith((server.base, site.origin)) for url in page.requested), page.requested
    assert page.evaluate("changes.length") >= 1 and page.evaluate("changes[0].elementType") == "payment"


def test_a_decline_answers_stripe_js_error_shape_and_another_card_then_pays(shop, page, started, deliver):
    payment, secret = started
    _mount(page, secret)
    page.fill(CARD_INPUT, "4000 0000 0000 0002")
    result = page.evaluate("() => pay('if_required')")
    error = result["error"]
    assert (error["type"], error["code"], error["decline_code"]) == ("card_error", "card_declined", "generic_decline")
    assert error["message"] == "Your card was declined."
    assert error["payment_intent"]["status"] == "requires_payment_method"
    declined = _ledger(deliver, payment)
    assert declined.status == PaymentStatus.FAILED, declined.status
    page.fill(CARD_INPUT, "4242424242424242")
    assert page.evaluate("() => pay('if_required')")["paymentIntent"]["status"] == "succeeded"
    assert _ledger(deliver, payment).status == PaymentStatus.SUCCEEDED


def test_an_incomplete_card_is_a_validation_error_and_sends_nothing(shop, page, started):
    _, secret = started
    _mount(page, secret)
    page.fill(CARD_INPUT, "4242")
    result = page.evaluate("() => pay('if_required')")
    assert result["submitError"]["type"] == "validation_error" and result["submitError"]["code"] == "incomplete_number"
    assert not [url for url in page.requested if "/confirm" in url]


@pytest.mark.parametrize(("button", "expected"), [("Complete authentication", "succeeded"), ("Fail authentication", "failed")])
def test_three_d_secure_opens_the_challenge_in_an_iframe(shop, page, started, deliver, button, expected):
    payment, secret = started
    _mount(page, secret)
    page.fill(CARD_INPUT, "4000 0025 0000 3155")
    page.evaluate("() => payLater('if_required')")
    page.frame_locator(CHALLENGE).get_by_role("button", name=button).click()
    page.wait_for_function("window.done !== undefined")
    result = page.evaluate("window.done")
    if expected == "succeeded":
        assert "error" not in result, result
        assert result["paymentIntent"]["status"] == "succeeded"
        assert _ledger(deliver, payment).status == PaymentStatus.SUCCEEDED
    else:
        error = result["error"]
        assert (error["type"], error["code"]) == ("invalid_request_error", "payment_intent_authentication_failure")
        assert error["payment_intent"]["status"] == "requires_payment_method"
        assert _ledger(deliver, payment).status == PaymentStatus.FAILED
    assert page.locator(CHALLENGE).count() == 0  # the overlay is gone


@pytest.mark.parametrize("card", ["4242424242424242", "4000002500003155"])
def test_redirect_always_lands_on_return_url_with_stripes_parameters(shop, page, started, deliver, card):
    server, site = shop
    payment, secret = started
    _mount(page, secret)
    page.fill(CARD_INPUT, card)
    page.evaluate("() => payLater('always')")
    if card == "4000002500003155":  # the whole page goes to the challenge, then back
        page.wait_for_url(re.compile(re.escape(server.base) + r"/_emulator/3d_secure/pi_"))
        page.get_by_role("button", name="Complete authentication").click()
    page.wait_for_url(re.compile(re.escape(site.origin) + r"/done\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query == {
        "payment_intent": [payment.stripe_payment_intent_id], "payment_intent_client_secret": [secret],
        "redirect_status": ["succeeded"],
    }
    assert _ledger(deliver, payment).status == PaymentStatus.SUCCEEDED


def test_confirm_card_payment_with_a_card_element(shop, page, started, deliver):
    payment, secret = started
    result = page.evaluate("([pk, cs]) => payWithCardElement(pk, cs)", ["pk_test_emulator", secret])
    assert result["paymentIntent"]["status"] == "succeeded", result
    assert _ledger(deliver, payment).status == PaymentStatus.SUCCEEDED


def test_another_intents_secret_gets_stripes_error_in_the_browser(shop, page, started, owner, catalog):
    payment, secret = started
    other = create_payment_intent(user=owner, price_id=str(catalog["basic_eur"].pk),
                                  payable=PayableRef("event", str(Event.objects.create(user=owner, title="B").pk)))
    forged = f"{payment.stripe_payment_intent_id}_secret_{other.client_secret.split('_secret_')[1]}"
    result = page.evaluate("([pk, cs]) => Stripe(pk).retrievePaymentIntent(cs)", ["pk_test_emulator", forged])
    assert result["error"]["code"] == "payment_intent_invalid_parameter" and "paymentIntent" not in result
    assert page.evaluate("([pk, cs]) => Stripe(pk).retrievePaymentIntent(cs)", ["pk_test_emulator", secret])[
        "paymentIntent"]["status"] == "requires_payment_method"


def test_confirm_setup_reports_the_apis_error(shop, page):
    """A made-up SetupIntent secret: the API's error, no setupIntent (tests/browser/test_lifecycle.py saves cards)."""
    result = page.evaluate(
        "([pk]) => Stripe(pk).confirmSetup({clientSecret: 'seti_123_secret_456', confirmParams: {}, redirect: 'if_required'})",
        ["pk_test_emulator"],
    )
    assert result["error"]["type"] == "invalid_request_error" and "setupIntent" not in result


@pytest.mark.parametrize("leave", ["Pay", "Back"])
def test_the_hosted_checkout_page_pays_to_success_url_or_goes_back_to_cancel_url(shop, page, owner, catalog, deliver, leave):
    server, site = shop
    event = Event.objects.create(user=owner, title="Dentist")
    result = create_checkout_session(
        user=owner, price_id=str(catalog["full_eur"].pk), payable=PayableRef("event", str(event.pk)),
        success_url=site.origin + "/done?session={CHECKOUT_SESSION_ID}", cancel_url=site.origin + "/cart",
    )
    assert result.session.url == f"{server.base}/_emulator/checkout/{result.session.id}"
    page.goto(result.session.url)
    assert page.input_value(CARD_INPUT) == "4242 4242 4242 4242"
    if leave == "Back":
        page.get_by_role("link", name="Back").click()
        page.wait_for_url(site.origin + "/cart")
        assert Payment.objects.get(pk=result.payment.pk).status == PaymentStatus.PENDING
        return
    page.fill(CARD_INPUT, "4000 0000 0000 0002")
    page.get_by_role("button", name="Pay").click()
    assert page.get_by_role("alert").inner_text() == "Your card was declined."
    page.fill(CARD_INPUT, "4242 4242 4242 4242")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(f"{site.origin}/done?session={result.session.id}")
    assert _ledger(deliver, result.payment).status == PaymentStatus.SUCCEEDED
