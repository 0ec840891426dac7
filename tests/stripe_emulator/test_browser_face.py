"""The emulator's HTTP face as a browser meets it: the publishable key may do only
what Stripe lets it (retrieve or confirm an intent with its client secret, create
a PaymentMethod), the client secret is checked as Stripe checks it (attacked with
another intent's), CORS is api.stripe.com's (any origin, no credentials,
preflights), and the pages: the Stripe.js stand-in, 3-D Secure and Checkout."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from stripe_emulator.http import App
from stripe_emulator.test_cards import REQUIRES_3DS, TEST_CARDS, Decline
from stripe_emulator.publishable import PUBLISHABLE_FORBIDDEN

from .conftest import encode

PK = "pk_test_emulator"
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class Browser:
    """Requests as a page's fetch() makes them, straight into the WSGI app."""

    def __init__(self, app: App):
        self.app = app

    def __call__(self, method: str, path: str, params: dict | None = None, *, headers: dict | None = None,
                 raw_body: bytes | None = None) -> Answer:
        data = urlencode(encode(params or {}))
        query, body = (data, b"") if method in ("GET", "OPTIONS") else ("", data.encode())
        if raw_body is not None:
            body = raw_body
        path, _, own_query = path.partition("?")
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": own_query or query,
            "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "wsgi.input": io.BytesIO(body), "HTTP_ORIGIN": "http://shop.test",
        }
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        answer = {}

        def start_response(status, response_headers):
            answer.update(status=int(status.split()[0]), headers=response_headers)

        content = b"".join(self.app(environ, start_response))
        names = [name.lower() for name, _ in answer["headers"]]
        assert len(names) == len(set(names)), f"a header twice: {answer['headers']}"
        return Answer(answer["status"], {name.lower(): value for name, value in answer["headers"]}, content)


@pytest.fixture
def browser(emulator) -> Browser:
    return Browser(App(emulator))


@pytest.fixture
def intent(api) -> dict:
    return api.payment_intent(amount=1500)


def test_a_publishable_key_retrieves_an_intent_with_its_client_secret_and_sees_only_public_fields(browser, intent, api):
    api.post(f"/v1/payment_intents/{intent['id']}", {"metadata": {"payment_id": "secret-of-ours"}})
    answer = browser("GET", f"/v1/payment_intents/{intent['id']}", {"key": PK, "client_secret": intent["client_secret"]})
    assert answer.status == 200, answer.body
    assert (answer.json["id"], answer.json["status"], answer.json["amount"]) == (intent["id"], "requires_payment_method", 1500)
    assert "metadata" not in answer.json and "customer" not in answer.json  # Stripe's publishable subset


@pytest.mark.parametrize("how", ["another intent's", "made up", "missing"])
def test_the_client_secret_is_checked_as_stripe_checks_it(browser, intent, api, how):
    other = api.payment_intent(amount=99)
    secret = {"another intent's": other["client_secret"], "made up": intent["id"] + "_secret_guess", "missing": None}[how]
    params = {"key": PK, "client_secret": secret} if secret else {"key": PK}
    events = len(api.emulator.events())
    for method, path, extra in (("GET", "", {}), ("POST", "/confirm", {"payment_method_data": {"type": "card", "card": CARD}})):
        answer = browser(method, f"/v1/payment_intents/{intent['id']}{path}", {**params, **extra})
        if how == "missing":
            assert answer.status == 400 and answer.json["error"]["code"] == "parameter_missing"
            assert answer.json["error"]["param"] == "client_secret"
        else:
            assert answer.status == 400, answer.body
            assert answer.json["error"] == {
                "type": "invalid_request_error", "code": "payment_intent_invalid_parameter", "param": "client_secret",
                "message": "The client_secret provided does not match the client_secret associated with the PaymentIntent.",
                "request_log_url": answer.json["error"]["request_log_url"],
            }
        assert "payment_intent" not in answer.json["error"] and "amount" not in answer.body.decode()
    assert api.get(f"/v1/payment_intents/{intent['id']}").body["status"] == "requires_payment_method"
    assert len(api.emulator.events()) == events  # nothing was charged, nothing happened


def test_an_unknown_intent_answers_like_a_wrong_secret(browser, intent):
    known = browser("GET", f"/v1/payment_intents/{intent['id']}", {"key": PK, "client_secret": "pi_x_secret_y"})
    unknown = browser("GET", "/v1/payment_intents/pi_nobody", {"key": PK, "client_secret": "pi_x_secret_y"})
    strip = lambda a: {k: v for k, v in a.json["error"].items() if k != "request_log_url"}  # noqa: E731
    assert (known.status, strip(known)) == (unknown.status, strip(unknown))


