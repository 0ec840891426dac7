"""Hostile webhooks: more than 10,000 generated requests against the real endpoint
(/api/payments/webhook/, through Django's test Client, in-process).

Every request: no 5xx. Every request that is not validly signed (or is too
large): 400 (413 for a body over PAYMENTS_WEBHOOK_MAX_BYTES, answered before
the body is parsed), no write statement reached the database and no row
changed in any table of the payments and events apps; a seeded PENDING payment,
which the undamaged event below would make SUCCEEDED, keeps its state.

The positive controls prove the undamaged event is accepted and applied, so a
refusal above means the damage was seen. The validly signed families are at
the end, each asserting what the product does: the undamaged event under odd
Content-Types is processed (200; the signature over the raw body is what is
checked, never the Content-Type); events of unknown types are stored and
ignored (200); events of handled types with objects of the wrong shape are
never a 5xx (a 5xx makes Stripe retry for days): stored, and answered 400
``invalid`` (recorded as failed, replayable) when their object cannot be read.
Validly signed events about one of our own payments with one malformed field
(OURS_CASES) must be < 500 too, and a text holding a literal backslash-u0000
is no NUL (test_a_literal_backslash_u0000_is_not_a_nul); a real NUL character
cannot be stored and is refused before parsing (400).

The run prints the number of requests and the status histogram at the end of
the session (tests/reliability/conftest.py).
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import itertools
import json
import logging
import string
import time
import uuid
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments import gateway
from payments.models import Payment, PaymentStatus, WebhookEvent
from payments.webhooks import views as webhook_views
from payments.webhooks.processing import HANDLERS
from tests.conftest import WEBHOOK_PATH, make_event
from tests.payments.webhooks.test_views import intent

MAX_BYTES = 4096
SEED_PK = uuid.UUID("00000000-0000-4000-8000-00000000beef")
SEED_PI = "pi_hostile_seed"
SECRET = django_settings.DEVELOPMENT_WEBHOOK_SECRET  # the emulator fixture's secret

# Examples per generated family; their sum is the number of hostile requests.
BUDGET = {
    "random_bytes": 2000,
    "truncated_json": 1500,
    "json_not_an_event": 2000,
    "signature_header": 2500,
    "secret_and_timestamps": 2000,
    "content_types": 1000,
    "oversize": 1000,
}
assert sum(BUDGET.values()) >= 10_000

# (family, status) -> requests; read by tests/reliability/conftest.py for the summary.
STATS: collections.Counter = collections.Counter()
DURATION: dict[str, float] = {}

HYPOTHESIS = dict(
    deadline=None,
    database=None,  # nothing written into the checkout
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one endpoint (and seeded payment) per family, by design
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


def family(name: str):
    return settings(max_examples=BUDGET[name], **HYPOTHESIS)


# ----------------------------------------------------------- the real event


def _seed_intent(status: str = "succeeded") -> dict:
    stand_in = SimpleNamespace(pk=SEED_PK, stripe_payment_intent_id=SEED_PI, amount=2999, currency="eur")
    return intent(stand_in, status, latest_charge=None)


def _real_event() -> dict:
    return make_event("payment_intent.succeeded", _seed_intent(), event_id="evt_hostile_real")


REAL_EVENT = _real_event()
REAL_BODY = json.dumps(REAL_EVENT).encode()
assert len(REAL_BODY) < MAX_BYTES


def v1(payload: bytes | str, timestamp: int | str, secret: str = SECRET) -> str:
    """Stripe's v1 scheme, written out here rather than taken from the library under test."""
    raw = payload if isinstance(payload, bytes) else payload.encode()
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()


def valid_header(payload: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={v1(payload, timestamp)}"


# ---------------------------------------------------------------- endpoint


class Endpoint:
    """Sends one request and checks it against the invariants."""

    def __init__(self, payment: Payment, parsed: list):
        self.client = Client(raise_request_exception=False)
        self.payment = payment
        self.parsed = parsed
        self.models = [*apps.get_app_config("payments").get_models(), *apps.get_app_config("events").get_models()]
        # One round trip: the row count of every table of both apps, and the seeded payment's state.
        quote, meta = connection.ops.quote_name, Payment._meta
        seeded = ", ".join(
            f"(SELECT {quote(meta.get_field(name).column)} FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} = %s)"
            for name in ("status", "amount_refunded", "updated_at")
        )
        counts = ", ".join(f"(SELECT COUNT(*) FROM {quote(model._meta.db_table)})" for model in self.models)
        self.sql = f"SELECT {counts}, {seeded}"
        self.params = [meta.pk.get_db_prep_value(payment.pk, connection)] * 3
        self.unchanged: tuple | None = None  # the rows after the last hostile request (which changed nothing)

    def rows(self) -> tuple:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            row = cursor.fetchone()
        counts, seeded = tuple(row[: len(self.models)]), tuple(row[len(self.models):])
        assert seeded[0] is not None, "the seeded payment is gone"
        return counts, seeded

    def post(self, body: bytes, signature: str | None, **kwargs):
        self.unchanged = None
        return self._send(body, signature, **kwargs)

    def _send(self, body: bytes, signature: str | None, *, content_type: str = "application/json", method: str = "POST", **extra):
        if signature is not None:
            extra["HTTP_STRIPE_SIGNATURE"] = signature
        return self.client.generic(method, WEBHOOK_PATH, body, content_type=content_type, **extra)

    def hostile(self, name: str, body: bytes, signature: str | None, *, expect: int = 400, **kwargs):
        """A request that must be refused with ``expect`` and change nothing at all."""
        before, parsed_before = self.unchanged or self.rows(), len(self.parsed)
        with CaptureQueriesContext(connection) as queries:
            response = self._send(body, signature, **kwargs)
        STATS[(name, response.status_code)] += 1
        assert response.status_code < 500, (name, body[:200], signature, response.content[:500])
        assert response.status_code == expect, (name, body[:200], signature, response.status_code, response.content[:300])
        writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "REPLACE"))]
        assert writes == [], writes
        self.unchanged = self.rows()
        assert self.unchanged == before
        if expect == 413:
            assert len(self.parsed) == parsed_before, "a body over the limit was parsed"
        assert b"Traceback" not in response.content
        return response


