"""refund.* and charge.refunded events: a Refund's status and the Payment's
refunded amount. A refund never moves backwards (Refund.apply_stripe_status),
whatever the order. charge.refunded names no refund, so the payment's refunds
are read from Stripe: that is how a refund made in the Dashboard reaches us."""

from payments.gateway import WebhookEventData, refund_from_dict
from payments.services.refunds import apply_refund, sync_refunds_from_stripe


def on_refund(event: WebhookEventData) -> None:
    """refund.created / .updated / .failed and the legacy charge.refund.updated carry the refund."""
    apply_refund(data=refund_from_dict(event.object))


def on_charge_refunded(event: WebhookEventData) -> None:
    """charge.refunded carries the charge only (API endive): read its refunds from Stripe.
    This is how a refund made in the Dashboard reaches us even without refund.* events."""
    payment_intent = event.object.get("payment_intent")
    if isinstance(payment_intent, dict):
        payment_intent = payment_intent.get("id")
    if isinstance(payment_intent, str) and payment_intent:
        sync_refunds_from_stripe(payment_intent_id=payment_intent)


HANDLERS = {
    "refund.created": on_refund,
    "refund.updated": on_refund,
    "refund.failed": on_refund,
    "charge.refund.updated": on_refund,
    "charge.refunded": on_charge_refunded,
}
