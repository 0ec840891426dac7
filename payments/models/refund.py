"""A refund is recorded before Stripe is asked, so that its amount is reserved
against the payment: concurrent refunds never give back more than was taken,
and only one request at a time sends a refund whose answer was lost. Stripe's
later events never move a refund backwards."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Refund(models.Model):
    """Money given back on a payment, mirrored from a Stripe Refund.

    Recorded PENDING, with its amount reserved against the payment, before
    Stripe is asked (``sending_since`` marks the one request sending it);
    Stripe's answer and events then move it with :meth:`apply_stripe_status`,
    which never moves it backwards, except over our own guess (FAILED before
    Stripe ever named it) when Stripe first reports it.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        REQUIRES_ACTION = "requires_action"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELED = "canceled"

    class Reason(models.TextChoices):
        DUPLICATE = "duplicate"
        FRAUDULENT = "fraudulent"
        REQUESTED_BY_CUSTOMER = "requested_by_customer"
        OTHER = "other"

    payment = models.ForeignKey("payments.Payment", on_delete=models.PROTECT, related_name="refunds")
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.PENDING, db_index=True)
    reason = models.CharField(max_length=32, choices=Reason.choices, null=True, blank=True)
    description = models.TextField(blank=True, default="")
    failure_reason = models.CharField(max_length=100, blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    request_fingerprint = models.CharField(max_length=255, blank=True, default="")
    sending_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="While set (and younger than the send lease), one request is sending this refund to Stripe;"
        " no other request sends it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at", "id"], name="refund_recent_idx")]  # the admin's list and dates
        constraints = [
            models.UniqueConstraint(
                fields=["requested_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="refund_unique_idempotency_key_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"refund {self.pk} {self.amount} {self.currency} {self.status}"

    # Money still on its way back, or back: it counts against what remains refundable.
    RESERVING = (Status.PENDING, Status.REQUIRES_ACTION, Status.SUCCEEDED)
    # Stripe's refunds move pending/requires_action -> succeeded -> failed (a
    # card that cannot take it back), or to canceled/failed from the start.
    _RANK = {Status.PENDING: 0, Status.REQUIRES_ACTION: 0, Status.SUCCEEDED: 1, Status.FAILED: 2, Status.CANCELED: 2}

    def apply_stripe_status(self, status: str, *, failure_reason: str = "", first_word: bool = False) -> bool:
        """Move to Stripe's status unless that is a step back; returns whether it changed.

        ``first_word``: this is the first time Stripe tells us of this refund (we
        had no Stripe id for it), so whatever we had was our own guess (PENDING,
        or FAILED after a refusal we took as final) and Stripe's status replaces
        it, even a "step back" from FAILED to SUCCEEDED: Stripe's word wins."""
        new = self.Status(status)
        if not first_word and self._RANK[new] < self._RANK[self.Status(self.status)]:
            return False
        if first_word:
            changed = new != self.status or failure_reason != self.failure_reason
            self.failure_reason = failure_reason
        else:
            changed = new != self.status or (failure_reason and failure_reason != self.failure_reason)
            if failure_reason:
                self.failure_reason = failure_reason
        self.status = new
        return bool(changed)
