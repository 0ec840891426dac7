"""GraphQL abuse limits (schema/limits.py, settings block "GraphQL limits"):
document depth, tokens, aliases and fields selected with the fragments expanded
(the class of exponential-fragment documents, over GET, POST and WebSocket);
no introspection in production; at most
GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION operations per WebSocket; a WebSocket
that never sends connection_init is closed; cross-site requests cannot use the
session cookie (HTTP: CSRF token and Origin; WebSocket: Origin); and
`manage.py check --deploy` passes with production settings.
"""

from __future__ import annotations

import ast
import json
import os
import re
import secrets
import string
import subprocess
import sys
import time
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory
from graphql import DocumentNode, GraphQLSyntaxError, OperationDefinitionNode, parse, specified_rules, validate
from strawberry.channels.testing import GraphQLWebsocketCommunicator

from config.asgi import application  # imported at collection: DEBUG is still the environment's
from config.urls import ProjectGraphQLView
from events.models import Event
from payments.models import Payment
from schema.limits import DocumentLimits, expanded_selections, limit_extensions
from schema.schema import build_schema, schema
from tests.conftest import make_event, post_event
from tests.payments.webhooks.test_views import intent

ROOT = Path(__file__).resolve().parents[2]
SAME_ORIGIN = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
STATUS = "subscription($id: ID!) { paymentStatus(paymentId: $id) { id status } }"


def post(client: Client, query: str, variables: dict | None = None, **extra):
    return client.post("/graphql/", data=json.dumps({"query": query, "variables": variables or {}}),
                       content_type="application/json", **extra)


def messages(answer: dict) -> list[str]:
    return [e["message"] for e in answer.get("errors") or []]


# ------------------------------------------------------------------ documents

CHAIN = ["payments", "edges", "node", *["refunds", "payment"] * 6]


def nested(depth: int) -> str:
    """A legitimate-looking query whose fields nest ``depth`` deep (then `id`)."""
    names = CHAIN[:depth]
    return "{ " + " { ".join(names) + " { id" + " }" * len(names) + " }"


def test_query_depth_limit(anon_gql, settings):
    limit = settings.GRAPHQL_MAX_DEPTH
    assert limit == 10 or os.environ.get("GRAPHQL_MAX_DEPTH")
    assert "errors" not in anon_gql(nested(limit))
    assert messages(anon_gql(nested(limit + 1))) == [f"'anonymous' exceeds maximum operation depth of {limit}"]
    # Named operations and fragments are followed too.
    fragment = "query Deep { ...Start } fragment Start on Query { " + nested(limit + 1)[2:-2] + " }"
    assert messages(anon_gql(fragment)) == [f"'Deep' exceeds maximum operation depth of {limit}"]


def test_token_limit(anon_gql, settings):
    limit = settings.GRAPHQL_MAX_TOKENS
    assert limit == 2000 or os.environ.get("GRAPHQL_MAX_TOKENS")
    # "name @skip(if: false)" is 8 tokens; "{ tiers {" and "} }" are 5. (The same field
    # repeated 2000 times would be refused anyway, by graphql-core's overlap budget.)
    repeats = (limit - 5) // 8
    fits = "{ tiers { " + "name @skip(if: false) " * repeats + "} }"
    assert "errors" not in anon_gql(fits) and 5 + 8 * repeats > limit - 8
    too_long = "{ tiers { " + "name @skip(if: false) " * (repeats + 1) + "} }"
    assert messages(anon_gql(too_long)) == [f"Syntax Error: Document contains more than {limit} tokens. Parsing aborted."]


def test_alias_limit(anon_gql, settings):
    limit = settings.GRAPHQL_MAX_ALIASES
    aliased = lambda n: "{ " + " ".join(f"a{i}: tiers {{ name }}" for i in range(n)) + " }"  # noqa: E731
    assert "errors" not in anon_gql(aliased(limit))
    assert messages(anon_gql(aliased(limit + 1))) == [f"{limit + 1} aliases found. Allowed: {limit}"]


def through_view(graphql_schema, query: str) -> dict:
    """POST ``query`` to the project's GraphQL view serving ``graphql_schema``, anonymously."""
    request = RequestFactory().post("/graphql/", data=json.dumps({"query": query}), content_type="application/json")
    request.user = AnonymousUser()
    return json.loads(ProjectGraphQLView.as_view(schema=graphql_schema)(request).content)


