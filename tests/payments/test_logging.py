"""The structured log lines: one per webhook delivery (refused ones included), one
per Stripe call (gateway.client.call, driven by real mutations against the emulator),
and kv()'s quoting."""

from __future__ import annotations

import json
import logging
import re
import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from events.models import Event
from payments import gateway
from stripe_emulator.delivery import signed_request
from payments.logging import kv, log_stripe_call, stripe_operation
from payments.models import WebhookEvent
from tests.conftest import WEBHOOK_PATH, ClientSender, make_event, post_event, sign
from tests.payments.conftest import ok_all


def test_kv_quotes_values_with_spaces():
    assert kv(event="evt_1", outcome="processed", duration_ms=12.345, payment=None, ok=True) == (
        "event=evt_1 outcome=processed duration_ms=12.3 payment=- ok=true"
    )
    assert kv(message='card "declined" now', empty="", eq="a=b", path="C:\\x") == (
        'message="card \\"declined\\" now" empty="" eq="a=b" path="C:\\\\x"'
    )
    assert kv(lines="one\ntwo") == 'lines="one\\ntwo"'


def webhook_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "payments.webhooks" and r.getMessage().startswith("webhook event=")]


def test_one_line_per_webhook_delivery_with_the_payment(paid_undelivered, deliver, caplog):
    payment = paid_undelivered()
    with caplog.at_level(logging.INFO, logger="payments.webhooks"):
        ok_all(deliver())
    lines = webhook_lines(caplog)
    succeeded = [line for line in lines if "type=payment_intent.succeeded" in line]
    assert len(succeeded) == 1
    evt = re.search(r"event=(evt_\w+)", succeeded[0])[1]
    assert re.fullmatch(
        rf"webhook event={evt} type=payment_intent\.succeeded outcome=processed duration_ms=\d+\.\d payment={payment.pk}",
        succeeded[0],
    ), succeeded[0]
    charge = next(line for line in lines if "type=charge.succeeded" in line)  # points to the intent
    assert f"payment={payment.pk}" in charge and "outcome=processed" in charge  # what paid, the receipt
    created = next(line for line in lines if "type=payment_intent.created" in line)
    assert f"payment={payment.pk}" in created and "outcome=ignored" in created
    customer = next(line for line in lines if "type=customer.created" in line)
    assert customer.endswith("payment=-")

    caplog.clear()
    stored = WebhookEvent.objects.get(type="payment_intent.succeeded")
    body, headers = signed_request(stored.payload, settings.STRIPE_WEBHOOK_SECRET)
    with caplog.at_level(logging.INFO, logger="payments.webhooks"):
        assert ClientSender(Client())(body, headers) == 200  # a redelivery
    (line,) = webhook_lines(caplog)
    assert "outcome=duplicate" in line and f"payment={payment.pk}" in line


def delivery_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "payments.webhooks"]


REFUSED_LINE = r'webhook event=- type=- outcome={outcome} duration_ms=\d+\.\d payment=- reason=(?:"[^"]+"|\S+)'


@pytest.mark.parametrize(
    "signature",
    ["t=1,v1=" + "0" * 64, None, "garbage"],
    ids=["wrong-signature", "no-signature", "malformed-header"],
)
def test_a_delivery_refused_before_parsing_logs_one_line(paid_undelivered, deliver, emulator, caplog, signature):
    paid_undelivered()
    stored = emulator.events()[-1].event
    body, _ = signed_request(stored, settings.STRIPE_WEBHOOK_SECRET)
    extra = {} if signature is None else {"HTTP_STRIPE_SIGNATURE": signature}
    with caplog.at_level(logging.INFO, logger="payments.webhooks"):
        response = Client().post(WEBHOOK_PATH, data=body, content_type="application/json", **extra)
    assert response.status_code == 400
    (record,) = delivery_records(caplog)  # the one line, and no other
    assert re.fullmatch(REFUSED_LINE.format(outcome="refused"), record.getMessage()), record.getMessage()
    assert record.levelno == logging.WARNING
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("declared", [False, True], ids=["body-over-the-limit", "content-length-over-the-limit"])
def test_a_delivery_too_large_logs_one_line(db, settings, caplog, declared):
    settings.PAYMENTS_WEBHOOK_MAX_BYTES = 100
    body = json.dumps(make_event("payment_intent.succeeded", {"id": "pi_x", "pad": "x" * (10 if declared else 200)}))
    extra = {"CONTENT_LENGTH": "100000"} if declared else {}
    with caplog.at_level(logging.INFO, logger="payments.webhooks"):
        response = Client().post(WEBHOOK_PATH, data=body, content_type="application/json",
                                 HTTP_STRIPE_SIGNATURE=sign(body), **extra)
    assert response.status_code == 413
    (record,) = delivery_records(caplog)
    assert re.fullmatch(REFUSED_LINE.format(outcome="too_large"), record.getMessage()), record.getMessage()
    assert ("100000" if declared else str(len(body))) in record.getMessage()
    assert record.levelno == logging.WARNING and not WebhookEvent.objects.exists()


