"""Admin notifications: each row is claimed before it is sent, so no two senders
(the after-commit one, the command, two runs of it) send one row; providers
are called with a timeout."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from payments.models import Notification, Payment
from payments.services import notifications
from payments.services.notifications import send_notifications


@pytest.fixture
def payment(user, catalog) -> Payment:
    price = catalog["full_eur"]
    return Payment.objects.create(
        user=user, price=price, tier=price.tier, amount=price.unit_amount, currency=price.currency, status="succeeded"
    )


def make(payment, n: int = 1, channel: str = Notification.Channel.EMAIL, **fields) -> list[Notification]:
    return [
        Notification.objects.create(payment=payment, channel=channel, recipient=f"boss{i}@example.com", **fields)
        for i in range(n)
    ]


@pytest.fixture
def delivered(monkeypatch):
    """What reached the providers, one entry per send: the recipient."""
    sent = []
    monkeypatch.setattr(notifications, "_deliver", lambda notification: sent.append(notification.recipient))
    return sent


def test_a_claimed_notification_is_not_sent_by_a_second_sender(payment, monkeypatch):
    """While the first sender is sending a row (here: inside its provider call),
    a second sender (the command, started meanwhile) leaves that row alone."""
    [first, other] = make(payment, 2)
    sent = []

    def deliver(notification):
        sent.append(notification.recipient)
        if len(sent) == 1:  # the first sender is mid-send: a second sender runs now
            inner.append(send_notifications())

    inner = []
    monkeypatch.setattr(notifications, "_deliver", deliver)
    outer = send_notifications()
    assert Counter(sent) == {first.recipient: 1, other.recipient: 1}  # each sent once
    assert inner == [{"sent": 1, "failed": 0, "busy": 0}]  # the second sender sent only the other row
    assert outer == {"sent": 1, "failed": 0, "busy": 1}  # and the first found it taken
    assert list(Notification.objects.values_list("status", "attempts")) == [("sent", 1), ("sent", 1)]


def test_a_row_being_sent_is_left_alone_until_its_claim_is_stale(payment, delivered):
    [row] = make(payment, status=Notification.Status.SENDING, claimed_at=timezone.now() - timedelta(minutes=1))
    assert send_notifications() == {"sent": 0, "failed": 0, "busy": 0} and delivered == []
    # A sender that died mid-send leaves it SENDING: once the claim is stale, it is sent again.
    Notification.objects.update(claimed_at=timezone.now() - notifications.CLAIM_TIMEOUT - timedelta(seconds=1))
    assert send_notifications() == {"sent": 1, "failed": 0, "busy": 0} and delivered == [row.recipient]
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "") and row.sent_at is not None


def test_sent_rows_are_never_sent_again_and_failed_ones_are(payment, monkeypatch):
    [row] = make(payment)
    calls = []

    def flaky(notification):
        calls.append(notification.pk)
        if len(calls) == 1:
            raise ConnectionError("provider down")

    monkeypatch.setattr(notifications, "_deliver", flaky)
    assert send_notifications(ids=[row.pk]) == {"sent": 0, "failed": 1, "busy": 0}
    row.refresh_from_db()
    assert (row.status, row.attempts, row.claimed_at is not None) == ("failed", 1, True)
    assert "provider down" in row.last_error
    assert send_notifications() == {"sent": 1, "failed": 0, "busy": 0}
    assert send_notifications() == {"sent": 0, "failed": 0, "busy": 0}
    assert calls == [row.pk, row.pk]
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")


def test_the_command_reports_what_it_did(payment, delivered, capsys):
    make(payment, 2)
    call_command("payments_send_notifications")
    assert "notifications: 2 sent, 0 failed, 0 being sent by another sender" in capsys.readouterr().out


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (DATABASE_URL): SQLite serializes every writer, so senders cannot race on a row"
    " (test_a_claimed_notification_is_not_sent_by_a_second_sender shows the claim deterministically)",
)
def test_concurrent_senders_send_each_notification_once(transactional_db, django_user_model, catalog, monkeypatch):
    from django.db import connections

    user = django_user_model.objects.create_user("alice")
    price = catalog["full_eur"]
    payment = Payment.objects.create(user=user, price=price, amount=price.unit_amount, currency="eur", status="succeeded")
    rows = make(payment, 6)
    sent, lock = [], threading.Lock()

    def slow(notification):  # a provider call takes a while: the senders overlap
        time.sleep(0.05)
        with lock:
            sent.append(notification.pk)

    monkeypatch.setattr(notifications, "_deliver", slow)
    senders = 4
    barrier = threading.Barrier(senders)
    outcomes = []

    def sender():
        barrier.wait()
        try:
            outcome = send_notifications()
            with lock:
                outcomes.append(outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(sent) == {row.pk: 1 for row in rows}  # every row, each once
    assert sum(o["sent"] for o in outcomes) == len(rows) and sum(o["failed"] for o in outcomes) == 0
    assert set(Notification.objects.values_list("status", "attempts")) == {("sent", 1)}


# ----------------------------------------------------------------- timeouts


def test_sms_goes_through_twilio_with_a_timeout(settings, monkeypatch):
    """The real twilio Client, down to its HTTP client (no network: its request is stubbed)."""
    from twilio.http.http_client import TwilioHttpClient
    from twilio.http.response import Response

    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_FROM_NUMBER = "AC123", "token", "+15550009999"
    seen = []

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False):
        seen.append((method, url, dict(data or {}), timeout if timeout is not None else self.timeout))
        return Response(201, '{"sid": "SM1", "status": "queued", "to": "+15550001111", "body": "hi"}')

    monkeypatch.setattr(TwilioHttpClient, "request", request)
    notifications.send_sms(to="+15550001111", body="hi")
    [(method, url, data, timeout)] = seen
    assert method == "POST" and url.endswith("/Accounts/AC123/Messages.json")
    assert data == {"To": "+15550001111", "From": "+15550009999", "Body": "hi"}
    assert timeout == settings.NOTIFY_TIMEOUT_SECONDS and 0 < timeout <= 30


@pytest.mark.parametrize(("notify_timeout", "expected"), [(None, 10), (3, 3)])
def test_email_is_sent_with_a_timeout(payment, settings, monkeypatch, notify_timeout, expected):
    from django.core.mail import get_connection

    if notify_timeout is not None:
        settings.NOTIFY_TIMEOUT_SECONDS = notify_timeout
    asked = []

    def connection_with(**kwargs):
        asked.append(kwargs)
        return get_connection(**kwargs)

    monkeypatch.setattr(notifications, "get_connection", connection_with)
    make(payment)
    assert send_notifications() == {"sent": 1, "failed": 0, "busy": 0}
    assert asked == [{"timeout": expected}] and len(mail.outbox) == 1