@pytest.mark.parametrize(("method", "path", "params"), [
    ("POST", "/v1/payment_intents", {"amount": 100, "currency": "eur"}),
    ("POST", "/v1/payment_intents/{pi}", {"description": "changed by the browser"}),
    ("POST", "/v1/payment_intents/{pi}/cancel", {}),
    ("POST", "/v1/refunds", {"payment_intent": "{pi}"}),
    ("GET", "/v1/customers/cus_x", {}),
    ("POST", "/v1/customers", {"email": "a@b.c"}),
    ("GET", "/v1/events", {}),
    ("POST", "/v1/checkout/sessions", {"mode": "payment"}),
    ("GET", "/v1/balance", {}),
])
def test_everything_else_is_refused_to_a_publishable_key_as_stripe_refuses_it(browser, intent, api, method, path, params):
    path = path.replace("{pi}", intent["id"])
    params = {k: v.replace("{pi}", intent["id"]) if isinstance(v, str) else v for k, v in params.items()}
    events = len(api.emulator.events())
    for how in ("key", "header"):
        sent = {**params, "key": PK, "client_secret": intent["client_secret"]} if how == "key" else params
        headers = {"Authorization": f"Bearer {PK}"} if how == "header" else None
        answer = browser(method, path, sent, headers=headers)
        assert answer.status == 401, (how, answer.body)
        assert answer.json["error"]["type"] == "invalid_request_error"
        assert answer.json["error"]["message"] == PUBLISHABLE_FORBIDDEN
    assert len(api.emulator.events()) == events
    assert api.get(f"/v1/payment_intents/{intent['id']}").body["description"] is None


def test_a_publishable_key_creates_a_payment_method_and_confirms_with_a_card(browser, intent, api):
    method = browser("POST", "/v1/payment_methods", {"key": PK, "type": "card", "card": CARD})
    assert method.status == 200 and method.json["card"]["last4"] == "4242"
    confirmed = browser("POST", f"/v1/payment_intents/{intent['id']}/confirm",
                        {"key": PK, "client_secret": intent["client_secret"], "payment_method_data": {"type": "card", "card": CARD}})
    assert confirmed.status == 200, confirmed.body
    assert confirmed.json["status"] == "succeeded"
    assert api.event_types()[-1] == "payment_intent.succeeded"


def test_a_declined_card_answers_stripes_card_error_with_the_public_intent(browser, intent):
    card = {**CARD, "number": "4000000000000002"}
    answer = browser("POST", f"/v1/payment_intents/{intent['id']}/confirm",
                     {"key": PK, "client_secret": intent["client_secret"], "payment_method_data": {"type": "card", "card": card}})
    assert answer.status == 402
    error = answer.json["error"]
    assert (error["type"], error["code"], error["decline_code"]) == ("card_error", "card_declined", "generic_decline")
    assert error["payment_intent"]["status"] == "requires_payment_method" and "metadata" not in error["payment_intent"]


def test_a_secret_key_is_not_restricted(browser, intent):
    answer = browser("POST", f"/v1/payment_intents/{intent['id']}", {"description": "ok"},
                     headers={"Authorization": "Bearer sk_test_emulator"})
    assert answer.status == 200 and answer.json["description"] == "ok"


# ------------------------------------------------------------------ CORS


def test_api_answers_carry_api_stripe_coms_cors_headers(browser, intent):
    for answer in (
        browser("GET", f"/v1/payment_intents/{intent['id']}", {"key": PK, "client_secret": intent["client_secret"]}),
        browser("POST", "/v1/payment_intents", {"key": PK, "amount": 1, "currency": "eur"}),  # a refusal too
        browser("GET", "/v1/payment_intents/pi_x"),  # no key at all
    ):
        assert answer.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in answer.headers
        assert "request-id" in answer.headers["access-control-expose-headers"].lower()


def test_a_preflight_is_answered_for_any_origin_without_credentials(browser, intent):
    answer = browser("OPTIONS", f"/v1/payment_intents/{intent['id']}/confirm", headers={
        "Origin": "http://elsewhere.test", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, stripe-version",
    })
    assert answer.status == 204 and answer.body == b""
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "POST" in answer.headers["access-control-allow-methods"]
    assert answer.headers["access-control-allow-headers"] == "authorization, content-type, stripe-version"
    assert "access-control-allow-credentials" not in answer.headers
    assert int(answer.headers["access-control-max-age"]) > 0