@pytest.fixture
def endpoint(settings, user, catalog, monkeypatch):
    settings.PAYMENTS_WEBHOOK_MAX_BYTES = MAX_BYTES
    price = catalog["full_eur"]
    payment = Payment.objects.create(
        id=SEED_PK, user=user, price=price, tier=price.tier, amount=price.unit_amount, currency=price.currency,
        stripe_payment_intent_id=SEED_PI,
    )
    parsed: list = []
    real_parse = gateway.parse_webhook

    def spy(payload, signature_header):
        parsed.append(len(payload))
        return real_parse(payload, signature_header)

    monkeypatch.setattr(gateway, "parse_webhook", spy)
    if hasattr(webhook_views, "parse_webhook"):  # in case the view imports the name itself
        monkeypatch.setattr(webhook_views, "parse_webhook", spy)
    quiet = {name: logging.getLogger(name) for name in ("payments.webhooks", "django.request", "payments")}
    levels = {name: logger.level for name, logger in quiet.items()}
    for logger in quiet.values():
        logger.setLevel(logging.CRITICAL)
    yield Endpoint(payment, parsed)
    for name, logger in quiet.items():
        logger.setLevel(levels[name])


@pytest.fixture
def timed(request):
    started = time.monotonic()
    yield
    DURATION[request.node.name] = time.monotonic() - started


# -------------------------------------------------------------- strategies

HEX = "0123456789abcdef"
LATIN1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters=",")
now = lambda: int(time.time())  # noqa: E731
hex_digest = st.text(HEX, min_size=64, max_size=64)
garbage = st.text(LATIN1, max_size=80)


def wrong_secret() -> st.SearchStrategy[str]:
    return st.text(string.ascii_letters + string.digits + "_", min_size=1, max_size=40).map(lambda s: "whsec_" + s).filter(
        lambda s: s != SECRET
    )


@st.composite
def any_header(draw, body: bytes) -> str | None:
    """Missing, garbage, or well-formed with a random signature; never a valid one for ``body``."""
    kind = draw(st.sampled_from(["missing", "empty", "garbage", "random_v1", "wrong_secret", "stale"]))
    t = now()
    if kind == "missing":
        return None
    if kind == "empty":
        return ""
    if kind == "garbage":
        return draw(garbage)
    if kind == "random_v1":
        return f"t={t},v1={draw(hex_digest)}"
    if kind == "wrong_secret":
        return f"t={t},v1={v1(body, t, draw(wrong_secret()))}"
    return valid_header(body, t - 301 - draw(st.integers(0, 10**6)))


def signed_or_not(body: bytes):
    """Half the time validly signed (the body must then be refused for what it is)."""
    return st.one_of(any_header(body), st.builds(lambda: valid_header(body)))


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
JSON = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
NOT_AN_OBJECT = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20), st.lists(JSON_SCALARS, max_size=3))
NOT_AN_INT = st.one_of(st.none(), st.just([]), st.just({}), st.text(string.ascii_letters, min_size=1, max_size=10), st.just(""))


def _break(event: dict, how: str, value) -> None:
    if how.startswith("drop:"):
        event.pop(how.removeprefix("drop:"), None)
    elif how == "object_not_event":
        event["object"] = value if value != "event" else "evt"
    elif how == "data_not_object":
        event["data"] = value
    elif how == "data_object_not_object":
        event["data"] = {"object": value}
    elif how == "created_not_int":
        event["created"] = value


BREAKAGES = ["drop:id", "drop:type", "drop:created", "drop:data", "drop:object", "object_not_event",
             "data_not_object", "data_object_not_object", "created_not_int"]


@st.composite
def broken_event(draw) -> dict:
    event = json.loads(REAL_BODY)
    for how in draw(st.lists(st.sampled_from(BREAKAGES), min_size=1, max_size=3, unique=True)):
        value = draw(NOT_AN_INT if how == "created_not_int" else NOT_AN_OBJECT)
        _break(event, how, value)
    return event


def not_an_event():
    top_level_not_object = st.one_of(JSON_SCALARS, st.lists(JSON, max_size=5))
    some_object = st.dictionaries(st.text(max_size=10), JSON, max_size=6).filter(lambda d: d.get("object") != "event")
    return st.one_of(top_level_not_object, some_object, broken_event())


# -------------------------------------------------------- the hostile families


@family("random_bytes")
@given(data=st.data())
def test_random_bytes_bodies(endpoint, timed, data):
    body = data.draw(st.one_of(st.binary(max_size=2000), st.text(max_size=600).map(lambda s: s.encode("utf-8", "surrogatepass"))))
    endpoint.hostile("random_bytes", body, data.draw(signed_or_not(body)))


