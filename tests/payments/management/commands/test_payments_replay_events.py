"""payments_replay_events: stored failed / received events processed again, oldest first."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone

import pytest
from django.core.management import get_commands, load_command_class

from payments.models import Payment, PaymentStatus, WebhookEvent
from tests.payments.conftest import run


@pytest.fixture
def failed_payment_event(paid_undelivered, deliver):
    """A payment whose payment_intent.succeeded failed to process: the amount we
    recorded differs from Stripe's (a bad data migration, say)."""
    payment = paid_undelivered()
    Payment.objects.filter(pk=payment.pk).update(amount=1)
    deliver()
    record = WebhookEvent.objects.get(type="payment_intent.succeeded")
    assert record.status == WebhookEvent.Status.FAILED and "AmountMismatch" in record.last_error
    return payment, record


def test_replay_fails_while_the_cause_is_there_then_processes_once_fixed(failed_payment_event):
    payment, record = failed_payment_event
    ran = run("payments_replay_events", fails=True)
    assert f"event {record.stripe_event_id} (payment_intent.succeeded): failed - SecurityAlarm: SECURITY ALARM (AmountMismatch):" in ran.out
    assert "failed=1" in ran.out and "Traceback" not in ran.out
    record.refresh_from_db()
    assert (record.status, record.attempts) == (WebhookEvent.Status.FAILED, 2)

    Payment.objects.filter(pk=payment.pk).update(amount=2999)  # the cause, fixed
    ran = run("payments_replay_events")
    assert f"event {record.stripe_event_id} (payment_intent.succeeded): event.replayed - processed" in ran.out
    assert "event.replayed=1 failed=0" in ran.out
    record.refresh_from_db()
    assert (record.status, record.attempts, record.last_error) == (WebhookEvent.Status.PROCESSED, 3, "")
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SUCCEEDED

    assert "(no stored event matches)" in run("payments_replay_events").out


def test_the_exit_status_is_1_while_an_event_fails(failed_payment_event, capsys):
    command = load_command_class(get_commands()["payments_replay_events"], "payments_replay_events")
    with pytest.raises(SystemExit) as exit_:
        command.run_from_argv([sys.argv[0], "payments_replay_events", "--skip-checks"])
    assert exit_.value.code == 1
    assert "failed" in capsys.readouterr().err


def test_dry_run_changes_nothing(failed_payment_event):
    payment, record = failed_payment_event
    ran = run("payments_replay_events", "--dry-run")
    assert "would process again (stored failed, 1 attempts)" in ran.out
    record.refresh_from_db()
    assert (record.status, record.attempts) == (WebhookEvent.Status.FAILED, 1)


def test_id_type_status_and_since_select_events(failed_payment_event, paid_undelivered, deliver):
    _, failed = failed_payment_event
    processed = WebhookEvent.objects.exclude(pk=failed.pk).first()
    # A second payment whose succeeded event was only stored.
    paid_undelivered()
    deliver()
    received = WebhookEvent.objects.filter(type="payment_intent.succeeded").exclude(pk=failed.pk).get()
    WebhookEvent.objects.filter(pk=received.pk).update(status=WebhookEvent.Status.RECEIVED)

    ran = run("payments_replay_events", "--status", "received")
    assert received.stripe_event_id in ran.out and failed.stripe_event_id not in ran.out
    assert WebhookEvent.objects.get(pk=received.pk).status == WebhookEvent.Status.PROCESSED

    ran = run("payments_replay_events", "--type", "refund.*")
    assert "(no stored event matches)" in ran.out
    assert failed.stripe_event_id in run("payments_replay_events", "--type", "payment_intent.*", "--dry-run").out
    assert failed.stripe_event_id in run("payments_replay_events", "--type", "payment_intent.succeeded", "--dry-run").out

    ran = run("payments_replay_events", "--id", processed.stripe_event_id, "--id", failed.stripe_event_id, "--dry-run")
    assert f"event {processed.stripe_event_id}: skipped - {processed.status}, not failed or received" in ran.out
    assert f"event {failed.stripe_event_id} (payment_intent.succeeded): event.replayed - would" in ran.out
    ran = run("payments_replay_events", "--id", "evt_unknown", fails=True)
    assert "event evt_unknown: failed - not stored here" in ran.out

    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    assert "(no stored event matches)" in run("payments_replay_events", "--since", tomorrow).out
    assert failed.stripe_event_id in run("payments_replay_events", "--since", "1h", "--dry-run").out


def test_events_are_replayed_oldest_first(paid_undelivered, deliver, monkeypatch):
    from payments.webhooks import processing

    for _ in range(3):
        paid_undelivered()
    with monkeypatch.context() as patch:
        patch.setitem(processing.HANDLERS, "payment_intent.succeeded", lambda event: 1 / 0)
        deliver()
    records = list(WebhookEvent.objects.filter(status="failed"))
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for offset, record in zip((30, 10, 20), records):
        WebhookEvent.objects.filter(pk=record.pk).update(stripe_created=base + timedelta(seconds=offset))
    lines = [line for line in run("payments_replay_events").out.splitlines() if ": event.replayed - " in line]
    expected = [records[1], records[2], records[0]]
    assert [line.split()[1] for line in lines] == [r.stripe_event_id for r in expected]
