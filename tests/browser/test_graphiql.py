"""GraphiQL at /graphql/ in Chromium, against a real Daphne server: it loads
and renders with every request on the server's origin (offline), a `login`
then a mutation work in the same page (the CSRF token rotates at login), and a
subscription's result updates live when a signed webhook is processed."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest

from events.models import Event
from payments.models import Payment
from tests.conftest import make_event
from tests.live_server import post_webhook
from tests.payments.webhooks.test_views import intent

QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
RESPONSE = ".graphiql-response .CodeMirror"


def open_graphiql(page, server) -> None:
    with page.expect_response(lambda r: r.url == f"{server.base}/graphql/" and r.request.method == "POST") as introspection:
        page.goto(f"{server.base}/graphql/")
    assert introspection.value.status == 200
    page.wait_for_selector(QUERY_EDITOR)


def run(page, document: str, expect: str) -> str:
    """Put the document in the query editor, press run, wait for `expect` (or an error) in the result pane."""
    page.evaluate("([sel, doc]) => document.querySelector(sel).CodeMirror.setValue(doc)", [QUERY_EDITOR, document])
    # GraphiQL parses the editor's text after a debounce, then calls onEditQuery, which
    # puts it in the URL: run only then, or it would run the previous document.
    page.wait_for_function("doc => new URLSearchParams(location.search).get('q') === doc", arg=document)
    page.click(".graphiql-execute-button")
    page.wait_for_function(
        "([sel, text]) => { const v = document.querySelector(sel)?.CodeMirror.getValue() || '';"
        " return v.includes(text) || v.includes('\"errors\"'); }", arg=[RESPONSE, expect]
    )
    text = result(page)
    assert expect in text, text
    return text


def result(page) -> str:
    return page.evaluate("sel => document.querySelector(sel).CodeMirror.getValue()", RESPONSE)


def csrf_cookie(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def login(page, username: str, password: str) -> None:
    text = run(page, f'mutation {{ login(username: "{username}", password: "{password}") {{ username }} }}', f'"{username}"')
    assert '"errors"' not in text, text


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="pw-owner")


def test_graphiql_loads_and_renders_offline(start_server, page):
    server = start_server()
    open_graphiql(page, server)
    assert "Loading..." not in page.inner_text("#graphiql")
    assert page.is_visible(".graphiql-execute-button")
    assert '"__typename": "Query"' in run(page, "{ __typename }", "__typename")

    origin = urlsplit(server.base)
    foreign = [url for url in page.requested
               if not url.startswith("data:") and urlsplit(url).netloc != origin.netloc]
    assert foreign == [], f"requests that left the server's origin: {foreign}"
    assert any("/static/graphiql/graphiql/graphiql.min.js" in url for url in page.requested)


def test_login_then_a_mutation_in_the_same_page(start_server, page, owner):
    server = start_server()
    open_graphiql(page, server)
    before = csrf_cookie(page)
    login(page, "owner", "pw-owner")
    assert csrf_cookie(page) != before  # Django rotated the token: a page that read it once would get a 403 now

    text = run(page, 'mutation { createEvent(input: {title: "From GraphiQL"}) { __typename } }', "createEvent")
    assert '"__typename": "CreateEventPayload"' in text, text
    assert Event.objects.filter(user=owner, title="From GraphiQL").exists()


def test_a_subscription_result_updates_live(start_server, page, owner, catalog):
    event = Event.objects.create(user=owner, title="Dentist")
    price = catalog["basic_eur"]
    payment = Payment.objects.create(
        user=owner, price=price, tier=price.tier, amount=price.unit_amount, currency=price.currency,
        payable_type="event", payable_id=str(event.pk), stripe_payment_intent_id="pi_graphiql_1",
    )
    server = start_server()
    open_graphiql(page, server)
    login(page, "owner", "pw-owner")

    run(page, f'subscription {{ paymentStatus(paymentId: "{payment.pk}") {{ id status }} }}', '"PENDING"')
    assert post_webhook(server, make_event("payment_intent.succeeded", intent(payment, "succeeded"), created=int(time.time()))) == 200
    page.wait_for_function("sel => document.querySelector(sel).CodeMirror.getValue().includes('SUCCEEDED')", arg=RESPONSE)
    assert any(url.startswith(f"ws://127.0.0.1:{server.port}/graphql") for url in page.requested)
