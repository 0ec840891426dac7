"""Telling the admins of each sale, exactly once, after commit; a failing
provider never fails the webhook (the row keeps the error; the
payments_send_notifications command tries again)."""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from payments.conf import get_config
from payments.models import Notification, Payment
from payments.money import format_amount

logger = logging.getLogger(__name__)


def notify_sale(payment: Payment) -> None:
    """Call in the transaction that records ``payment`` as SUCCEEDED (once per payment)."""
    config = get_config()
    recipients = [(Notification.Channel.EMAIL, e) for e in config.notify_emails]
    recipients += [(Notification.Channel.SMS, p) for p in config.notify_phones]
    created = []
    for channel, recipient in recipients:
        try:
            with transaction.atomic():
                created.append(Notification.objects.create(payment=payment, channel=channel, recipient=recipient).pk)
        except IntegrityError:
            continue  # told already
    if created:
        transaction.on_commit(lambda: send_notifications(ids=created), robust=True)


def send_notifications(*, ids: list[int] | None = None) -> dict[str, int]:
    """Send pending (and failed) notifications; returns counts by outcome."""
    qs = Notification.objects.exclude(status=Notification.Status.SENT).select_related("payment__tier", "payment__user")
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    counts = {"sent": 0, "failed": 0}
    for notification in qs:
        try:
            _deliver(notification)
        except Exception as exc:  # any provider error: recorded, retried later, never raised
            logger.warning("notification %s failed: %s", notification.pk, exc)
            Notification.objects.filter(pk=notification.pk).update(
                status=Notification.Status.FAILED, attempts=notification.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"
            )
            counts["failed"] += 1
        else:
            Notification.objects.filter(pk=notification.pk).update(
                status=Notification.Status.SENT, attempts=notification.attempts + 1, last_error="", sent_at=timezone.now()
            )
            counts["sent"] += 1
    return counts


def _message(payment: Payment) -> str:
    what = payment.tier.name if payment.tier else "a payment"
    return f"Sale: {what} for {format_amount(payment.amount, payment.currency)} by {payment.user.get_username()} (payment {payment.pk})"


def _deliver(notification: Notification) -> None:
    text = _message(notification.payment)
    if notification.channel == Notification.Channel.EMAIL:
        send_mail(subject=text[:78], message=text, from_email=None, recipient_list=[notification.recipient], fail_silently=False)
    else:
        send_sms(to=notification.recipient, body=text)


def send_sms(*, to: str, body: str) -> None:
    """Through Twilio when TWILIO_* are set; printed to the log otherwise."""
    config = get_config()
    if not config.sms_configured:
        logger.info("SMS (Twilio not configured) to %s: %s", to, body)
        return
    from twilio.rest import Client

    Client(config.twilio_account_sid, config.twilio_auth_token).messages.create(
        to=to, from_=config.twilio_from_number, body=body
    )