@family("truncated_json")
@given(cut=st.integers(0, len(REAL_BODY) - 1), sig=st.sampled_from(["of_whole", "of_truncated", "missing"]),
       tail=st.sampled_from([b"", b"}", b"]}", b"\x00", b"\xff"]))
def test_truncated_json_of_a_real_signed_event(endpoint, timed, cut, sig, tail):
    """Signed as it is, a body is only a strict prefix (never valid JSON, whatever
    the event's key order); with a tail, only the whole body's signature or none."""
    if sig == "of_truncated":
        body = REAL_BODY[:cut]
        header = valid_header(body)
    else:
        body = REAL_BODY[:cut] + tail
        header = valid_header(REAL_BODY) if sig == "of_whole" else None
        if body == REAL_BODY:
            body = body[:-1]
    endpoint.hostile("truncated_json", body, header)


@family("json_not_an_event")
@given(data=st.data())
def test_valid_json_that_is_not_an_event(endpoint, timed, data):
    value = data.draw(not_an_event())
    body = json.dumps(value).encode()
    if len(body) >= MAX_BYTES:
        body = b"[]"
    endpoint.hostile("json_not_an_event", body, data.draw(signed_or_not(body)))


@st.composite
def bad_signature_header(draw) -> str | None:
    """A Stripe-Signature for REAL_BODY that must not verify."""
    t = now()
    good = v1(REAL_BODY, t)
    wrong = lambda: v1(REAL_BODY, t, draw(wrong_secret()))  # noqa: E731
    kind = draw(st.sampled_from([
        "missing", "empty", "garbage", "t_only", "v1_only", "no_t_with_v1", "wrong_v1", "several_wrong_v1",
        "good_under_other_scheme", "scheme_case_or_space", "stale_t_first", "t_not_integer",
        "good_for_other_t", "uppercased", "shortened_or_extended", "other_separators", "garbage_parts",
    ]))
    if kind == "missing":
        return None
    if kind == "empty":
        return draw(st.sampled_from(["", " ", ",", "=", "t=", "v1=", "t=,v1="]))
    if kind == "garbage":
        return draw(garbage)
    if kind == "t_only":
        return f"t={t}"
    if kind == "v1_only":
        return f"v1={good}"
    if kind == "no_t_with_v1":
        return f"{draw(st.sampled_from(['x', 'ts', 'T', 'time']))}={t},v1={good}"
    if kind == "wrong_v1":
        return f"t={t},v1={draw(hex_digest)}"
    if kind == "several_wrong_v1":
        sigs = draw(st.lists(st.one_of(hex_digest, st.builds(wrong)), min_size=2, max_size=6))
        return f"t={t}," + ",".join(f"v1={s}" for s in sigs)
    if kind == "good_under_other_scheme":
        scheme = draw(st.sampled_from(["v0", "v2", "v1x", "s1", "sha256"]))
        return f"t={t},{scheme}={good}"
    if kind == "scheme_case_or_space":
        key = draw(st.sampled_from(["V1", " v1", "v1 ", "\tv1"]))
        return f"t={t},{key}={good}"
    if kind == "stale_t_first":
        stale = t - 301 - draw(st.integers(0, 10**7))
        return f"t={stale},t={t},v1={good}"
    if kind == "t_not_integer":
        bad_t = draw(st.sampled_from([f"{t}.0", f"{t}x", "abc", "", "1e9", "0x10", "∞"]))
        return f"t={bad_t},v1={good}"
    if kind == "good_for_other_t":
        other = t + draw(st.integers(1, 10**6)) * draw(st.sampled_from([1, -1]))
        return f"t={other},v1={good}"
    if kind == "uppercased":
        return f"t={t},v1={good.upper()}"
    if kind == "shortened_or_extended":
        return f"t={t},v1=" + draw(st.sampled_from([good[:-1], good + "0", good[1:], "", good[:32]]))
    if kind == "other_separators":
        return draw(st.sampled_from([f"t={t};v1={good}", f"t:{t},v1:{good}", f"t={t} v1={good}", f"t={t}\nv1={good}"]))
    parts = draw(st.lists(st.one_of(garbage, st.builds(lambda s: f"v0={s}", hex_digest), st.builds(lambda s: f"v1={s}", hex_digest)), max_size=5))
    return ",".join([f"t={t}", *parts])


@family("signature_header")
@given(header=bad_signature_header())
def test_wrong_missing_or_repeated_signature_parts(endpoint, timed, header):
    endpoint.hostile("signature_header", REAL_BODY, header)


@family("secret_and_timestamps")
@given(data=st.data())
def test_wrong_secret_stale_and_future_timestamps(endpoint, timed, data):
    t = now()
    kind = data.draw(st.sampled_from(["wrong_secret", "stale", "future_wrong_secret", "future_t_current_signature", "tampered"]))
    body = REAL_BODY
    if kind == "wrong_secret":
        header = f"t={t},v1={v1(body, t, data.draw(wrong_secret()))}"
    elif kind == "stale":
        stale = t - 301 - data.draw(st.integers(0, 10**9))
        header = valid_header(body, stale)
    elif kind == "future_wrong_secret":
        future = t + data.draw(st.integers(1, 10**9))
        header = f"t={future},v1={v1(body, future, data.draw(wrong_secret()))}"
    elif kind == "future_t_current_signature":
        header = f"t={t + data.draw(st.integers(301, 10**9))},v1={v1(body, t)}"
    else:  # validly signed, then one byte changed on the way
        header = valid_header(body)
        at = data.draw(st.integers(0, len(body) - 1))
        replacement = data.draw(st.integers(0, 255).filter(lambda b: b != body[at]))
        body = body[:at] + bytes([replacement]) + body[at + 1:]
    endpoint.hostile("secret_and_timestamps", body, header)