SELECTIONS_MESSAGE = "'{name}' selects {count} fields once its fragments are expanded. Allowed: {limit}"


def test_selection_limit(anon_gql, settings, catalog):
    """Up to GRAPHQL_MAX_SELECTIONS fields is answered, one more is refused (a large
    query in the shape apps write, fragments reused, is far below the limit)."""
    limit = settings.GRAPHQL_MAX_SELECTIONS
    assert limit == 1000 or os.environ.get("GRAPHQL_MAX_SELECTIONS")
    # Tier's fields in turn (one field written 1000 times would exhaust
    # graphql-core's budget for comparing overlapping fields instead).
    names = "id slug name description manifest position stripeProductId __typename".split()
    fields = lambda n: " ".join(names[i % len(names)] for i in range(n))  # noqa: E731
    at_limit = "{ tiers { " + fields(limit - 1) + " } }"
    assert expanded_selections(parse(at_limit)) == {"anonymous": limit}
    assert anon_gql(at_limit)["data"]["tiers"]
    refused = anon_gql("{ tiers { " + fields(limit) + " } }")
    assert refused["data"] is None
    assert messages(refused) == [SELECTIONS_MESSAGE.format(name="anonymous", count=limit + 1, limit=limit)]
    catalog_page = """
        query Catalog { tiers { ...TierFields prices { ...PriceFields tier { ...TierFields } } }
                        t: tier(id: "1") { ...TierFields } }
        fragment TierFields on Tier { id slug name description manifest position stripeProductId }
        fragment PriceFields on Price { id currency unitAmount type interval intervalCount active display }
    """
    assert expanded_selections(parse(catalog_page)) == {"Catalog": 1 + 7 + 1 + 8 + 1 + 7 + 1 + 7}
    answer = anon_gql(catalog_page)
    assert "errors" not in answer and answer["data"]["tiers"][0]["prices"][0]["tier"]["slug"]


def test_the_counting_expands_every_spread_and_stops_at_cycles():
    assert expanded_selections(parse("query A { a: tiers { name } ... on Query { tiers { id } } } query B { me { id } }")) == {
        "A": 4, "B": 2}
    doubling = chain(3)
    assert expanded_selections(parse(doubling)) == {"Q": 2**3}
    # Linear work: 2^150 is counted, not walked.
    assert expanded_selections(parse(chain(150))) == {"Q": 2**150}
    assert expanded_selections(parse("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }")) is None
    assert expanded_selections(parse("{ ...Missing tiers { name } }")) == {"anonymous": 2}


def test_the_limits_follow_their_settings(settings, db):
    settings.GRAPHQL_MAX_DEPTH, settings.GRAPHQL_MAX_TOKENS, settings.GRAPHQL_MAX_ALIASES = 3, 50, 1
    settings.GRAPHQL_MAX_SELECTIONS = 6
    small = build_schema(debug=True)
    assert "errors" not in through_view(small, "{ tiers { ...T } } fragment T on Tier { name slug position }")
    assert messages(through_view(small, "{ tiers { ...T ...T } } fragment T on Tier { name slug position }")) == [
        "'anonymous' selects 7 fields once its fragments are expanded. Allowed: 6"]
    assert "errors" not in through_view(small, nested(3))
    assert messages(through_view(small, nested(4))) == ["'anonymous' exceeds maximum operation depth of 3"]
    assert "more than 50 tokens" in messages(through_view(small, "{ tiers { " + "name " * 50 + "} }"))[0]
    assert messages(through_view(small, "{ a: tiers { name } b: tiers { name } }")) == ["2 aliases found. Allowed: 1"]


def _limit_rules():
    """The validation rules and token cap the live schema adds, taken from schema/limits.py itself."""
    extensions = [make() for make in limit_extensions(debug=True)]
    rules = [rule for ext in extensions for rule in getattr(ext, "validation_rules", [])]
    max_tokens = next(ext.max_token_count for ext in extensions if isinstance(ext, DocumentLimits))
    return rules, max_tokens


def _operations(text: str) -> list[DocumentNode]:
    """Each operation of a document on its own (with the document's fragments)."""
    document = parse(text)
    fragments = [d for d in document.definitions if not isinstance(d, OperationDefinitionNode)]
    return [DocumentNode(definitions=(op, *fragments)) for op in document.definitions if isinstance(op, OperationDefinitionNode)]


