"""Telling the admins of each sale, exactly once, after commit; a failing
provider never fails the webhook (the row keeps the error; the
payments_send_notifications command tries again)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.mail import get_connection, send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from payments.conf import get_config
from payments.models import Notification, Payment
from payments.money import format_amount

logger = logging.getLogger(__name__)

# A row claimed (SENDING) longer ago than this is taken to be left by a sender
# that died mid-send, and is sent again. Far longer than one provider call.
CLAIM_TIMEOUT = timedelta(minutes=10)


def notify_sale(payment: Payment) -> None:
    """Call in the transaction that records ``payment`` as SUCCEEDED (once per payment)."""
    _notify(payment_id=payment.pk)


def notify_alarm(*, payment_id, webhook_event_id: int, message: str) -> int:
    """Tell the admins (every channel) that a signed event disagrees with a payment;
    once per event, however often it comes. Call in a transaction: sent after
    commit. Returns how many notifications were created (0: told already)."""
    return _notify(payment_id=payment_id, kind=Notification.Kind.ALARM, webhook_event_id=webhook_event_id,
                   message=message[:2000])


def _notify(**fields) -> int:
    config = get_config()
    recipients = [(Notification.Channel.EMAIL, e) for e in config.notify_emails]
    recipients += [(Notification.Channel.SMS, p) for p in config.notify_phones]
    created = []
    for channel, recipient in recipients:
        try:
            with transaction.atomic():
                created.append(Notification.objects.create(channel=channel, recipient=recipient, **fields).pk)
        except IntegrityError:
            continue  # told already
    if created:
        transaction.on_commit(lambda: send_notifications(ids=created), robust=True)
    return len(created)


def send_notifications(*, ids: list[int] | None = None) -> dict[str, int]:
    """Send pending and failed notifications (and those whose sender died mid-send);
    returns counts by outcome: ``sent``, ``failed``, and ``busy`` (claimed by
    another sender first). Each row is claimed before it is sent, so concurrent
    senders never send one row twice."""
    counts = {"sent": 0, "failed": 0, "busy": 0}
    candidates = _sendable(timezone.now())
    if ids is not None:
        candidates = candidates.filter(pk__in=ids)
    for pk in list(candidates.order_by("id").values_list("pk", flat=True)):
        claim = _claim(pk)
        if claim is None:
            counts["busy"] += 1
            continue
        notification = Notification.objects.select_related("payment__tier", "payment__user").get(pk=pk)
        try:
            _deliver(notification)
        except Exception as exc:  # any provider error: recorded, retried later, never raised
            logger.warning("notification %s failed: %s", pk, exc)
            _finish(pk, claim, status=Notification.Status.FAILED, last_error=f"{type(exc).__name__}: {exc}")
            counts["failed"] += 1
        else:
            _finish(pk, claim, status=Notification.Status.SENT, last_error="", sent_at=timezone.now())
            counts["sent"] += 1
    return counts


def _sendable(now):
    """Rows no sender holds: pending, failed, or claimed longer than CLAIM_TIMEOUT ago."""
    return Notification.objects.filter(
        Q(status__in=[Notification.Status.PENDING, Notification.Status.FAILED])
        | Q(status=Notification.Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
    )


def _claim(pk: int):
    """One conditional UPDATE: whoever changes the row owns it (on PostgreSQL a
    concurrent claimer waits for the row and then finds it SENDING). Returns
    the claim's time, the token that finishes it, or None when taken already."""
    now = timezone.now()
    claimed = _sendable(now).filter(pk=pk).update(
        status=Notification.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    return now if claimed else None


def _finish(pk: int, claim, **outcome) -> None:
    if not Notification.objects.filter(pk=pk, status=Notification.Status.SENDING, claimed_at=claim).update(**outcome):
        logger.warning("notification %s: its claim expired while it was being sent; outcome %s not recorded", pk, outcome)


def _message(notification: Notification) -> str:
    if notification.kind == Notification.Kind.ALARM:
        return f"SECURITY ALARM (payments): {notification.message}"
    payment = notification.payment
    what = payment.tier.name if payment.tier else "a payment"
    return f"Sale: {what} for {format_amount(payment.amount, payment.currency)} by {payment.user.get_username()} (payment {payment.pk})"


def _deliver(notification: Notification) -> None:
    text = _message(notification)
    if notification.channel == Notification.Channel.EMAIL:
        send_mail(
            subject=text[:78], message=text, from_email=None, recipient_list=[notification.recipient],
            fail_silently=False, connection=get_connection(timeout=get_config().notify_timeout),
        )
    else:
        send_sms(to=notification.recipient, body=text)


def send_sms(*, to: str, body: str) -> None:
    """Through Twilio when TWILIO_* are set; printed to the log otherwise."""
    config = get_config()
    if not config.sms_configured:
        logger.info("SMS (Twilio not configured) to %s: %s", to, body)
        return
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    client = Client(config.twilio_account_sid, config.twilio_auth_token)
    # Twilio's default HTTP client waits forever; this runs in the webhook request.
    client.http_client = TwilioHttpClient(timeout=config.notify_timeout)
    client.messages.create(to=to, from_=config.twilio_from_number, body=body)
