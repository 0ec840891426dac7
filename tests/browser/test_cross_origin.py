"""A front end on another origin, in Chromium: a page served by a second local
HTTP server whose origin is in CORS_ALLOWED_ORIGINS logs in with
fetch(credentials: "include"), mutates with the token of the csrfToken query
(it cannot read the API's cookie), reads a CSRF refusal as JSON, and
subscribes over a WebSocket; a page on an origin not listed is refused by
CORS. Both origins are 127.0.0.1 on other ports (same site: the Vite dev
server's case), so the default SameSite=Lax cookies go along."""

from __future__ import annotations

import time

import pytest

from events.models import Event
from payments.models import Payment
from tests.conftest import make_event
from tests.live_server import post_webhook
from tests.payments.webhooks.test_views import intent

FRONT_END = """<!doctype html>
<html><head><title>front end</title></head><body><p>another origin</p>
<script>
window.csrfToken = async (api) => {
  const response = await fetch(api + "/graphql/?query=" + encodeURIComponent("{ csrfToken }"), {credentials: "include"});
  return (await response.json()).data.csrfToken;
};
window.post = async (api, query, variables, token) => {
  const response = await fetch(api + "/graphql/", {
    method: "POST", credentials: "include",
    headers: {"Content-Type": "application/json", "X-CSRFToken": token === undefined ? await csrfToken(api) : token},
    body: JSON.stringify({query, variables: variables || {}}),
  });
  return {status: response.status, body: await response.json()};
};
window.messages = [];
window.subscribe = (api, query) => new Promise((resolve, reject) => {
  const ws = new WebSocket(api.replace(/^http/, "ws") + "/graphql/", "graphql-transport-ws");
  ws.onopen = () => ws.send(JSON.stringify({type: "connection_init", payload: {}}));
  ws.onerror = () => reject(new Error("WebSocket error"));
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "connection_ack") {
      ws.send(JSON.stringify({id: "1", type: "subscribe", payload: {query}}));
      resolve("acknowledged");
    } else {
      window.messages.push(message);
    }
  };
});
window.attempt = async (promise) => {
  try { return {ok: await promise}; } catch (error) { return {error: error.name + ": " + error.message}; }
};
</script></body></html>
"""

LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { username } }"
CREATE_EVENT = 'mutation { createEvent(input: {title: "From the SPA"}) { __typename } }'


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="pw-owner")


def test_a_listed_origin_logs_in_mutates_and_subscribes(start_server, other_site, page, owner, catalog):
    event = Event.objects.create(user=owner, title="Dentist")
    price = catalog["basic_eur"]
    payment = Payment.objects.create(
        user=owner, price=price, tier=price.tier, amount=price.unit_amount, currency=price.currency,
        payable_type="event", payable_id=str(event.pk), stripe_payment_intent_id="pi_spa_1",
    )
    site = other_site(FRONT_END)
    server = start_server(CORS_ALLOWED_ORIGINS=site.origin)
    api = server.base
    page.goto(site.origin + "/")

    login = page.evaluate("([api, q, v]) => post(api, q, v)", [api, LOGIN, {"u": "owner", "p": "pw-owner"}])
    assert login == {"status": 200, "body": {"data": {"login": {"username": "owner"}}}}
    # A refusal reaches the page as JSON (CORS headers on the 403 too): the token from before login is stale.
    refused = page.evaluate("([api, q]) => post(api, q, {}, 'stale-token-from-before-login')", [api, CREATE_EVENT])
    assert refused["status"] == 403
    assert refused["body"]["errors"][0]["extensions"]["code"] == "CSRF_FAILED"
    created = page.evaluate("([api, q]) => post(api, q)", [api, CREATE_EVENT])  # a fresh csrfToken
    assert created == {"status": 200, "body": {"data": {"createEvent": {"__typename": "CreateEventPayload"}}}}
    assert Event.objects.filter(user=owner, title="From the SPA").exists()

    query = f'subscription {{ paymentStatus(paymentId: "{payment.pk}") {{ status }} }}'
    assert page.evaluate("([api, q]) => subscribe(api, q)", [api, query]) == "acknowledged"
    page.wait_for_function("() => messages.length >= 1")
    assert page.evaluate("() => messages[0]") == {"id": "1", "type": "next", "payload": {"data": {"paymentStatus": {"status": "PENDING"}}}}
    assert post_webhook(server, make_event("payment_intent.succeeded", intent(payment, "succeeded"), created=int(time.time()))) == 200
    page.wait_for_function("() => messages.length >= 2")
    assert page.evaluate("() => messages[1].payload.data.paymentStatus.status") == "SUCCEEDED"


def test_an_origin_not_listed_is_refused(start_server, other_site, page, owner):
    listed, stranger = other_site(FRONT_END), other_site(FRONT_END)
    server = start_server(CORS_ALLOWED_ORIGINS=listed.origin)
    page.goto(stranger.origin + "/")

    token = page.evaluate("api => attempt(csrfToken(api))", server.base)
    assert token["error"].startswith("TypeError"), token  # "Failed to fetch": no Access-Control-Allow-Origin for it
    login = page.evaluate("([api, q, v]) => attempt(post(api, q, v, 'x'))", [server.base, LOGIN, {"u": "owner", "p": "pw-owner"}])
    assert login["error"].startswith("TypeError"), login  # the preflight is refused: the POST is never sent
    assert not any(c["name"] == "sessionid" for c in page.context.cookies())