def _documents_in_the_tests() -> dict[str, str]:
    """Every string literal of the test suite (and the README's graphql blocks) that is a GraphQL operation."""
    found = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        try:
            tree = ast.parse(path.read_text())
        except (SyntaxError, UnicodeDecodeError):  # someone's file mid-edit
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.strip()
                if re.match(r"^(\{|query\b|mutation\b|subscription\b)", text):
                    found[f"{path.relative_to(ROOT)}:{node.lineno}"] = text
    readme = (ROOT / "README.md").read_text()
    for number, block in enumerate(re.findall(r"```graphql\n(.*?)```", readme, re.S), 1):
        found[f"README.md graphql block {number}"] = block.replace("<payment id>", "1")
    return found


def test_every_legitimate_query_of_the_readme_and_the_tests_passes_the_limits():
    rules, max_tokens = _limit_rules()
    graphql_schema = schema._schema
    checked = 0
    for where, text in _documents_in_the_tests().items():
        try:
            operations = _operations(text)
        except GraphQLSyntaxError:
            continue  # not GraphQL after all (or deliberately broken)
        for operation in operations:
            if validate(graphql_schema, operation, specified_rules):
                continue  # a deliberately invalid document of some test
            source = operation.loc.source.body if operation.loc else text
            parse(source, max_tokens=max_tokens)  # raises past the token cap
            assert validate(graphql_schema, operation, [*specified_rules, *rules]) == [], where
            checked += 1
    assert checked >= 50, f"only {checked} documents found"


def test_graphiqls_introspection_query_passes_the_limits_in_debug():
    from graphql import get_introspection_query

    query = get_introspection_query(descriptions=True, specified_by_url=True, directive_is_repeatable=True,
                                    schema_description=True, input_value_deprecation=True)
    result = build_schema(debug=True).execute_sync(query)
    assert result.errors is None and result.data["__schema"]["queryType"]["name"] == "Query"


# -------------------------------------------------------------- introspection


INTROSPECTION = ["{ __schema { queryType { name } } }", '{ __type(name: "Payment") { fields { name } } }',
                 "query { tiers { name } __schema { types { name } } }"]


@pytest.mark.parametrize("query", INTROSPECTION)
def test_introspection_is_refused_in_production_and_answered_in_debug(query, db):
    production, debug = build_schema(debug=False), build_schema(debug=True)
    refused = production.execute_sync(query)
    assert refused.data is None
    assert all("introspection has been disabled" in e.message for e in refused.errors)
    assert debug.execute_sync(query).errors is None
    # __typename is not introspection: clients (Apollo) add it everywhere.
    assert production.execute_sync("{ __typename tiers { __typename name } }").errors is None


@pytest.mark.django_db
def test_the_production_schema_through_the_view_refuses_introspection_and_serves_no_graphiql(settings):
    settings.DEBUG = False
    view = ProjectGraphQLView.as_view(schema=build_schema(debug=False))
    answer = json.loads(view(RequestFactory().get("/graphql/", {"query": "{ __schema { queryType { name } } }"})).content)
    assert answer["data"] is None and "introspection has been disabled" in answer["errors"][0]["message"]
    page = view(RequestFactory().get("/graphql/", HTTP_ACCEPT="text/html"))
    assert page.status_code in {400, 404} and b"graphiql" not in page.content.lower()


def test_the_module_schema_is_built_from_debug():
    """`schema` is the instance built at import from settings.DEBUG (true here, the environment's default)."""
    result = schema.execute_sync("{ __schema { queryType { name } } }")
    if os.environ.get("DEBUG", "true").lower() in {"0", "false", "no", "off"}:
        assert result.errors
    else:
        assert result.errors is None


# ------------------------------------------------------------------ WebSocket


# Channels' auth middleware runs database_sync_to_async, which closes "old"
# connections: the consumer tests use the transactional database.
WEBSOCKET_DB = pytest.mark.django_db(transaction=True)


def run(coroutine_function):
    return async_to_sync(coroutine_function)()


@pytest.fixture
def sale(user, catalog):
    event = Event.objects.create(user=user, title="Dentist")
    price = catalog["basic_eur"]
    return Payment.objects.create(
        user=user, price=price, tier=price.tier, amount=price.unit_amount, currency=price.currency,
        payable_type="event", payable_id=str(event.pk), stripe_payment_intent_id="pi_cap_1",
    )


def subscribe(op_id: str, payment) -> dict:
    return {"id": op_id, "type": "subscribe", "payload": {"query": STATUS, "variables": {"id": str(payment.pk)}}}


