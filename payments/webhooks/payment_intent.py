"""payment_intent.* events: a Payment's status. Stripe sends them in any order
and more than once; each carries the intent's snapshot at the event's
``created``, and Payment.apply_intent_status keeps the newest and never leaves
a settled status."""

from payments.gateway import WebhookEventData, payment_intent_from_dict
from payments.services.payments import apply_payment_intent


def on_payment_intent(event: WebhookEventData) -> None:
    """Every payment_intent.* event carries the intent's snapshot at ``event.created``;
    the status comes from the snapshot, and an older one never overwrites a newer one."""
    apply_payment_intent(intent=payment_intent_from_dict(event.object), snapshot_at=event.created)


HANDLERS = {
    "payment_intent.succeeded": on_payment_intent,
    "payment_intent.payment_failed": on_payment_intent,
    "payment_intent.processing": on_payment_intent,
    "payment_intent.requires_action": on_payment_intent,
    "payment_intent.canceled": on_payment_intent,
}
