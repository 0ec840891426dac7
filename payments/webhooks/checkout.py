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