@WEBSOCKET_DB
def test_the_subscription_after_the_cap_gets_an_error_and_the_others_keep_working(settings, sale, user):
    cap = settings.GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION
    assert cap == 20 or os.environ.get("GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION")

    async def scenario():
        ws = GraphQLWebsocketCommunicator(application, "/graphql/", headers=SAME_ORIGIN)
        ws.scope["user"] = user
        async with ws:
            for n in range(1, cap + 1):
                await ws.send_json_to(subscribe(str(n), sale))
                first = await ws.receive_json_from(timeout=10)
                assert (first["id"], first["payload"]["data"]["paymentStatus"]["status"]) == (str(n), "PENDING")

            await ws.send_json_to(subscribe("one-too-many", sale))
            refused = await ws.receive_json_from(timeout=10)
            assert refused == {"id": "one-too-many", "type": "error", "payload": [{"message": "Subscription limit reached"}]}

            # The others keep working: a signed webhook's change reaches each of them.
            event = make_event("payment_intent.processing", intent(sale, "processing"), created=int(time.time()))
            assert (await sync_to_async(post_event)(Client(), event)).status_code == 200
            pushed = [await ws.receive_json_from(timeout=10) for _ in range(cap)]
            assert sorted(int(m["id"]) for m in pushed) == list(range(1, cap + 1))
            assert {m["payload"]["data"]["paymentStatus"]["status"] for m in pushed} == {"PROCESSING"}

            # The cap counts concurrent operations: one stops, one more may start.
            await ws.send_json_to({"id": "1", "type": "complete"})
            await ws.send_json_to(subscribe("after-one-stopped", sale))
            again = await ws.receive_json_from(timeout=10)
            assert again["id"] == "after-one-stopped" and again["type"] == "next"
            assert await ws.receive_nothing(timeout=0.2)

    run(scenario)


@WEBSOCKET_DB
def test_the_cap_follows_its_setting_on_the_legacy_protocol_too(settings, sale, user):
    settings.GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION = 2

    async def scenario():
        ws = WebsocketCommunicator(application, "/graphql/", headers=SAME_ORIGIN, subprotocols=["graphql-ws"])
        ws.scope["user"] = user
        assert await ws.connect() == (True, "graphql-ws")
        await ws.send_json_to({"type": "connection_init", "payload": {}})
        assert (await ws.receive_json_from(timeout=5))["type"] == "connection_ack"
        for n in ("1", "2", "3"):
            await ws.send_json_to({"id": n, "type": "start", "payload": {"query": STATUS, "variables": {"id": str(sale.pk)}}})
        answers = [await ws.receive_json_from(timeout=10) for _ in range(3)]
        by_id = {a["id"]: a for a in answers}
        assert by_id["3"] == {"id": "3", "type": "error", "payload": {"message": "Subscription limit reached"}}
        assert by_id["1"]["type"] == by_id["2"]["type"] == "data"
        await ws.disconnect()

    run(scenario)


@WEBSOCKET_DB
@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
def test_a_websocket_that_never_sends_connection_init_is_closed(settings, protocol):
    settings.GRAPHQL_CONNECTION_INIT_TIMEOUT_SECONDS = 1

    async def scenario():
        ws = WebsocketCommunicator(application, "/graphql/", headers=SAME_ORIGIN, subprotocols=[protocol])
        assert await ws.connect() == (True, protocol)
        started = time.monotonic()
        assert await ws.receive_nothing(timeout=0.7)  # open until the timeout
        closed = await ws.receive_output(timeout=5)
        assert closed["type"] == "websocket.close" and closed["code"] == 4408, closed
        assert time.monotonic() - started < 4  # about the 1 s set, not Strawberry's default minute
        await ws.disconnect()

    run(scenario)


@WEBSOCKET_DB
def test_the_init_timeout_defaults_to_five_seconds_and_spares_initialised_connections(settings):
    assert settings.GRAPHQL_CONNECTION_INIT_TIMEOUT_SECONDS == 5 or os.environ.get("GRAPHQL_CONNECTION_INIT_TIMEOUT_SECONDS")
    settings.GRAPHQL_CONNECTION_INIT_TIMEOUT_SECONDS = 0.5

    async def scenario():
        ws = GraphQLWebsocketCommunicator(application, "/graphql/", headers=SAME_ORIGIN)
        async with ws:  # connection_init, connection_ack
            assert await ws.receive_nothing(timeout=1.2)

    run(scenario)