CONTENT_TYPES = st.one_of(
    st.sampled_from([
        "", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=BoUnDaRy",
        "application/xml", "application/json; charset=latin-1", "application/json; charset=nonsense",
        "application/octet-stream", "*/*", "application/graphql", "text/html; charset=utf-8",
    ]),
    st.text(LATIN1, max_size=60),
)


@family("content_types")
@given(data=st.data())
def test_wrong_content_types(endpoint, timed, data):
    kind = data.draw(st.sampled_from(["event_bad_signature", "form", "multipart"]))
    if kind == "event_bad_signature":
        body = REAL_BODY
        header = data.draw(bad_signature_header())
    elif kind == "form":  # the event's fields as a form
        fields = {"id": "evt_form", "object": "event", "type": "payment_intent.succeeded", "created": str(now()),
                  **data.draw(st.dictionaries(st.text(string.ascii_letters, min_size=1, max_size=8), st.text(max_size=20), max_size=4))}
        body = urlencode(fields).encode()
        header = data.draw(signed_or_not(body))
    else:
        body = b'--BoUnDaRy\r\nContent-Disposition: form-data; name="payload"\r\n\r\n' + REAL_BODY + b"\r\n--BoUnDaRy--\r\n"
        header = data.draw(st.one_of(st.just(valid_header(REAL_BODY)), bad_signature_header(), st.builds(lambda: valid_header(body))))
    endpoint.hostile("content_types", body, header, content_type=data.draw(CONTENT_TYPES))


@family("oversize")
@given(data=st.data())
def test_bodies_over_the_limit_get_413_before_parsing(endpoint, timed, data):
    kind = data.draw(st.sampled_from(["padded_signed_event", "random_bytes", "declared_length"]))
    if kind == "padded_signed_event":  # validly signed and otherwise acceptable: the size alone refuses it
        padding = data.draw(st.integers(MAX_BYTES - len(REAL_BODY) + 1, 3 * MAX_BYTES))
        body = REAL_BODY[:-1] + b" " * padding + b"}"
        endpoint.hostile("oversize", body, valid_header(body), expect=413)
    elif kind == "random_bytes":
        size = data.draw(st.integers(MAX_BYTES + 1, 3 * MAX_BYTES))
        seed = data.draw(st.binary(min_size=1, max_size=64))
        body = (seed * (size // len(seed) + 1))[:size]
        endpoint.hostile("oversize", body, data.draw(signed_or_not(body)), expect=413)
    else:  # a small body announced as a large one
        declared = data.draw(st.integers(MAX_BYTES + 1, 10**12))
        endpoint.hostile("oversize", REAL_BODY, valid_header(REAL_BODY), expect=413, CONTENT_LENGTH=str(declared))


def test_the_hostile_run_reached_ten_thousand_requests():
    """Runs after the families (pytest-django runs tests without the database
    last): the count the summary prints."""
    ran = {name for name, _ in STATS if name in BUDGET}
    if ran != set(BUDGET):
        pytest.skip(f"only {sorted(ran)} of the hostile families ran")
    assert sum(count for (name, _), count in STATS.items() if name in BUDGET) >= 10_000, STATS


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def test_other_methods_are_refused(endpoint, method):
    before = endpoint.rows()
    response = endpoint.post(REAL_BODY, valid_header(REAL_BODY), method=method)
    assert response.status_code == 405
    assert endpoint.rows() == before


# -------------------------------------------------------- positive controls


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(lambda: valid_header(REAL_BODY), id="as-stripe-signs-it"),
        pytest.param(lambda: f"t={now()},v1={'0' * 64},v1={v1(REAL_BODY, now())},v0={'f' * 64}", id="rotated-secret-several-v1-one-good"),
        pytest.param(lambda: f"v0={'f' * 64},t={now()},v1={v1(REAL_BODY, now())}", id="other-scheme-first"),
        pytest.param(lambda: valid_header(REAL_BODY, now() - 290), id="290s-old"),  # inside the 300 s tolerance, with room for a slow machine
    ],
)
def test_positive_control_the_undamaged_event_is_applied(endpoint, header):
    """Without this the refusals above could mean the endpoint refuses everything
    (or that the row fingerprint could not see a change)."""
    before = endpoint.rows()
    response = endpoint.post(REAL_BODY, header())
    assert response.status_code == 200, response.content
    endpoint.payment.refresh_from_db()
    assert endpoint.payment.status == PaymentStatus.SUCCEEDED
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    after = endpoint.rows()
    assert after[0] != before[0] and after[1][0] != before[1][0]


def test_the_content_type_is_not_what_is_checked(endpoint):
    response = endpoint.post(REAL_BODY, valid_header(REAL_BODY), content_type="text/plain")
    assert response.status_code == 200


def test_a_validly_made_signature_dated_far_in_the_future_is_refused(endpoint):
    """stripe-python refuses only stale timestamps; parse_webhook also refuses ones ahead of our clock."""
    response = endpoint.post(REAL_BODY, valid_header(REAL_BODY, now() + 24 * 3600))
    assert response.status_code == 400


# ------------------------------------------- validly signed, semantically odd

