"""Publishing a payment's change, after commit: a Django signal for host apps
and a Channels group message for paymentStatus subscribers. Nothing is
published for a change that is rolled back."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from payments.models import Payment, Refund
from payments.signals import entitlement_changed, payment_status_changed, refund_changed

logger = logging.getLogger(__name__)

PAYMENT_CHANGED = "payment.changed"
# The fields a subscriber's message carries: the state as of that commit, so
# that each change is seen even when the next one commits before it is read.
SNAPSHOT_FIELDS = ("status", "amount_refunded", "failure_code", "failure_message")


def payment_group(payment_id) -> str:
    return f"payment.{payment_id}"


def payment_snapshot(payment: Payment) -> dict:
    return {
        **{name: getattr(payment, name) for name in SNAPSHOT_FIELDS},
        "updated_at": payment.updated_at.isoformat(),
    }


def publish_payment_change(payment: Payment, *, previous_status: str) -> None:
    """Call inside the transaction that changed (and saved) ``payment``. Subscribers
    see every change; the signal fires when the status changed."""
    message = {"type": PAYMENT_CHANGED, "payment_id": str(payment.pk), "snapshot": payment_snapshot(payment)}

    def _publish() -> None:
        if payment.status != previous_status:
            payment_status_changed.send(sender=Payment, payment=payment, previous_status=previous_status)
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(payment_group(payment.pk), message)
        except Exception:  # the ledger is committed; a lost push must not fail the webhook
            logger.exception("could not publish the change of payment %s", payment.pk)

    transaction.on_commit(_publish, robust=True)


def publish_refund_change(refund: Refund, *, previous_status: str | None) -> None:
    """Call inside the transaction that changed (and saved) ``refund``: host apps
    get refund_changed after commit (the payment's subscribers are told through
    the payment's own change)."""
    transaction.on_commit(
        lambda: refund_changed.send(sender=Refund, refund=refund, previous_status=previous_status), robust=True
    )


def publish_entitlement_change(subscription, *, previous_tier, tier) -> None:
    """Call inside the transaction that changed the user's best subscription."""
    transaction.on_commit(
        lambda: entitlement_changed.send(
            sender=type(subscription), user=subscription.user, previous_tier=previous_tier, tier=tier
        ),
        robust=True,
    )