# ------------------------------------------------- exponential fragment documents
#
# A few hundred tokens of fragments that each spread the next one several times
# expand to 2^n fields; Strawberry's depth and alias limiters walked every path
# of that expansion (2^16: 0.5 s, 2^24: minutes). Each shape must be refused at
# once, however it spells the expansion, over each transport.


def chain(n: int, *, fanout: int = 2, on: str = "Query", body: str = "{spreads}", leaf: str = "__typename",
          operation: str = "query Q {{ ...F0 }}") -> str:
    """``operation`` spreads F0; F<i> spreads F<i+1> ``fanout`` times (placed in
    ``body``, which may also name ``{i}``); F<n> selects ``leaf``."""
    fragments = [
        f"fragment F{i} on {on} {{ " + body.format(i=i, spreads=" ".join([f"...F{i + 1}"] * fanout)) + " }"
        for i in range(n)
    ]
    return " ".join([operation.format(), *fragments, f"fragment F{n} on {on} {{ {leaf} }}"])


ALIASED = 10  # aliases written (the first ALIASED fragments), under GRAPHQL_MAX_ALIASES


def _aliased_chain(n: int) -> str:
    fragments = [f"fragment F{i} on Query {{ {f'a{i}: ' if i < ALIASED else ''}__typename ...F{i + 1} ...F{i + 1} }}"
                 for i in range(n)]
    return " ".join(["query Q { ...F0 }", *fragments, f"fragment F{n} on Query {{ __typename }}"])


def _cycle_after(n: int) -> str:
    """A doubling chain of ``n`` whose last fragment spreads the first again."""
    return chain(n, leaf="...F0")


EXPONENTIAL = {
    # name: (document, what the refusal says)
    "doubling-2^24": (chain(24), SELECTIONS_MESSAGE.format(name="Q", count=2**24, limit=1000)),
    "doubling-2^64": (chain(64), SELECTIONS_MESSAGE.format(name="Q", count=2**64, limit=1000)),
    "doubling-2^150": (chain(150), SELECTIONS_MESSAGE.format(name="Q", count=2**150, limit=1000)),
    "wide-10^8": (chain(8, fanout=10), SELECTIONS_MESSAGE.format(name="Q", count=10**8, limit=1000)),
    "on-a-nested-type": (chain(24, on="Tier", leaf="name", operation="query Q {{ tiers {{ ...F0 }} }}"),
                         SELECTIONS_MESSAGE.format(name="Q", count=2**24 + 1, limit=1000)),
    "inside-nested-fields": (chain(24, on="Tier", body="prices {{ tier {{ {spreads} }} }}", leaf="name",
                                   operation="query Q {{ tiers {{ ...F0 }} }}"),
                             SELECTIONS_MESSAGE.format(name="Q", count=1 + sum(2 * 2**i for i in range(24)) + 2**24, limit=1000)),
    "inline-fragments": (chain(24, fanout=1, body="... on Query {{ {spreads} }} ... @include(if: true) {{ {spreads} }}"),
                         SELECTIONS_MESSAGE.format(name="Q", count=2**24, limit=1000)),
    "aliases-times-fragments": (_aliased_chain(24), SELECTIONS_MESSAGE.format(name="Q", count=2**25 - 1, limit=1000)),
    "cyclic-after-doubling": (_cycle_after(24), "Cannot spread fragment 'F0' within itself via "
                              + ", ".join(f"'F{i}'" for i in range(1, 25)) + "."),
    # Invalid twice over, so that a count keeping one definition per name would miss the large one.
    "operation-name-used-twice": (chain(24) + " query Q { __typename }",
                                  SELECTIONS_MESSAGE.format(name="Q", count=2**24, limit=1000)),
    "fragment-name-used-twice": (chain(24).replace("query Q { ...F0 }", "query Q { ...F0 } fragment F0 on Query { __typename }"),
                                 SELECTIONS_MESSAGE.format(name="Q", count=2**24 + 1, limit=1000)),
    "cyclic-pair": ("query Q { ...A } fragment A on Query { ...B ...B } fragment B on Query { ...A ...A }",
                    "Cannot spread fragment 'A' within itself via 'B'."),
}


def _over_http(method: str, document: str) -> dict:
    client = Client()
    if method == "GET":
        response = client.get("/graphql/", {"query": document})
    else:
        response = post(client, document)
    assert response.status_code in {200, 400}, response.content[:300]
    assert response["Content-Type"].startswith("application/"), response["Content-Type"]
    return response.json()


