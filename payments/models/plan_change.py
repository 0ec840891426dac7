"""A changeSubscription request remembered, so that a retry with the same
idempotency key repeats the same Stripe call (and prorates once), and the same
key for another price is refused."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PlanChange(models.Model):
    """One changeSubscription request: what its idempotency key was first used for,
    and the proration invoice Stripe made for it (blank until Stripe's answer is
    recorded; a retry with the same key re-sends it with the same Stripe key)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="plan_changes")
    subscription = models.ForeignKey("payments.Subscription", on_delete=models.PROTECT, related_name="plan_changes")
    price = models.ForeignKey("payments.Price", on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    request_fingerprint = models.CharField(max_length=255)
    proration_date = models.DateTimeField(null=True, blank=True)
    stripe_invoice_id = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"], name="plan_change_idempotency_key_per_user",
                condition=models.Q(idempotency_key__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"plan change {self.pk} of subscription {self.subscription_id} to price {self.price_id}"