def test_a_signed_event_refused_for_its_mode_or_object_logs_its_outcome(db, caplog):
    live = make_event("payment_intent.succeeded", {"id": "pi_live", "object": "payment_intent"})
    live["livemode"] = True
    unreadable = make_event("invoice.paid", {"id": "in_1", "currency": "eur", "created": 1, "parent": "x"})
    client = Client()
    with caplog.at_level(logging.INFO, logger="payments.webhooks"):
        assert post_event(client, live).status_code == 400
        assert post_event(client, unreadable).status_code == 400
    lines = webhook_lines(caplog)
    assert len(lines) == 2, lines
    assert re.fullmatch(rf"webhook event={live['id']} type=payment_intent\.succeeded outcome=refused duration_ms=\d+\.\d payment=-", lines[0])
    assert re.fullmatch(rf"webhook event={unreadable['id']} type=invoice\.paid outcome=invalid duration_ms=\d+\.\d payment=-", lines[1])


def test_the_line_names_the_payment_the_events_lookup_found_without_a_second_query(
    paid_undelivered, deliver, caplog, monkeypatch
):
    """The view passes the payment its one lookup query found (lookup_event) to
    webhook_line: payment_id_for_event (a second query) is not called then, nor
    for a duplicate; only an event whose payment was unknown before processing is
    looked up again (processing may have linked it)."""
    from payments.webhooks import processing

    payment = paid_undelivered()
    second_lookups: list[str] = []
    real = processing.payment_id_for_event

    def counted(event_type, obj):
        second_lookups.append(event_type)
        return real(event_type, obj)

    monkeypatch.setattr(processing, "payment_id_for_event", counted)
    with caplog.at_level(logging.INFO, logger="payments.webhooks"):
        ok_all(deliver())
    succeeded = next(line for line in webhook_lines(caplog) if "type=payment_intent.succeeded" in line)
    assert f"payment={payment.pk}" in succeeded
    assert "payment_intent.succeeded" not in second_lookups and "charge.succeeded" not in second_lookups

    second_lookups.clear()
    stored = WebhookEvent.objects.get(type="payment_intent.succeeded")
    body, headers = signed_request(stored.payload, settings.STRIPE_WEBHOOK_SECRET)
    with caplog.at_level(logging.INFO, logger="payments.webhooks"):
        assert ClientSender(Client())(body, headers) == 200  # a redelivery: duplicate
    assert second_lookups == []


def test_a_refund_event_names_the_payment(paid_undelivered, deliver, emulator, caplog):
    payment = paid_undelivered()
    ok_all(deliver())
    emulator.dashboard_refund(payment.stripe_payment_intent_id, amount=100)
    with caplog.at_level(logging.INFO, logger="payments.webhooks"):
        ok_all(deliver())
    refund_lines = [line for line in webhook_lines(caplog) if "type=refund." in line or "type=charge.refunded" in line]
    assert refund_lines and all(f"payment={payment.pk}" in line for line in refund_lines)