_event_ids = itertools.count(1)
HANDLED = sorted(HANDLERS)
SAFE_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30)
SAFE_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | SAFE_TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(SAFE_TEXT, children, max_size=3),
    max_leaves=10,
)
STRIPE_KEYS = ["id", "object", "status", "amount", "currency", "payment_intent", "customer", "metadata", "created",
               "items", "lines", "parent", "payments", "latest_invoice", "charge", "refunds", "mode", "subscription",
               "client_reference_id", "payment_status", "amount_due", "amount_paid", "last_payment_error", "reason"]
ODD_OBJECT = st.dictionaries(st.sampled_from(STRIPE_KEYS) | SAFE_TEXT, SAFE_JSON, max_size=8)


def signed_event(event_type: str, obj, **envelope) -> bytes:
    event = make_event(event_type, obj, event_id=f"evt_odd_{next(_event_ids):08d}")
    event.update(envelope)
    return json.dumps(event).encode()


def _other_rows(endpoint: Endpoint) -> tuple:
    counts, seeded = endpoint.rows()
    return tuple(c for model, c in zip(endpoint.models, counts) if model is not WebhookEvent), seeded


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _refused_for_a_nul(body: bytes, response) -> bool:
    """A text holding a NUL character cannot be stored (PostgreSQL's jsonb refuses
    it): such an event is refused before parsing, 400, nothing stored. Any other
    refusal of a validly signed event is a failure."""
    refused = response.status_code == 400 and "outcome" not in response.json()
    return refused and _holds_nul(json.loads(body))


@settings(max_examples=300, **HYPOTHESIS)
@given(event_type=st.text(string.ascii_lowercase + "._", min_size=1, max_size=60).filter(lambda t: t not in HANDLED), obj=ODD_OBJECT)
def test_signed_events_of_unknown_types_are_stored_and_ignored(endpoint, event_type, obj):
    before, events_before = _other_rows(endpoint), WebhookEvent.objects.count()
    body = signed_event(event_type, obj)
    response = endpoint.post(body, valid_header(body))
    STATS[("signed_unknown_type", response.status_code)] += 1
    if _refused_for_a_nul(body, response):
        assert WebhookEvent.objects.count() == events_before and _other_rows(endpoint) == before
        return
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "ignored"
    assert WebhookEvent.objects.count() == events_before + 1
    assert _other_rows(endpoint) == before


@settings(max_examples=400, **HYPOTHESIS)
@given(event_type=st.sampled_from(HANDLED), obj=ODD_OBJECT)
def test_signed_events_with_malformed_objects_are_contained(endpoint, event_type, obj):
    """Whatever the handler makes of a malformed object: never a 5xx (Stripe would
    retry it for days; the input is the problem), the event is stored, and
    nothing but the event row is written."""
    before, events_before = _other_rows(endpoint), WebhookEvent.objects.count()
    body = signed_event(event_type, obj)
    response = endpoint.post(body, valid_header(body))
    STATS[("signed_malformed_object", response.status_code)] += 1
    assert response.status_code < 500, (event_type, obj, response.status_code, response.content)
    assert response.status_code in {200, 400}, response.content
    assert _other_rows(endpoint) == before
    if _refused_for_a_nul(body, response):
        assert WebhookEvent.objects.count() == events_before
        return
    record = WebhookEvent.objects.get(stripe_event_id=json.loads(body)["id"])  # stored, whatever came of it
    assert WebhookEvent.objects.count() == events_before + 1
    if response.status_code == 400:  # an object we cannot read: recorded as failed, replayable
        assert response.json()["outcome"] == "invalid"
        assert record.status == WebhookEvent.Status.FAILED and "Traceback" in record.last_error
    else:
        assert record.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED)


def _intent_without(*keys: str) -> dict:
    obj = _seed_intent()
    obj["id"] = "pi_not_ours"
    obj["metadata"] = {}
    for key in keys:
        obj.pop(key)
    return obj



ODD_CASES = [
    # (id, event type, object, envelope overrides)
    # Objects of the wrong shape, envelope values our columns cannot hold:
    ("payment_intent.succeeded-without-amount", "payment_intent.succeeded", _intent_without("amount"), {}),
    ("payment_intent.succeeded-empty-object", "payment_intent.succeeded", {}, {}),
    ("payment_intent.succeeded-amount-not-a-number", "payment_intent.succeeded", {**_intent_without(), "amount": "lots"}, {}),
    ("payment_intent.payment_failed-without-status", "payment_intent.payment_failed", _intent_without("status"), {}),
    ("refund.created-empty-object", "refund.created", {}, {}),
    ("charge.refunded-payment_intent-a-list", "charge.refunded", {"id": "ch_1", "payment_intent": ["pi_x"]}, {}),
    ("customer.subscription.created-empty-object", "customer.subscription.created", {}, {}),
    ("invoice.paid-empty-object", "invoice.paid", {}, {}),
    ("invoice.paid-parent-a-string", "invoice.paid", {"id": "in_1", "currency": "eur", "created": 1, "parent": "x"}, {}),
    ("checkout.session.completed-empty-object", "checkout.session.completed", {}, {}),
    ("created-a-huge-number", "unknown.type", {}, {"created": 10**20}),
    ("created-far-negative", "unknown.type", {}, {"created": -(10**14)}),
    ("id-over-255-characters", "unknown.type", {}, {"id": "evt_" + "x" * 300}),
    ("type-over-100-characters", "unknown." + "t" * 120, {}, {}),
    ("api_version-over-64-characters", "unknown.type", {}, {"api_version": "v" * 100}),
    ("a-NUL-character-in-the-object", "unknown.type", {"note": "a\x00b"}, {}),
    # And the plainer ones:
    ("charge.refunded-empty-object", "charge.refunded", {}, {}),
    ("unknown-type", "unknown.type", {"anything": [1, 2]}, {}),
    ("livemode-on-a-test-key", "payment_intent.succeeded", _seed_intent(), {"livemode": True}),
]
RAW_CASES = [
    # Bodies json.dumps would not write (Stripe would not either): parse errors other than ValueError.
    ("created-Infinity", '{"object":"event","id":"evt_inf","type":"unknown.type","created":Infinity,"data":{"object":{}}}'),
    ("nested-1500-deep", '{"object":"event","id":"evt_deep","type":"unknown.type","created":1,"data":{"object":{"a":'
     + "[" * 1500 + "]" * 1500 + "}}}"),
]


