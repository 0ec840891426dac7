"""How payments sells an Event (registered in EventsConfig.ready)."""

from __future__ import annotations

from payments.errors import PayableNotPayable
from payments.ids import int_id
from payments.models import Payment, PaymentStatus
from payments.payables import PayableAdapter

from events.models import Event


class EventPayable(PayableAdapter):
    type = "event"

    def get(self, payable_id: str) -> Event | None:
        pk = int_id(payable_id)
        return Event.objects.select_related("tier").filter(pk=pk).first() if pk else None

    def get_for_update(self, payable_id: str) -> Event | None:
        pk = int_id(payable_id)
        if pk is None:
            return None
        return Event.objects.select_for_update(of=("self",)).select_related("tier").filter(pk=pk).first()

    def owner_id(self, obj: Event) -> int:
        return obj.user_id

    def check_payable(self, obj: Event, price) -> None:
        """An active event can be upgraded to a higher tier, not paid again at its own or a lower one."""
        if obj.is_active and obj.tier is not None and obj.tier.position >= price.tier.position:
            raise PayableNotPayable("This event is already active at this tier or a higher one.", field="payable")

    def fulfil(self, obj: Event, payment) -> None:
        """Activate at the paid tier; a payment for a lower tier that lands late never downgrades."""
        obj.is_active = True
        if obj.tier is None or (payment.tier is not None and payment.tier.position >= obj.tier.position):
            obj.tier = payment.tier
        obj.save(update_fields=["is_active", "tier"])

    def revoke(self, obj: Event, payment) -> None:
        """A payment refunded in full takes back the activation it bought, if it is
        what the event is active on; a refund of an older, superseded payment does not.
        The event falls back to the best tier it still holds a succeeded payment for
        (a partial refund still counts), and is inactive only when there is none."""
        if obj.tier_id != payment.tier_id:
            return
        still_paid = (
            Payment.objects.filter(
                payable_type=self.type, payable_id=str(obj.pk),
                status__in=(PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED), tier__isnull=False,
            )
            .exclude(pk=payment.pk)
            .select_related("tier")
            .order_by("-tier__position")
            .first()
        )
        if still_paid is None:
            obj.is_active = False
        else:
            obj.is_active, obj.tier = True, still_paid.tier
        obj.save(update_fields=["is_active", "tier"])