@pytest.fixture
def stripe_requests(emulator, monkeypatch) -> list[dict]:
    """What reached the emulator's HTTP side, in order: method, path, status (or the
    connection error) and the Request-Id Stripe answered with. Only observed: the
    stripe library, the gateway's ``client.call`` and its log line are the real ones."""
    seen: list[dict] = []
    real = emulator.handle_http

    def observed(method, url, headers, post_data):
        path = urlsplit(url).path
        try:
            body, status, response_headers = real(method, url, headers, post_data)
        except Exception as exc:
            seen.append({"method": method.upper(), "path": path, "status": type(exc).__name__, "request_id": None})
            raise
        seen.append({"method": method.upper(), "path": path, "status": status, "request_id": response_headers.get("Request-Id")})
        return body, status, response_headers

    monkeypatch.setattr(emulator, "handle_http", observed)
    return seen


def stripe_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "payments.stripe"]


STRIPE_LINE = re.compile(
    r"stripe operation=(?P<operation>[a-z_.]+) duration_ms=(?P<duration>\d+\.\d) "
    r"outcome=(?P<outcome>\w+) request_id=(?P<request_id>req_\w+|-)"
)


def parsed(record: logging.LogRecord) -> dict:
    match = STRIPE_LINE.fullmatch(record.getMessage())
    assert match, record.getMessage()
    return match.groupdict()


CREATE_PAYMENT_INTENT = """mutation($i: CreatePaymentIntentInput!) { createPaymentIntent(input: $i) {
    ... on CreatePaymentIntentPayload { payment { id status } clientSecret } ... on OperationInfo { messages { code } } } }"""


@pytest.fixture
def pay_for_an_event(gql, user, catalog):
    """createPaymentIntent through the real GraphQL endpoint (a new user: a Customer first)."""
    event = Event.objects.create(user=user, title="Dentist")
    variables = {"i": {"priceId": str(catalog["full_eur"].pk), "payable": {"type": "event", "id": str(event.pk)},
                       "idempotencyKey": "log-1"}}
    return lambda: gql.ok(CREATE_PAYMENT_INTENT, variables)["createPaymentIntent"]


def test_a_mutation_logs_one_line_per_stripe_call_with_its_request_id(pay_for_an_event, stripe_requests, caplog):
    with caplog.at_level(logging.INFO, logger="payments.stripe"):
        answer = pay_for_an_event()
    assert answer["clientSecret"] and answer["payment"]["status"] == "PENDING", answer
    records = stripe_records(caplog)
    assert [(r["method"], r["path"], r["status"]) for r in stripe_requests] == [
        ("POST", "/v1/customers", 200), ("POST", "/v1/payment_intents", 200),
    ]
    assert len(records) == len(stripe_requests)  # one line per call, none for anything else
    lines = [parsed(r) for r in records]
    assert [line["operation"] for line in lines] == ["customer.create", "payment_intent.create"]
    assert all(line["outcome"] == "ok" for line in lines)
    assert [line["request_id"] for line in lines] == [r["request_id"] for r in stripe_requests]
    assert all(r.levelno == logging.INFO for r in records)
    assert all(float(line["duration"]) >= 0 for line in lines)

    caplog.clear()
    del stripe_requests[:]
    with caplog.at_level(logging.INFO, logger="payments.stripe"):
        again = pay_for_an_event()  # the same idempotencyKey: the same answer, no new object at Stripe
    assert again == answer
    assert ("POST", "/v1/customers") not in [(r["method"], r["path"]) for r in stripe_requests]
    assert [parsed(r)["request_id"] for r in stripe_records(caplog)] == [r["request_id"] for r in stripe_requests]


def test_a_stripe_call_duration_is_measured_around_the_call(pay_for_an_event, emulator, monkeypatch, caplog):
    real = emulator.handle_http

    def slow(method, url, headers, post_data):
        time.sleep(0.05)
        return real(method, url, headers, post_data)

    monkeypatch.setattr(emulator, "handle_http", slow)
    with caplog.at_level(logging.INFO, logger="payments.stripe"):
        pay_for_an_event()
    durations = [float(parsed(r)["duration"]) for r in stripe_records(caplog)]
    assert len(durations) == 2 and all(50 <= d < 5000 for d in durations), durations