@pytest.mark.parametrize(
    ("event_type", "obj", "envelope"),
    [pytest.param(t, o, e, id=i) for i, t, o, e in ODD_CASES],
)
def test_a_signed_event_with_an_odd_object_is_not_a_server_error(endpoint, event_type, obj, envelope):
    """Where the input is the problem the answer is < 500 (a 5xx makes Stripe retry for days)."""
    before = _other_rows(endpoint)
    body = signed_event(event_type, obj, **envelope)
    response = endpoint.post(body, valid_header(body))
    assert response.status_code < 500, response.content
    assert _other_rows(endpoint) == before


@pytest.mark.parametrize("body", [pytest.param(b, id=i) for i, b in RAW_CASES])
def test_a_signed_body_json_dumps_would_not_write_is_not_a_server_error(endpoint, body):
    response = endpoint.post(body.encode(), valid_header(body.encode()))
    assert response.status_code < 500, response.content
    assert WebhookEvent.objects.count() == 0


def _ours(status: str = "succeeded", **fields) -> dict:
    """The seeded payment's own PaymentIntent (found by its id), with ``fields`` changed."""
    return {**_seed_intent(status), **fields}


def _our_refund(**fields) -> dict:
    """A refund of the seeded payment (its ``payment_intent`` is ours)."""
    return {"id": "re_hostile", "object": "refund", "payment_intent": SEED_PI, "amount": 100, "currency": "eur",
            "status": "succeeded", "reason": None, "metadata": {}, "balance_transaction": None, **fields}


# Validly signed events about one of OUR payments (the seeded one) with one field
# malformed: unlike the objects above, these reach the handlers' real work.
# (id, event type, object)
OURS_CASES = [
    ("payment_intent.succeeded-amount-a-string", "payment_intent.succeeded", _ours(amount="lots")),
    ("payment_intent.succeeded-metadata-a-string", "payment_intent.succeeded", _ours(metadata="x")),
    ("payment_intent.succeeded-status-null", "payment_intent.succeeded", _ours(status=None)),
    ("payment_intent.processing-status-unknown", "payment_intent.processing", _ours(status="bogus")),
    ("payment_intent.succeeded-currency-null", "payment_intent.succeeded", _ours(currency=None)),
    ("payment_intent.payment_failed-error-code-a-number", "payment_intent.payment_failed",
     _ours("requires_payment_method", last_payment_error={"code": 5, "message": "declined"})),
    ("refund.created-amount-null", "refund.created", _our_refund(amount=None)),
    ("refund.created-status-null", "refund.created", _our_refund(status=None)),
    ("refund.updated-balance_transaction-a-number", "refund.updated", _our_refund(balance_transaction=5)),
]


@pytest.mark.parametrize(("event_type", "obj"), [pytest.param(t, o, id=i) for i, t, o in OURS_CASES])
def test_a_signed_event_about_our_payment_with_a_malformed_field_is_not_a_server_error(endpoint, event_type, obj):
    """Stripe's data being wrong is no reason for Stripe to retry for days: < 500,
    and nothing but the event row written (the payment keeps its state)."""
    before = _other_rows(endpoint)
    body = signed_event(event_type, obj)
    response = endpoint.post(body, valid_header(body))
    assert response.status_code < 500, response.content
    assert _other_rows(endpoint) == before


@settings(max_examples=200, **HYPOTHESIS)
@given(content_type=CONTENT_TYPES)
def test_a_validly_signed_event_is_processed_whatever_its_content_type(endpoint, content_type):
    """The signature over the raw body is what is checked, not the Content-Type
    (the README says so): the undamaged event, under a new id each time, is
    processed and stored whatever the Content-Type says."""
    event = json.loads(REAL_BODY)
    event["id"] = f"evt_content_type_{next(_event_ids):08d}"
    body = json.dumps(event).encode()
    response = endpoint.post(body, valid_header(body), content_type=content_type)
    STATS[("signed_content_types", response.status_code)] += 1
    assert response.status_code == 200, (content_type, response.content)
    assert response.json() == {"received": True, "outcome": "processed"}
    assert WebhookEvent.objects.get(stripe_event_id=event["id"]).status == WebhookEvent.Status.PROCESSED
    endpoint.payment.refresh_from_db()
    assert endpoint.payment.status == PaymentStatus.SUCCEEDED


def test_a_literal_backslash_u0000_is_not_a_nul(endpoint):
    """A legitimate event whose text holds a backslash followed by u0000 (a path, a
    pasted escape) is no NUL: it is stored and answered 200 like any other."""
    body = signed_event("unknown.type", {"note": "C:\\u0000\\dir"})
    assert b"\\\\u0000" in body  # JSON: an escaped backslash, then u0000
    response = endpoint.post(body, valid_header(body))
    assert response.status_code == 200, response.content
    assert WebhookEvent.objects.filter(stripe_event_id=json.loads(body)["id"]).exists()


