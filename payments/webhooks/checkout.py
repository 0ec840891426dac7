"""checkout.session.* events: a hosted Checkout page's outcome. The session only
says how it went; a one-time payment's status still comes from its
PaymentIntent's rules (Payment.apply_intent_status), and a subscription's from
the subscription read from Stripe, so a late or repeated session event cannot
move either backwards."""

from payments.gateway import WebhookEventData, checkout_session_from_dict
from payments.services.checkout import apply_checkout_session


def on_checkout_session(event: WebhookEventData) -> None:
    """completed (paid, or unpaid for a delayed method), async_payment_succeeded /
    _failed, expired: the Payment (or subscription) follows."""
    apply_checkout_session(data=checkout_session_from_dict(event.object), snapshot_at=event.created)


HANDLERS = {
    f"checkout.session.{kind}": on_checkout_session
    for kind in ("completed", "async_payment_succeeded", "async_payment_failed", "expired")
}
