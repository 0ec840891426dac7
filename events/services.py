"""Writes on events that are not payments: creating one, and activating one for
free while payments are off. A paid activation never comes from here but from
a succeeded payment, through the payable adapter's fulfil()."""

from events.models import Event


def event_create(*, user, title: str) -> Event:
    return Event.objects.create(user=user, title=title.strip())


def event_activate_free(*, user, event_id: str, tier_id: str) -> Event:
    """With payments switched off (PAYMENTS_ENABLED=false) an event is activated
    at the requested tier for free; with payments on, the tier must be paid for."""
    from payments.conf import payments_enabled
    from payments.errors import Forbidden, NotFound
    from payments.ids import int_id
    from payments.models import Tier

    event = Event.objects.filter(pk=pk, user=user).first() if (pk := int_id(event_id)) else None
    if event is None:
        raise NotFound("No such event.", field="eventId")
    tier = Tier.objects.filter(pk=tier_pk, active=True).first() if (tier_pk := int_id(tier_id)) else None
    if tier is None:
        raise NotFound("No such tier.", field="tierId")
    if payments_enabled():
        raise Forbidden("Payments are on: pay for the tier with createPaymentIntent or createCheckoutSession.")
    event.is_active, event.tier = True, tier
    event.save(update_fields=["is_active", "tier"])
    return event