# ------------------------------------ foreign objects naming our rows (issue 12.2)
#
# Validly signed events about objects we never created (anyone who can make them
# on the Stripe account can write our ids in their metadata), made through the
# real stripe library against the emulator and delivered as Stripe signs them:
# for every payment state of both flows, a foreign PaymentIntent naming our
# payment, paid; foreign refunds and charges naming our payment and refund;
# foreign subscriptions and invoices naming or pointing at our rows. Each time:
# no row of ours changed, every event is recorded and answered 200, a WARNING says so.

from payments.models import Customer, Invoice, Notification, Refund, Subscription, Transaction  # noqa: E402
from payments.services.catalog import price_ensure_at_stripe  # noqa: E402
from payments.services.checkout import create_checkout_session  # noqa: E402
from payments.services.customers import customer_get_or_create  # noqa: E402
from payments.services.payments import create_payment_intent  # noqa: E402

FOREIGN_STATES = [PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION, PaymentStatus.FAILED, PaymentStatus.PROCESSING,
                  PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED, PaymentStatus.REFUNDED]
OUR_MODELS = (Payment, Refund, Subscription, Invoice, Transaction, Notification)


def _our_rows() -> dict:
    return {model.__name__: sorted(map(str, model.objects.values_list())) for model in OUR_MODELS}


def _our_payment(user, catalog, flow: str, status: str) -> Payment:
    price = catalog["full_eur"]
    if flow == "intent":
        payment = create_payment_intent(user=user, price_id=str(price.pk)).payment
    else:
        payment = create_checkout_session(
            user=user, price_id=str(price.pk), success_url="http://localhost:3000/paid",
            cancel_url="http://localhost:3000/cart",
        ).payment
    Payment.objects.filter(pk=payment.pk).update(status=status)
    return Payment.objects.get(pk=payment.pk)


def _foreign_intent(emulator, *, customer: str | None, amount: int, currency: str, metadata: dict) -> str:
    """A PaymentIntent made by someone else on the account (not by our code), paid."""
    intent = gateway.create_payment_intent(
        amount=amount, currency=currency, customer_id=customer, metadata=metadata, description="not ours",
        idempotency_key=f"foreign-{uuid.uuid4()}",
    )
    assert emulator.pay(intent.id)["error"] is None
    return intent.id


def _deliver_all(deliver) -> list:
    statuses = deliver()
    assert statuses and all(code == 200 for _, code in statuses), statuses
    STATS[("signed_foreign_objects", 200)] += len(statuses)
    return statuses


def _warned(caplog, needle: str) -> bool:
    return any(r.levelno == logging.WARNING and needle in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("status", FOREIGN_STATES)
@pytest.mark.parametrize("flow", ["intent", "checkout"])
def test_a_foreign_intent_naming_our_payment_pays_nothing(emulator, deliver, user, catalog, caplog, flow, status):
    """Same customer, amount and currency as the payment, its id in the metadata:
    still not ours (not the id we stored; for Checkout, not the intent our
    session made). The Checkout page stays payable and is paid once, by its own intent."""
    payment = _our_payment(user, catalog, flow, status)
    customer = customer_get_or_create(user=user).stripe_customer_id
    deliver()
    before = _our_rows()
    with caplog.at_level(logging.WARNING):
        foreign = _foreign_intent(emulator, customer=customer, amount=payment.amount, currency=payment.currency,
                                  metadata={"payment_id": str(payment.pk), "user_id": str(user.pk)})
        statuses = _deliver_all(deliver)
    assert _our_rows() == before
    assert WebhookEvent.objects.filter(stripe_event_id__in=[e for e, _ in statuses]).count() == len(statuses)
    assert WebhookEvent.objects.filter(type="payment_intent.succeeded", payload__data__object__id=foreign).exists()
    assert _warned(caplog, foreign), caplog.text
    if flow == "checkout" and status == PaymentStatus.PENDING:  # positive control: the page still pays it
        session = gateway.retrieve_checkout_session(payment.stripe_checkout_session_id)
        assert session.status == "open"
        assert emulator.complete_checkout(session.id)["error"] is None
        _deliver_all(deliver)
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.SUCCEEDED and payment.stripe_payment_intent_id != foreign


@pytest.mark.parametrize(
    "variant", ["other-amount", "other-currency", "other-customer", "no-customer"],
)
def test_a_foreign_intent_unlike_a_checkout_payment_is_not_linked(emulator, deliver, user, other_user, catalog, caplog,
                                                                   variant):
    payment = _our_payment(user, catalog, "checkout", PaymentStatus.PENDING)
    customer = customer_get_or_create(user=user).stripe_customer_id
    fields = {"customer": customer, "amount": payment.amount, "currency": payment.currency}
    fields.update({
        "other-amount": {"amount": payment.amount + 1}, "other-currency": {"currency": "usd"},
        "other-customer": {"customer": customer_get_or_create(user=other_user).stripe_customer_id},
        "no-customer": {"customer": None},
    }[variant])
    deliver()
    before = _our_rows()
    with caplog.at_level(logging.WARNING):
        foreign = _foreign_intent(emulator, metadata={"payment_id": str(payment.pk)}, **fields)
        _deliver_all(deliver)
    assert _our_rows() == before
    assert _warned(caplog, foreign)


@pytest.fixture
def paid(emulator, deliver, user, catalog) -> Payment:
    payment = _our_payment(user, catalog, "intent", PaymentStatus.PENDING)
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.PENDING)
    emulator.pay(payment.stripe_payment_intent_id)
    _deliver_all(deliver)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    return payment