async def _over_websocket(document: str) -> dict:
    ws = GraphQLWebsocketCommunicator(application, "/graphql/", headers=SAME_ORIGIN)
    async with ws:
        await ws.send_json_to({"id": "attack", "type": "subscribe", "payload": {"query": document}})
        answer = await ws.receive_json_from(timeout=10)
        # graphql-transport-ws: an invalid document is an "error" message, its payload the errors.
        assert (answer["id"], answer["type"]) == ("attack", "error"), answer
        # The connection still serves: a legitimate query after the attack is answered.
        await ws.send_json_to({"id": "after", "type": "subscribe", "payload": {"query": "{ __typename }"}})
        after = await ws.receive_json_from(timeout=10)
        assert after["payload"] == {"data": {"__typename": "Query"}}, after
        return {"errors": answer["payload"]}


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("shape", EXPONENTIAL)
def test_exponential_fragment_documents_are_refused_over_http(method, shape):
    document, message = EXPONENTIAL[shape]
    assert len(document) < 12_000  # a few hundred tokens: a plain GET
    answer = _over_http(method, document)
    assert answer.get("data") is None
    assert set(messages(answer)) == {message}  # a cycle is reported at each spread that closes it


@WEBSOCKET_DB
@pytest.mark.parametrize("shape", ["doubling-2^24", "wide-10^8", "aliases-times-fragments", "cyclic-after-doubling"])
def test_exponential_fragment_documents_are_refused_over_the_websocket(shape):
    document, message = EXPONENTIAL[shape]
    assert set(messages(async_to_sync(_over_websocket)(document))) == {message}


@WEBSOCKET_DB
def test_an_exponential_subscription_is_refused_over_the_websocket():
    document = chain(24, on="SubscriptionRoot", leaf='paymentStatus(paymentId: "1") { id }',
                     operation="subscription Q {{ ...F0 }}")
    expected = SELECTIONS_MESSAGE.format(name="Q", count=2**25, limit=1000)
    assert messages(async_to_sync(_over_websocket)(document)) == [expected]


# ------------------------------------------------------------ cross-site use


async def _handshake(headers, *, cookie: str | None = None):
    headers = list(headers) + ([(b"cookie", cookie.encode())] if cookie else [])
    ws = WebsocketCommunicator(application, "/graphql/", headers=headers, subprotocols=["graphql-transport-ws"])
    accepted, _ = await ws.connect()
    return ws, accepted


@WEBSOCKET_DB
@pytest.mark.parametrize(
    ("origin", "host", "trusted", "accepted"),
    [
        pytest.param(b"http://localhost", b"localhost", [], True, id="same-origin"),
        pytest.param(b"http://127.0.0.1:8000", b"127.0.0.1:8000", [], True, id="same-origin-with-port"),
        pytest.param(b"https://evil.example", b"localhost", [], False, id="origin-not-in-ALLOWED_HOSTS"),
        pytest.param(b"null", b"localhost", [], False, id="opaque-origin"),
        pytest.param(None, b"localhost", [], True, id="no-origin-not-a-browser"),
        pytest.param(b"http://localhost:3000", b"127.0.0.1:8000", [], False, id="allowed-host-other-origin-untrusted"),
        pytest.param(b"http://localhost:3000", b"127.0.0.1:8000", ["http://localhost:3000"], True, id="front-end-in-CSRF_TRUSTED_ORIGINS"),
        pytest.param(b"https://app.example", b"localhost", ["https://app.example"], True, id="trusted-front-end-on-another-host"),
    ],
)
def test_websocket_handshake_origins(settings, origin, host, trusted, accepted):
    settings.CSRF_TRUSTED_ORIGINS = trusted
    headers = [(b"host", host)] + ([(b"origin", origin)] if origin is not None else [])

    async def scenario():
        ws, ok = await _handshake(headers)
        assert ok is accepted
        if ok:
            await ws.disconnect()

    run(scenario)


