"""customer.updated: the default card a customer saved (on the billing portal, or a
trial's SetupIntent), so renewals are charged to it. Stripe's snapshot is the
truth, the newest one by the event's creation: an older event delivered later
changes nothing, and nothing else on the Customer moves."""

from datetime import datetime, timezone

from payments.stripe_data import WebhookEventData, customer_from_dict
from payments.services.billing_portal import apply_customer


def on_customer_updated(event: WebhookEventData) -> None:
    """The customer's default payment method (a card saved on the billing portal)."""
    apply_customer(
        data=customer_from_dict(event.object), snapshot_at=datetime.fromtimestamp(event.created, tz=timezone.utc)
    )


HANDLERS = {"customer.updated": on_customer_updated}