# ----------------------------------------------------------------- pages


def test_the_stripe_js_stand_in_is_served_at_js_v3(browser):
    for path in ("/js/v3/", "/js/v3"):
        answer = browser("GET", path)
        assert answer.status == 200 and answer.headers["content-type"].startswith("application/javascript")
        assert b"window.Stripe = Stripe" in answer.body
    assert browser("GET", "/js/v2/").status == 404


def _three_d_secure(api, return_url=None) -> dict:
    params = {"payment_method": "pm_card_authenticationRequired", "confirm": True}
    if return_url:
        params["return_url"] = return_url
    intent = api.payment_intent(**params)
    assert intent["status"] == "requires_action"
    return intent


def _challenge_path(emulator, intent) -> str:
    url = intent["next_action"]["redirect_to_url"]["url"] if intent["next_action"]["type"] == "redirect_to_url" \
        else intent["next_action"]["use_stripe_sdk"]["stripe_js"]
    assert url.startswith(emulator.public_url + "/3d_secure/")
    parts = urlsplit(url)
    return parts.path + "?" + parts.query


def test_the_challenge_page_completes_authentication_and_returns_to_the_return_url(browser, api, emulator):
    intent = _three_d_secure(api, return_url="https://shop.test/done?order=7")
    path = _challenge_path(emulator, intent)
    page = browser("GET", path)
    assert page.status == 200 and b"Complete authentication" in page.body and b"Fail authentication" in page.body
    answer = browser("POST", path, raw_body=b"outcome=complete")
    assert answer.status == 303
    location = urlsplit(answer.headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "shop.test", "/done")
    assert parse_qs(location.query) == {
        "order": ["7"], "payment_intent": [intent["id"]], "payment_intent_client_secret": [intent["client_secret"]],
        "redirect_status": ["succeeded"],
    }
    assert api.get(f"/v1/payment_intents/{intent['id']}").body["status"] == "succeeded"


def test_a_failed_authentication_returns_redirect_status_failed(browser, api, emulator):
    intent = _three_d_secure(api, return_url="https://shop.test/done")
    answer = browser("POST", _challenge_path(emulator, intent), raw_body=b"outcome=fail")
    assert parse_qs(urlsplit(answer.headers["location"]).query)["redirect_status"] == ["failed"]
    after = api.get(f"/v1/payment_intents/{intent['id']}").body
    assert after["status"] == "requires_payment_method"
    assert after["last_payment_error"]["code"] == "payment_intent_authentication_failure"


def test_the_challenge_page_needs_the_intents_own_secret(browser, api, emulator):
    intent, other = _three_d_secure(api), _three_d_secure(api)
    for secret in (other["client_secret"], "", intent["id"] + "_secret_guess"):
        path = f"/3d_secure/{intent['id']}?" + urlencode({"payment_intent_client_secret": secret})
        assert browser("GET", path).status == 404
        assert browser("POST", path, raw_body=b"outcome=complete").status == 404
    assert api.get(f"/v1/payment_intents/{intent['id']}").body["status"] == "requires_action"


def test_the_challenge_page_sends_the_browser_to_the_confirmed_return_url_only(browser, api, emulator):
    """No open redirect: a return_url added to the page's URL is not where it goes."""
    intent = _three_d_secure(api, return_url="https://shop.test/done")
    path = _challenge_path(emulator, intent) + "&" + urlencode({"return_url": "https://evil.test/"})
    answer = browser("POST", path, raw_body=b"outcome=complete")
    assert urlsplit(answer.headers["location"]).netloc == "shop.test"


def _session(api, **extra) -> dict:
    product = api.post("/v1/products", {"name": "Tier"}).body
    price = api.post("/v1/prices", {"product": product["id"], "currency": "eur", "unit_amount": 1500}).body
    return api.post("/v1/checkout/sessions", {
        "mode": "payment", "line_items": [{"price": price["id"], "quantity": 1}],
        "success_url": "https://shop.test/paid?session={CHECKOUT_SESSION_ID}", "cancel_url": "https://shop.test/cart",
        **extra,
    }).body


