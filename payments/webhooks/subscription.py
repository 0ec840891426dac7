"""customer.subscription.* events: a Subscription's status and periods, and so
the user's entitlement. The snapshot at the event's ``created`` is applied by
Subscription.apply_snapshot: the newest wins and an ended subscription stays
ended, whatever the order of delivery."""

from payments.gateway import WebhookEventData, subscription_from_dict
from payments.services.subscription_sync import apply_subscription
from payments.services.trials import record_trial_will_end


def on_subscription(event: WebhookEventData) -> None:
    """Each customer.subscription.* event carries the subscription's snapshot at
    ``event.created``; an older snapshot never overwrites a newer one."""
    apply_subscription(data=subscription_from_dict(event.object), snapshot_at=event.created)


def on_trial_will_end(event: WebhookEventData) -> None:
    """Three days before a trial ends: the snapshot applied, the reminder recorded once
    and host apps told (payments.signals.trial_will_end)."""
    subscription = apply_subscription(data=subscription_from_dict(event.object), snapshot_at=event.created)
    if subscription is not None:
        record_trial_will_end(subscription)


HANDLERS = {
    f"customer.subscription.{kind}": on_subscription
    for kind in ("created", "updated", "deleted", "paused", "resumed", "pending_update_applied", "pending_update_expired")
}
HANDLERS["customer.subscription.trial_will_end"] = on_trial_will_end
