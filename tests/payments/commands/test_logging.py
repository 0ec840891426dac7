"""The structured log lines: one per webhook delivery, one per Stripe call (the lines
proposed for gateway._call), and kv()'s quoting."""

from __future__ import annotations

import logging
import re
import time

import stripe  # only to build the proposed _call below, as the gateway would
from django.conf import settings
from django.test import Client

from payments import gateway
from payments.emulator.delivery import signed_request
from payments.logging import kv, log_stripe_call, request_id_of, stripe_operation
from payments.models import WebhookEvent
from tests.conftest import ClientSender
from tests.payments.commands.conftest import ok_all


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
    assert f"payment={payment.pk}" in charge and "outcome=ignored" in charge
    customer = next(line for line in lines if "type=customer.created" in line)
    assert customer.endswith("payment=-")

    caplog.clear()
    stored = WebhookEvent.objects.get(type="payment_intent.succeeded")
    body, headers = signed_request(stored.payload, settings.STRIPE_WEBHOOK_SECRET)
    with caplog.at_level(logging.INFO, logger="payments.webhooks"):
        assert ClientSender(Client())(body, headers) == 200  # a redelivery
    (line,) = webhook_lines(caplog)
    assert "outcome=duplicate" in line and f"payment={payment.pk}" in line


def test_a_refund_event_names_the_payment(paid_undelivered, deliver, emulator, caplog):
    payment = paid_undelivered()
    ok_all(deliver())
    emulator.dashboard_refund(payment.stripe_payment_intent_id, amount=100)
    with caplog.at_level(logging.INFO, logger="payments.webhooks"):
        ok_all(deliver())
    refund_lines = [line for line in webhook_lines(caplog) if "type=refund." in line or "type=charge.refunded" in line]
    assert refund_lines and all(f"payment={payment.pk}" in line for line in refund_lines)


def proposed_call(fn, *args, **kwargs):
    """gateway._call with the lines the report proposes (kept in step with README / report)."""
    started = time.monotonic()
    try:
        result = fn(*args, **kwargs)
    except stripe.StripeError as exc:
        log_stripe_call(fn, started, outcome=type(exc).__name__, request_id=exc.request_id)
        raise gateway._translate(exc) from exc
    log_stripe_call(fn, started, outcome="ok", request_id=request_id_of(result))
    return result


def test_one_line_per_stripe_call_with_the_proposed_call(emulator, monkeypatch, caplog):
    monkeypatch.setattr(gateway, "_call", proposed_call)
    with caplog.at_level(logging.INFO, logger="payments.stripe"):
        gateway.retrieve_balance()
        emulator.inject_fault("500", path_prefix="/v1/balance")
        try:
            gateway.retrieve_balance()
        except Exception as exc:  # noqa: BLE001
            assert type(exc).__name__ == "ProviderUnavailable"
    ok, error = [r for r in caplog.records if r.name == "payments.stripe"]
    assert re.fullmatch(r"stripe operation=balance\.retrieve duration_ms=\d+\.\d outcome=ok request_id=req_\w+", ok.getMessage())
    assert ok.levelno == logging.INFO
    assert re.fullmatch(r"stripe operation=balance\.retrieve duration_ms=\d+\.\d outcome=APIError request_id=req_\w+", error.getMessage())
    assert error.levelno == logging.WARNING


def test_stripe_operation_names(emulator):
    client = gateway.get_client()
    assert stripe_operation(client.v1.payment_intents.create) == "payment_intent.create"
    assert stripe_operation(client.v1.checkout.sessions.retrieve) == "session.retrieve"
    assert stripe_operation(len) == "len"


def test_the_payment_lookup_is_one_indexed_query_at_most(paid_undelivered, django_assert_num_queries):
    from payments.logging import payment_id_for_event

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