@WEBSOCKET_DB
def test_a_page_on_another_site_cannot_use_the_session_cookie_over_the_websocket(user):
    browser = Client()
    browser.force_login(user)
    cookie = f"sessionid={browser.cookies['sessionid'].value}"

    async def scenario():
        # The control: from our own origin the cookie authenticates the socket.
        ws, ok = await _handshake(SAME_ORIGIN, cookie=cookie)
        assert ok
        await ws.send_json_to({"type": "connection_init", "payload": {}})
        assert (await ws.receive_json_from(timeout=5))["type"] == "connection_ack"
        await ws.send_json_to({"id": "me", "type": "subscribe", "payload": {"query": "{ me { username } }"}})
        assert (await ws.receive_json_from(timeout=5))["payload"]["data"] == {"me": {"username": user.username}}
        await ws.disconnect()
        # A page on another site, the same cookie sent along by the browser: refused at the handshake.
        ws, ok = await _handshake([(b"origin", b"https://evil.example"), (b"host", b"localhost")], cookie=cookie)
        assert not ok

    run(scenario)


CREATE_EVENT = 'mutation { createEvent(input: {title: "Planted"}) { __typename } }'


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("with_token", "origin", "status"),
    [
        pytest.param(False, "https://evil.example", 403, id="cross-origin-no-token"),
        pytest.param(False, None, 403, id="no-origin-no-token"),
        pytest.param(True, "https://evil.example", 403, id="cross-origin-with-a-token"),
        pytest.param(True, "http://testserver", 200, id="control-same-origin-with-token"),
    ],
)
def test_cookie_authenticated_mutation_from_another_site_is_refused(user, with_token, origin, status):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    browser.get("/graphql/", HTTP_ACCEPT="text/html")  # hands out the csrftoken cookie
    extra = {}
    if with_token:
        extra["HTTP_X_CSRFTOKEN"] = browser.cookies["csrftoken"].value
    if origin:
        extra["HTTP_ORIGIN"] = origin
    response = post(browser, CREATE_EVENT, **extra)
    assert response.status_code == status
    assert Event.objects.filter(title="Planted").count() == (1 if status == 200 else 0)


@pytest.mark.django_db
def test_a_mutation_cannot_ride_on_a_get(user):
    """An <img src="/graphql/?query=mutation..."> on another site: not executed."""
    browser = Client()
    browser.force_login(user)
    response = browser.get("/graphql/", {"query": CREATE_EVENT})
    assert response.status_code == 400
    assert not Event.objects.exists()


# ------------------------------------------------------------- check --deploy


CHECK = """
import django
django.setup()
from django.core.management import call_command
call_command("check", "--deploy", "--fail-level", "WARNING")
from django.test import Client
client = Client(HTTP_HOST="example.com")
plain = client.get("/graphql/")
print("http:", plain.status_code, plain.get("Location"))
secure = client.get("/graphql/", {"query": "{ __schema { queryType { name } } }"}, secure=True)
print("https:", secure.status_code, secure.get("Strict-Transport-Security"))
print("introspection:", secure.content.decode())
print("healthz-exempt:", client.get("/healthz").status_code != 301)
proxied = client.get("/graphql/", HTTP_X_FORWARDED_PROTO="https")
print("proxied:", proxied.status_code)
"""


def _production_env(**overrides) -> dict:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("STRIPE_", "SECURE_", "GRAPHQL_", "CSRF_", "SESSION_", "PAYMENTS_"))
            and k not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"}}
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    keep.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(64)),
        STRIPE_SECRET_KEY="sk_test_x",
        STRIPE_WEBHOOK_SECRET="whsec_x",
        ALLOWED_HOSTS="example.com",
        LOG_LEVEL="CRITICAL",
    )
    keep.update(overrides)
    return {k: v for k, v in keep.items() if v is not None}


