"""The subscription lifecycle of issue 15 in Chromium, as a React app lives it: a page
on another origin (in CORS_ALLOWED_ORIGINS) logs in, asks `stripeConfig`, injects
its `jsUrl` (the emulator's Stripe.js stand-in) and calls our GraphQL API with
fetch(credentials: "include"), as Apollo does; the card form is the stand-in's
Payment Element. Each test checks what the page sees and what our ledger holds
once the emulator's signed webhooks are delivered:

- a trial: createSubscription on the demo's trial price, `stripe.confirmSetup`
  saves the card (4242), the subscription's default once the webhooks arrive; the
  emulator's `subscription advance` ends the trial and the first renewal is paid
  with that card; a declined card's error; 3-D Secure on the SetupIntent;
- a plan change that needs the customer (a 3-D Secure card on file): the answer's
  clientSecret, `stripe.handleNextAction` in the page, the challenge completed (the
  new plan once paid) or failed (the old plan kept);
- the customer portal: its url opened, a card saved and cancel at period end chosen
  there, back to returnUrl; `cancelAtPeriodEnd` arrives by webhook, and
  resumeSubscription sets it back; the next renewal is charged to the portal's card.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from payments.models import Payment, PaymentStatus, Price, Subscription, WebhookEvent
from stripe_emulator import get_emulator

SPA = """<!doctype html>
<html><head><title>saas</title></head><body><h1>account</h1><div id="payment-element"></div>
<script>
let api, stripe, elements;
window.gql = async (query, variables) => {
  // The token again for every request (Django rotates it at login), from the csrfToken query.
  const token = await fetch(api + "/graphql/?query=" + encodeURIComponent("{ csrfToken }"), {credentials: "include"});
  const response = await fetch(api + "/graphql/", {
    method: "POST", credentials: "include",
    headers: {"Content-Type": "application/json", "X-CSRFToken": (await token.json()).data.csrfToken},
    body: JSON.stringify({query, variables: variables || {}}),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
};
window.start = async (apiBase, username, password) => {
  api = apiBase;
  const {stripeConfig} = await gql("{ stripeConfig { publishableKey jsUrl emulated } }");
  await new Promise((resolve, reject) => {  // what loadStripe does with the script it injects
    const script = document.createElement("script");
    script.src = stripeConfig.jsUrl;
    script.onload = resolve;
    script.onerror = () => reject(new Error("no Stripe.js at " + stripeConfig.jsUrl));
    document.head.appendChild(script);
  });
  stripe = Stripe(stripeConfig.publishableKey);
  if (!username) return {stripeConfig};  // a page of the app opened again: the session cookie is still there
  const login = await gql("mutation($u: String!, $p: String!) { login(username: $u, password: $p) { username } }",
                          {u: username, p: password});
  return {stripeConfig, login};
};
window.mountCard = async (clientSecret) => {  // <Elements options={{clientSecret}}><PaymentElement/>
  elements = stripe.elements({clientSecret});
  const element = elements.create("payment");
  const ready = new Promise((resolve) => element.on("ready", resolve));
  element.mount("#payment-element");
  await ready;
  return "ready";
};
window.later = (promise) => { window.done = undefined; promise.then((result) => { window.done = result; }); };
window.saveCard = async (clientSecret) => {
  const {error} = await elements.submit();
  if (error) return {submitError: error};
  return stripe.confirmSetup({elements, clientSecret, confirmParams: {return_url: location.origin + "/account"},
                              redirect: "if_required"});
};
window.payFirstInvoice = async (clientSecret) => {
  const {error} = await elements.submit();
  if (error) return {submitError: error};
  return stripe.confirmPayment({elements, clientSecret, confirmParams: {return_url: location.origin + "/account"},
                                redirect: "if_required"});
};
</script></body></html>
"""

SUBSCRIBE = """mutation($price: ID!) { createSubscription(input: {priceId: $price}) { __typename
  ... on CreateSubscriptionPayload { clientSecret setupClientSecret subscription { id status trialEnd stripeSubscriptionId } }
  ... on OperationInfo { messages { code message } } } }"""
CHANGE = """mutation($id: ID!, $price: ID!, $key: String!) {
  changeSubscription(input: {subscriptionId: $id, priceId: $price, idempotencyKey: $key}) { __typename
  ... on ChangeSubscriptionPayload { clientSecret subscription { tier { name } price { id } } }
  ... on OperationInfo { messages { code message } } } }"""
PORTAL = """mutation($url: String!) { createBillingPortalSession(input: {returnUrl: $url}) { __typename
  ... on BillingPortalSession { url } ... on OperationInfo { messages { code field } } } }"""
RESUME = """mutation($id: ID!) { resumeSubscription(input: {subscriptionId: $id}) { __typename
  ... on ResumeSubscriptionPayload { subscription { cancelAtPeriodEnd } } ... on OperationInfo { messages { code } } } }"""
ACCOUNT = """{ me { isPremium activeTier { name } }
  subscriptions { id status cancelAtPeriodEnd tier { name } price { id } }
  payments { edges { node { status amount paymentMethod { brand last4 } } } } }"""

CARD_INPUT = "input[name=cardnumber]"
CHALLENGE = 'iframe[title="3D Secure challenge"]'


@pytest.fixture
def demo_catalog(transactional_db) -> dict[str, Price]:
    """The demo's catalog (seed_demo, as `make run` seeds it): its trial price and two monthly plans."""
    call_command("seed_demo", stdout=io.StringIO())
    recurring = Price.objects.filter(type="recurring")
    return {
        "trial": recurring.get(trial_period_days=14),  # $21.99 / month, Full Escalation, 14 days
        "automated": recurring.get(tier__slug="automated", interval="month"),  # €9.99 / month
        "full": recurring.get(tier__slug="full-escalation", currency="eur", interval="month"),  # €19.99 / month
    }


@pytest.fixture
def spa(start_server, other_site, page, django_user_model, demo_catalog):
    """(server, site, gql): the API server, the SPA on its listed origin, logged in as the
    customer, and gql(query, variables) run in the page."""
    django_user_model.objects.create_user("customer", email="customer@example.com", password="pw-customer")
    site = other_site(SPA)
    server = start_server(CORS_ALLOWED_ORIGINS=site.origin)
    page.goto(site.origin + "/")
    started = page.evaluate("([api, u, p]) => start(api, u, p)", [server.base, "customer", "pw-customer"])
    assert started["login"] == {"login": {"username": "customer"}}
    assert started["stripeConfig"] == {
        "publishableKey": "pk_test_emulator", "jsUrl": f"{server.base}/_emulator/js/v3/", "emulated": True}

    def gql(query: str, variables: dict | None = None) -> dict:
        return page.evaluate("([q, v]) => gql(q, v)", [query, variables or {}])

    return server, site, gql


def _delivered(deliver) -> list[str]:
    results = deliver()
    assert results and all(code == 200 for _, code in results), results
    # What our ledger recorded of them (signed, stored): their types.
    return list(WebhookEvent.objects.filter(stripe_event_id__in=[event_id for event_id, _ in results])
                .order_by("pk").values_list("type", flat=True))


def _subscribe(gql, price: Price) -> dict:
    created = gql(SUBSCRIBE, {"price": str(price.pk)})["createSubscription"]
    assert created["__typename"] == "CreateSubscriptionPayload", created
    return created


def _challenge(page, button: str):
    """The page's pending call (window.later) through the challenge iframe: its result."""
    page.frame_locator(CHALLENGE).get_by_role("button", name=button).click()
    page.wait_for_function("window.done !== undefined")
    assert page.locator(CHALLENGE).count() == 0  # the overlay is gone
    return page.evaluate("window.done")


def _trial(page, gql, demo_catalog) -> dict:
    created = _subscribe(gql, demo_catalog["trial"])
    assert created["subscription"]["status"] == "TRIALING" and created["subscription"]["trialEnd"]
    assert created["clientSecret"] is None and created["setupClientSecret"].startswith("seti_")
    assert page.evaluate("(cs) => mountCard(cs)", created["setupClientSecret"]) == "ready"
    return created


def test_a_trial_saves_the_card_with_confirm_setup_and_its_end_charges_it(spa, page, demo_catalog, deliver):
    server, site, gql = spa
    created = _trial(page, gql, demo_catalog)
    assert page.input_value(CARD_INPUT) == "4242 4242 4242 4242"
    result = page.evaluate("(cs) => saveCard(cs)", created["setupClientSecret"])
    assert "error" not in result, result
    assert result["setupIntent"]["status"] == "succeeded"
    assert result["setupIntent"]["id"] == created["setupClientSecret"].split("_secret_")[0]
    assert result["setupIntent"]["payment_method"].startswith("pm_")
    events = _delivered(deliver)
    assert "setup_intent.succeeded" in events and "customer.subscription.updated" in events
    sub_id = created["subscription"]["stripeSubscriptionId"]
    emulator = get_emulator()
    assert emulator.retrieve(sub_id)["default_payment_method"] == result["setupIntent"]["payment_method"]
    account = gql(ACCOUNT)
    assert account["me"] == {"isPremium": True, "activeTier": {"name": "Full Escalation"}}
    assert account["subscriptions"][0]["status"] == "TRIALING"

    advanced = emulator.advance_subscription(sub_id)  # `stripe_emulator subscription advance`: the trial ends
    assert advanced["error"] is None, advanced["error"]
    _delivered(deliver)
    account = gql(ACCOUNT)
    assert account["subscriptions"][0]["status"] == "ACTIVE"
    paid = [edge["node"] for edge in account["payments"]["edges"] if edge["node"]["amount"] == 2199]
    assert paid == [{"status": "SUCCEEDED", "amount": 2199, "paymentMethod": {"brand": "visa", "last4": "4242"}}]
    row = Subscription.objects.get(stripe_subscription_id=sub_id)
    assert row.status == Subscription.Status.ACTIVE and row.trial_end is not None
    renewal = Payment.objects.get(amount=2199)  # the first renewal, the trial's invoice being for zero
    assert renewal.status == PaymentStatus.SUCCEEDED and renewal.payable_type == "subscription"


def test_a_declined_card_in_confirm_setup_answers_stripe_js_error_shape(spa, page, demo_catalog, deliver):
    server, site, gql = spa
    created = _trial(page, gql, demo_catalog)
    page.fill(CARD_INPUT, "4000 0000 0000 0002")
    result = page.evaluate("(cs) => saveCard(cs)", created["setupClientSecret"])
    error = result["error"]
    assert (error["type"], error["code"], error["decline_code"]) == ("card_error", "card_declined", "generic_decline")
    assert error["message"] == "Your card was declined." and "setupIntent" not in result
    _delivered(deliver)
    sub_id = created["subscription"]["stripeSubscriptionId"]
    assert get_emulator().retrieve(sub_id)["default_payment_method"] is None  # nothing saved
    assert gql(ACCOUNT)["subscriptions"][0]["status"] == "TRIALING"
    # Another card then saves.
    page.fill(CARD_INPUT, "4242 4242 4242 4242")
    assert page.evaluate("(cs) => saveCard(cs)", created["setupClientSecret"])["setupIntent"]["status"] == "succeeded"


@pytest.mark.parametrize(("button", "saved"), [("Complete authentication", True), ("Fail authentication", False)])
def test_three_d_secure_on_the_setup_intent_opens_the_challenge(spa, page, demo_catalog, deliver, button, saved):
    server, site, gql = spa
    created = _trial(page, gql, demo_catalog)
    page.fill(CARD_INPUT, "4000 0025 0000 3155")
    page.evaluate("(cs) => later(saveCard(cs))", created["setupClientSecret"])
    result = _challenge(page, button)
    sub_id = created["subscription"]["stripeSubscriptionId"]
    _delivered(deliver)
    stored = get_emulator().retrieve(sub_id)
    if saved:
        assert "error" not in result, result
        assert result["setupIntent"]["status"] == "succeeded"
        assert stored["default_payment_method"] == result["setupIntent"]["payment_method"]
    else:
        error = result["error"]
        assert (error["type"], error["code"]) == ("invalid_request_error", "setup_intent_authentication_failure")
        assert error["setup_intent"]["status"] == "requires_payment_method"
        assert stored["default_payment_method"] is None
    assert gql(ACCOUNT)["subscriptions"][0]["status"] == "TRIALING"


def _paid_subscription(page, gql, price: Price, deliver, card: str) -> dict:
    """A subscription whose first invoice the page paid with `card` (3-D Secure completed if asked)."""
    created = _subscribe(gql, price)
    assert created["clientSecret"] and created["setupClientSecret"] is None
    assert page.evaluate("(cs) => mountCard(cs)", created["clientSecret"]) == "ready"
    page.fill(CARD_INPUT, card)
    page.evaluate("(cs) => later(payFirstInvoice(cs))", created["clientSecret"])
    if card == "4000002500003155":
        result = _challenge(page, "Complete authentication")
    else:
        page.wait_for_function("window.done !== undefined")
        result = page.evaluate("window.done")
    assert result["paymentIntent"]["status"] == "succeeded", result
    _delivered(deliver)
    assert gql(ACCOUNT)["subscriptions"][0]["status"] == "ACTIVE"
    page.evaluate("() => document.querySelector('#payment-element').replaceChildren()")  # the form unmounted
    return created["subscription"]


@pytest.mark.parametrize(("button", "tier"), [("Complete authentication", "Full Escalation"), ("Fail authentication", "Automated")])
def test_a_plan_change_needing_the_customer_is_confirmed_in_the_page(spa, page, demo_catalog, deliver, button, tier):
    server, site, gql = spa
    sub = _paid_subscription(page, gql, demo_catalog["automated"], deliver, "4000002500003155")
    assert gql(ACCOUNT)["me"]["activeTier"] == {"name": "Automated"}
    changed = gql(CHANGE, {"id": sub["id"], "price": str(demo_catalog["full"].pk), "key": "up-1"})["changeSubscription"]
    assert changed["__typename"] == "ChangeSubscriptionPayload", changed
    assert changed["clientSecret"], changed  # the proration needs the customer
    assert changed["subscription"]["tier"] == {"name": "Automated"}  # the old plan until it is paid
    _delivered(deliver)
    assert gql(ACCOUNT)["me"]["activeTier"] == {"name": "Automated"}
    page.evaluate("(cs) => later(stripe.handleNextAction({clientSecret: cs}))", changed["clientSecret"])
    result = _challenge(page, button)
    # What Stripe.js told the page moves nothing: the plan follows Stripe's webhooks.
    assert gql(ACCOUNT)["me"]["activeTier"] == {"name": "Automated"}
    events = _delivered(deliver)
    assert ("customer.subscription.pending_update_applied" in events) is (tier == "Full Escalation"), events
    account = gql(ACCOUNT)
    assert account["me"]["activeTier"] == {"name": tier}
    expected = demo_catalog["full"] if tier == "Full Escalation" else demo_catalog["automated"]
    assert account["subscriptions"][0]["price"] == {"id": str(expected.pk)}
    assert Subscription.objects.get(pk=sub["id"]).price_id == expected.pk
    proration = Payment.objects.get(stripe_payment_intent_id=changed["clientSecret"].split("_secret_")[0])
    if tier == "Full Escalation":
        assert result["paymentIntent"]["status"] == "succeeded", result
        assert proration.status == PaymentStatus.SUCCEEDED
    else:
        assert result["error"]["code"] == "payment_intent_authentication_failure", result
        assert proration.status == PaymentStatus.FAILED


def test_the_billing_portal_updates_the_card_and_cancels_then_resume(spa, page, demo_catalog, deliver):
    server, site, gql = spa
    sub = _paid_subscription(page, gql, demo_catalog["full"], deliver, "4242 4242 4242 4242")
    portal = gql(PORTAL, {"url": site.origin + "/account"})["createBillingPortalSession"]
    assert portal["__typename"] == "BillingPortalSession", portal
    assert portal["url"].startswith(f"{server.base}/_emulator/billing_portal/p/session/")
    page.goto(portal["url"])
    assert page.locator("#card").inner_text() == "visa •••• 4242"
    page.get_by_label("Card number").fill("5555 5555 5555 4444")
    page.get_by_role("button", name="Save card").click()
    page.wait_for_url("**?done=update_card")
    assert page.get_by_role("status").inner_text() == "Your card was saved."
    assert page.locator("#card").inner_text() == "mastercard •••• 4444"
    page.get_by_role("button", name="Cancel at period end").click()
    page.wait_for_url("**?done=cancel")
    assert "canceled at the end of the period" in page.get_by_role("status").inner_text()
    page.get_by_role("link", name="Return").click()
    page.wait_for_url(site.origin + "/account")
    events = _delivered(deliver)
    assert "customer.updated" in events and "customer.subscription.updated" in events

    page.evaluate("(api) => start(api)", server.base)  # back in the app, still logged in
    account = gql(ACCOUNT)
    assert account["me"]["activeTier"] == {"name": "Full Escalation"}
    assert account["subscriptions"][0]["cancelAtPeriodEnd"] is True
    assert Subscription.objects.get(pk=sub["id"]).cancel_at_period_end is True
    resumed = gql(RESUME, {"id": sub["id"]})["resumeSubscription"]
    assert resumed == {"__typename": "ResumeSubscriptionPayload", "subscription": {"cancelAtPeriodEnd": False}}
    _delivered(deliver)
    assert gql(ACCOUNT)["subscriptions"][0]["cancelAtPeriodEnd"] is False
    # The next renewal is charged to the portal's card, and the subscription goes on.
    advanced = get_emulator().advance_subscription(sub["stripeSubscriptionId"])
    assert advanced["error"] is None, advanced["error"]
    _delivered(deliver)
    account = gql(ACCOUNT)
    assert account["subscriptions"][0]["status"] == "ACTIVE"
    methods = [edge["node"]["paymentMethod"] for edge in account["payments"]["edges"] if edge["node"]["status"] == "SUCCEEDED"]
    assert sorted(m["last4"] for m in methods) == ["4242", "4444"], methods