def test_foreign_refunds_and_charges_naming_our_payment_and_refund_change_nothing(emulator, deliver, user, paid, caplog):
    """A refund (refund.*, charge.refunded) of someone else's intent, with our
    payment's and our pending refund's ids in its metadata."""
    pending = Refund.objects.create(payment=paid, amount=500, currency=paid.currency, requested_by=user)
    customer = customer_get_or_create(user=user).stripe_customer_id
    foreign = _foreign_intent(emulator, customer=customer, amount=paid.amount, currency=paid.currency, metadata={})
    deliver()
    before = _our_rows()
    with caplog.at_level(logging.WARNING):
        gateway.create_refund(payment_intent_id=foreign, amount=500, reason=None,
                              metadata={"payment_id": str(paid.pk), "refund_id": str(pending.pk)},
                              idempotency_key=f"foreign-{uuid.uuid4()}")
        statuses = _deliver_all(deliver)
    assert {WebhookEvent.objects.get(stripe_event_id=e).type for e, _ in statuses} >= {"refund.created", "charge.refunded"}
    assert _our_rows() == before
    assert _warned(caplog, "names our payment")


def test_a_refund_of_our_intent_naming_another_amount_than_our_pending_refund_is_not_it(emulator, deliver, user, paid,
                                                                                         caplog):
    """Made on our intent (real money back: adopted as a refund made elsewhere),
    but it is not the pending refund its metadata names, which stays pending."""
    pending = Refund.objects.create(payment=paid, amount=500, currency=paid.currency, requested_by=user)
    with caplog.at_level(logging.WARNING):
        emulator_refund = gateway.create_refund(
            payment_intent_id=paid.stripe_payment_intent_id, amount=700, reason=None,
            metadata={"refund_id": str(pending.pk)}, idempotency_key=f"foreign-{uuid.uuid4()}")
        _deliver_all(deliver)
    pending.refresh_from_db()
    assert (pending.status, pending.stripe_refund_id) == (Refund.Status.PENDING, None)
    assert Refund.objects.get(stripe_refund_id=emulator_refund.id).amount == 700
    assert _warned(caplog, f"names our refund {pending.pk}")


@pytest.mark.parametrize("whose", ["a-stranger", "another-user-of-ours"])
def test_a_foreign_subscription_naming_our_pending_subscription_changes_nothing(
    emulator, deliver, user, other_user, catalog, caplog, whose
):
    price = catalog["full_monthly"]
    stripe_price = price_ensure_at_stripe(price=price)
    customer_get_or_create(user=user)
    ours = Subscription.objects.create(user=user, price=price, tier=price.tier)
    if whose == "a-stranger":
        customer = gateway.create_customer(email="x@example.com", name="x", metadata={},
                                           idempotency_key=f"foreign-{uuid.uuid4()}").id
    else:
        customer = customer_get_or_create(user=other_user).stripe_customer_id
    deliver()
    before = _our_rows()
    with caplog.at_level(logging.WARNING):
        gateway.create_subscription(customer_id=customer, price_id=stripe_price,
                                    metadata={"subscription_id": str(ours.pk)},
                                    idempotency_key=f"foreign-{uuid.uuid4()}")
        _deliver_all(deliver)
    after = _our_rows()
    ours.refresh_from_db()
    assert ours.stripe_subscription_id is None
    assert after["Subscription"] == before["Subscription"] and after["Payment"] == before["Payment"]
    if whose == "a-stranger":
        assert after == before
    assert _warned(caplog, f"names our subscription {ours.pk}")


def test_a_foreign_invoice_pointing_at_our_rows_changes_nothing(client, user, other_user, catalog, paid, caplog):
    """Signed invoice events for our customer that point at another user's
    subscription, or at one of our one-time payments as their PaymentIntent."""
    price = catalog["full_monthly"]
    theirs = Subscription.objects.create(user=other_user, price=price, tier=price.tier, stripe_subscription_id="sub_theirs")
    customer = Customer.objects.get(user=user).stripe_customer_id
    before = _our_rows()
    cases = {
        "another-users-subscription": {
            "parent": {"subscription_details": {"subscription": theirs.stripe_subscription_id}},
            "payments": {"data": [{"is_default": True, "payment": {"type": "payment_intent", "payment_intent": "pi_x"}}]},
        },
        "our-one-time-payment": {"payments": {"data": [{"is_default": True, "payment": {
            "type": "payment_intent", "payment_intent": paid.stripe_payment_intent_id}}]}},
    }
    with caplog.at_level(logging.WARNING):
        for name, fields in cases.items():
            invoice = {"id": f"in_foreign_{name}", "object": "invoice", "customer": customer, "currency": "eur",
                       "status": "paid", "amount_due": paid.amount, "amount_paid": paid.amount, "created": now(), **fields}
            body = signed_event("invoice.paid", invoice)
            response = Client().post(WEBHOOK_PATH, data=body, content_type="application/json",
                                     HTTP_STRIPE_SIGNATURE=valid_header(body))
            STATS[("signed_foreign_objects", response.status_code)] += 1
            assert response.status_code == 200, response.content
            assert _warned(caplog, f"invoice in_foreign_{name}"), caplog.text
    assert _our_rows() == before
