"""A user's subscription Checkout pages (createCheckoutSession with a RECURRING
price), one row per request that opened or reused one.

They are attempts of their own, not Payments (the subscription is adopted from
Stripe's events once the customer pays): at most one page is open per user,
reused for the same request and expired at Stripe before another one (or a
createSubscription) starts. Every write happens under the Customer row's lock,
which serialises the user's subscription starts; the latest row names the page
the next one follows (its Stripe idempotency key)."""

from django.db import models
from django.db.models import Q


class SubscriptionCheckoutAttempt(models.Model):
    class Status(models.TextChoices):
        # What Stripe said of the page when we last read it: an expired page can
        # never be paid, so it is not read again.
        OPEN = "open"
        COMPLETE = "complete"
        EXPIRED = "expired"

    customer = models.ForeignKey(
        "payments.Customer", on_delete=models.PROTECT, related_name="subscription_checkout_attempts"
    )
    stripe_checkout_session_id = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    # What the key was first used for (price and URLs): the same key with other input is refused.
    request_fingerprint = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at", "-id"], name="sub_checkout_latest_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="sub_checkout_unique_idempotency_key_per_customer",
            )
        ]

    def __str__(self) -> str:
        return f"subscription checkout {self.stripe_checkout_session_id} ({self.status})"