@pytest.mark.parametrize(
    ("fault", "error_class", "has_request_id"),
    [
        ("500", "APIError", True),
        ("429", "RateLimitError", True),
        ("connection_error", "APIConnectionError", False),
        ("timeout", "APIConnectionError", False),
    ],
)
def test_a_failed_stripe_call_is_logged_at_warning_with_its_error_class(
    pay_for_an_event, stripe_requests, emulator, caplog, fault, error_class, has_request_id
):
    emulator.inject_fault(fault, path_prefix="/v1/payment_intents")
    with caplog.at_level(logging.INFO, logger="payments.stripe"):
        failed = pay_for_an_event()
    assert failed["messages"][0]["code"] == "PROVIDER_UNAVAILABLE", failed
    customer, intent = stripe_records(caplog)
    assert (parsed(customer)["operation"], parsed(customer)["outcome"], customer.levelno) == (
        "customer.create", "ok", logging.INFO,
    )
    line = parsed(intent)
    assert (line["operation"], line["outcome"], intent.levelno) == ("payment_intent.create", error_class, logging.WARNING)
    if has_request_id:  # Stripe answered: its Request-Id is on the line
        assert line["request_id"] == stripe_requests[-1]["request_id"] != "-"
    else:  # no answer came back: no Request-Id
        assert line["request_id"] == "-"

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="payments.stripe"):
        retried = pay_for_an_event()
    assert retried["clientSecret"], retried
    records = stripe_records(caplog)
    assert [(parsed(r)["operation"], parsed(r)["outcome"], r.levelno) for r in records] == [
        ("payment_intent.create", "ok", logging.INFO)  # the Customer is ours already
    ]
    assert parsed(records[0])["request_id"] == stripe_requests[-1]["request_id"]


def test_a_declined_card_is_logged_at_info_and_other_errors_at_warning(caplog):
    """log_stripe_call's level rule: CardError is business as usual; any other error class is a WARNING."""
    outcomes = ("ok", "CardError", "InvalidRequestError", "AuthenticationError")
    with caplog.at_level(logging.INFO, logger="payments.stripe"):
        for outcome in outcomes:
            log_stripe_call(len, time.monotonic(), outcome=outcome, request_id="req_1")
    levels = {parsed(r)["outcome"]: r.levelno for r in stripe_records(caplog)}
    assert levels == {"ok": logging.INFO, "CardError": logging.INFO,
                      "InvalidRequestError": logging.WARNING, "AuthenticationError": logging.WARNING}


def test_stripe_operation_names(emulator):
    client = gateway.get_client()
    assert stripe_operation(client.v1.payment_intents.create) == "payment_intent.create"
    assert stripe_operation(client.v1.checkout.sessions.retrieve) == "session.retrieve"
    assert stripe_operation(len) == "len"


def test_the_payment_lookup_is_one_indexed_query_at_most(paid_undelivered, django_assert_num_queries):
    from payments.webhooks.processing import payment_id_for_event

    payment = paid_undelivered()
    pi = payment.stripe_payment_intent_id
    with django_assert_num_queries(1):
        assert payment_id_for_event("payment_intent.succeeded", {"id": pi}) == str(payment.pk)
    with django_assert_num_queries(1):
        assert payment_id_for_event("refund.created", {"id": "re_1", "payment_intent": pi}) == str(payment.pk)
    with django_assert_num_queries(1):
        assert payment_id_for_event("charge.refunded", {"id": "ch_1", "payment_intent": {"id": "pi_other"}}) is None
    with django_assert_num_queries(0):
        assert payment_id_for_event("customer.subscription.updated", {"id": "sub_1"}) is None
        assert payment_id_for_event("refund.created", {"id": "re_1", "payment_intent": None}) is None


def test_a_failed_delivery_is_logged_as_failed(paid_undelivered, deliver, caplog, monkeypatch):
    from payments.webhooks import processing

    payment = paid_undelivered()
    monkeypatch.setitem(processing.HANDLERS, "payment_intent.succeeded", lambda event: 1 / 0)
    with caplog.at_level(logging.INFO, logger="payments.webhooks"):
        deliver()
    (line,) = [line for line in webhook_lines(caplog) if "payment_intent.succeeded" in line]
    assert "outcome=failed" in line and f"payment={payment.pk}" in line