def test_the_checkout_page_pays_and_sends_the_browser_to_success_url(browser, api, emulator):
    session = _session(api)
    path = urlsplit(session["url"]).path
    assert session["url"] == f"{emulator.public_url}/checkout/{session['id']}"
    page = browser("GET", path)
    assert page.status == 200
    for needle in (b'name="cardnumber"', b'name="exp-date"', b'name="cvc"', b">Pay<", b'href="https://shop.test/cart"',
                   "€15.00".encode()):
        assert needle in page.body, needle
    answer = browser("POST", path, raw_body=b"cardnumber=4242+4242+4242+4242&exp-date=12+%2F+40&cvc=123")
    assert answer.status == 303 and answer.headers["location"] == f"https://shop.test/paid?session={session['id']}"
    paid = api.get(f"/v1/checkout/sessions/{session['id']}").body
    assert (paid["status"], paid["payment_status"]) == ("complete", "paid")
    assert browser("GET", path).status == 410  # the page is gone once paid


def test_a_declined_card_on_the_checkout_page_shows_the_decline_and_keeps_it_open(browser, api):
    session = _session(api)
    path = urlsplit(session["url"]).path
    answer = browser("POST", path, raw_body=b"cardnumber=4000000000000002")
    assert answer.status == 402 and b"Your card was declined." in answer.body
    assert api.get(f"/v1/checkout/sessions/{session['id']}").body["status"] == "open"
    assert browser("POST", path, raw_body=b"cardnumber=4242424242424242").status == 303


def test_pages_of_unknown_objects_are_404(browser):
    assert browser("GET", "/checkout/cs_test_nobody").status == 404
    assert browser("GET", "/3d_secure/pi_nobody?payment_intent_client_secret=x").status == 404
    assert browser("GET", "/nothing/here").status == 404


@pytest.mark.parametrize("number", sorted(TEST_CARDS))
def test_every_test_card_plays_from_the_card_form(browser, api, number):
    """What the stand-in sends for a typed card: payment_method_data with the number."""
    intent = api.payment_intent(amount=700)
    answer = browser("POST", f"/v1/payment_intents/{intent['id']}/confirm", {
        "key": PK, "client_secret": intent["client_secret"], "return_url": "https://shop.test/done",
        "payment_method_data": {"type": "card", "card": {**CARD, "number": number}},
    })
    behaviour = TEST_CARDS[number]
    if isinstance(behaviour, Decline):
        assert answer.status == 402 and answer.json["error"]["decline_code"] == behaviour.decline_code
    elif behaviour == REQUIRES_3DS:
        assert answer.status == 200 and answer.json["status"] == "requires_action"
        assert answer.json["next_action"]["redirect_to_url"]["url"].startswith(api.emulator.public_url + "/3d_secure/")
    else:  # the refund cards pay like any other
        assert answer.status == 200 and answer.json["status"] == "succeeded"


@pytest.mark.parametrize(("outcome", "status"), [("complete", "succeeded"), ("fail", "requires_payment_method")])
def test_a_setup_intents_3d_secure_is_the_same_challenge_page(browser, api, emulator, outcome, status):
    """Stripe.js's confirmSetup with a 3155 card: the next_action names the challenge page (with the
    SetupIntent's secret, as Stripe's does), which completes or fails the SetupIntent."""
    for return_url in (None, "https://shop.test/account"):
        params = {"payment_method": "pm_card_authenticationRequired", "confirm": True}
        if return_url:
            params["return_url"] = return_url
        intent = api.post("/v1/setup_intents", params).body
        assert intent["status"] == "requires_action"
        path = _challenge_path(emulator, intent)
        assert parse_qs(urlsplit(path).query)["setup_intent_client_secret"] == [intent["client_secret"]]
        assert browser("GET", path).status == 200 and b"Complete authentication" in browser("GET", path).body
        wrong = path.replace(intent["client_secret"], intent["id"] + "_secret_guess")
        assert browser("POST", wrong, raw_body=b"outcome=complete").status == 404
        answer = browser("POST", path, raw_body=f"outcome={outcome}".encode())
        after = api.get(f"/v1/setup_intents/{intent['id']}").body
        assert after["status"] == status
        if return_url:
            assert answer.status == 303
            assert parse_qs(urlsplit(answer.headers["location"]).query) == {
                "setup_intent": [intent["id"]], "setup_intent_client_secret": [intent["client_secret"]],
                "redirect_status": ["succeeded" if outcome == "complete" else "failed"],
            }
        else:
            assert answer.status == 200