def _check(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_passes_with_production_settings():
    done = _check(_production_env())
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "http: 301 https://example.com/graphql/" in out  # SECURE_SSL_REDIRECT
    assert "https: " in out and "max-age=31536000; includeSubDomains" in out  # HSTS
    assert "introspection has been disabled" in out  # the module schema follows DEBUG
    assert "healthz-exempt: True" in out
    assert "proxied: 301" in out  # no SECURE_PROXY_SSL_HEADER: X-Forwarded-Proto is not believed


def test_behind_a_proxy_its_header_says_https():
    done = _check(_production_env(SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "proxied: 301" not in done.stdout and "proxied:" in done.stdout


def test_check_deploy_fails_on_the_development_secret_key():
    done = _check(_production_env(SECRET_KEY=None))
    assert done.returncode != 0
    assert "payments.E001" in done.stderr, done.stderr


# ------------------------------------------------------------- bad requests
#
# Refused before any GraphQL runs, in the GraphQL-over-HTTP error shape with a
# 4xx status: never a 500, Django's HTML error page, or "Unexpected error.".

SUBSCRIPTION = 'subscription { paymentStatus(paymentId: "1") { id } }'


def _refusal(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": code}
    return error["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_subscription_over_http_is_told_to_use_the_websocket(method):
    client = Client()
    response = client.get("/graphql/", {"query": SUBSCRIPTION}) if method == "GET" else post(client, SUBSCRIPTION)
    assert "need a WebSocket" in _refusal(response, 400, "SUBSCRIPTION_NEEDS_WEBSOCKET")


def _nested_variables(depth: int) -> str:
    return '{"query": "{ __typename }", "variables": ' + '{"a": ' * depth + "1" + "}" * depth + "}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [pytest.param("[" * 100_000, id="100k-nested-arrays"), pytest.param(_nested_variables(10_000), id="variables-10k-deep")],
)
def test_a_body_nested_too_deeply_is_a_json_400(body):
    response = Client().post("/graphql/", data=body, content_type="application/json")
    assert _refusal(response, 400, "BAD_REQUEST") == "The request body is nested too deeply."


@pytest.mark.django_db
def test_nested_variables_in_a_get_are_a_json_400():
    variables = '{"a": ' * 10_000 + "1" + "}" * 10_000
    response = Client().get("/graphql/", {"query": "{ __typename }", "variables": variables})
    assert _refusal(response, 400, "BAD_REQUEST") == "The request body is nested too deeply."


@pytest.mark.django_db
def test_a_body_over_data_upload_max_memory_size_is_a_json_413(settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE < 20_000_000  # Django's 2.5 MB
    body = json.dumps({"query": "{ __typename }", "variables": {"x": "a" * 20_000_000}})
    response = Client().post("/graphql/", data=body, content_type="application/json")
    _refusal(response, 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.django_db
def test_a_body_that_is_not_json_is_a_json_400():
    response = Client().post("/graphql/", data="{", content_type="application/json")
    assert _refusal(response, 400, "BAD_REQUEST") == "Unable to parse request body as JSON"


# --------------------------------------------------- no schema hints in production

MISSPELT = [
    pytest.param("{ paymnt(id: 1) { id } }", None, "Cannot query field 'paymnt' on type 'Query'.", id="field"),
    pytest.param("{ payment(idd: 1) { id } }", None, "Unknown argument 'idd' on field 'Query.payment'.", id="argument"),
    pytest.param("query($x: Strin) { tiers { name } }", None, "Unknown type 'Strin'.", id="type"),
    pytest.param("{ payments(status: PENDNG) { edges { node { id } } } }", None,
                 "Value 'PENDNG' does not exist in 'PaymentStatus' enum.", id="enum-value"),
    pytest.param('mutation { createEvent(input: {titl: "x"}) { __typename } }', None,
                 "Expected value of type 'CreateEventInput' not to include unknown field 'titl'. Found: { titl: \"x\" }.",
                 id="input-field"),
    pytest.param("query($s: PaymentStatus) { payments(status: $s) { edges { node { id } } } }", {"s": "PENDNG"},
                 "Variable '$s' has invalid value: Value 'PENDNG' does not exist in 'PaymentStatus' enum.",
                 id="enum-value-in-variables"),
    pytest.param("mutation($p: CreateEventInput!) { createEvent(input: $p) { __typename } }", {"p": {"titl": "x"}},
                 "Variable '$p' has invalid value: Expected value of type 'CreateEventInput' not to include unknown "
                 "field 'titl'. Found: {'titl': 'x'}.", id="input-field-in-variables"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "variables", "message"), MISSPELT)
def test_without_introspection_errors_suggest_no_names(query, variables, message):
    production = build_schema(debug=False).execute_sync(query, variable_values=variables)
    said = [e.message for e in production.errors]
    assert message in said and not any("Did you mean" in m for m in said), said
    # The control: in debug (introspection on) graphql-core's suggestion is there.
    debug = build_schema(debug=True).execute_sync(query, variable_values=variables)
    assert any("Did you mean" in e.message for e in debug.errors)


@pytest.mark.django_db
def test_the_production_view_suggests_no_names(settings):
    settings.DEBUG = False
    view = ProjectGraphQLView.as_view(schema=build_schema(debug=False))
    answer = json.loads(view(RequestFactory().get("/graphql/", {"query": "{ paymnt(id: 1) { id } }"})).content)
    assert messages(answer) == ["Cannot query field 'paymnt' on type 'Query'."]
