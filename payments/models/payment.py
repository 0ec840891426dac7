"""A one-time payment and the rules that keep it right whatever order Stripe's
events arrive in, and however often: a settled payment (succeeded, canceled,
refunded) never goes back to open, an older PaymentIntent snapshot never
overwrites a newer one, refunds move only a payment that took money, and the
database refuses a refunded amount above the amount. Payment is ours, not
Stripe's: it exists before the PaymentIntent, with the Price's amount."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class PaymentStatus(models.TextChoices):
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


# Stripe's PaymentIntent status -> ours. requires_payment_method means FAILED
# when the PaymentIntent carries a last_payment_error (an attempt failed), else PENDING.
STRIPE_STATUS = {
    "requires_payment_method": PaymentStatus.PENDING,
    "requires_confirmation": PaymentStatus.PENDING,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
    "processing": PaymentStatus.PROCESSING,
    "requires_capture": PaymentStatus.PROCESSING,
    "succeeded": PaymentStatus.SUCCEEDED,
    "canceled": PaymentStatus.CANCELED,
}

# Once money moved (or the intent was canceled) a PaymentIntent snapshot can
# never move the payment again; only refunds move it on from SUCCEEDED.
SETTLED = frozenset(
    {PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}
)
OPEN = frozenset({PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION, PaymentStatus.FAILED})
# Not settled yet: open, or money on its way (PROCESSING). At most one of a
# user's payments for the same payable is live at a time (services.payments.start_attempt).
LIVE = OPEN | {PaymentStatus.PROCESSING}
# Tie-break for two snapshots from the same second: the one further along wins.
_PROGRESS = {
    PaymentStatus.PENDING: 0,
    PaymentStatus.FAILED: 1,
    PaymentStatus.REQUIRES_ACTION: 2,
    PaymentStatus.PROCESSING: 3,
}


def _our_status(stripe_status: str, failure_code: str) -> PaymentStatus:
    new = STRIPE_STATUS.get(stripe_status)
    if new is None:
        raise ValueError(f"unknown PaymentIntent status {stripe_status!r}")
    return PaymentStatus.FAILED if new == PaymentStatus.PENDING and failure_code else new


class Payment(models.Model):
    """One attempt to take a one-time amount, mirrored from a Stripe PaymentIntent.

    The amount is copied from the Price when the payment is created and never
    taken from the client. The status is decided by Stripe's signed events (or
    a read of the PaymentIntent), through :meth:`apply_intent_status`, which
    refuses to move it backwards.
    """

    Status = PaymentStatus

    class Flow(models.TextChoices):
        """How the customer pays: our page with Stripe.js and the PaymentIntent's
        client secret (createPaymentIntent), or Stripe's hosted Checkout page
        (createCheckoutSession), whose session makes the PaymentIntent itself."""

        INTENT = "intent"
        CHECKOUT = "checkout"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    price = models.ForeignKey("payments.Price", on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    tier = models.ForeignKey("payments.Tier", on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    amount = models.PositiveIntegerField(help_text="In the currency's minor unit.")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=32, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)  # indexed with created_at (Meta.indexes)
    flow = models.CharField(max_length=16, choices=Flow.choices, default=Flow.INTENT)
    amount_refunded = models.PositiveIntegerField(default=0)
    payable_type = models.CharField(max_length=64, blank=True, default="")
    payable_id = models.CharField(max_length=64, blank=True, default="")
    stripe_payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    # The hosted Checkout page currently offered for this payment (createCheckoutSession).
    stripe_checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    # What the idempotency key was first used for (price and payable): the same
    # key with other input is refused.
    request_fingerprint = models.CharField(max_length=255, blank=True, default="")
    failure_code = models.CharField(max_length=100, blank=True, default="")
    failure_message = models.TextField(blank=True, default="")
    failure_at = models.BigIntegerField(default=0, help_text="`created` of the snapshot that set failure_code.")
    # The succeeded charge: what paid (Payment.paymentMethod) and Stripe's receipt.
    # From charge.succeeded/charge.updated, or the charge the ledger reads anyway
    # (services.receipts); blank until a charge succeeded.
    stripe_charge_id = models.CharField(max_length=255, blank=True, default="")
    payment_method_type = models.CharField(max_length=64, blank=True, default="")
    card_brand = models.CharField(max_length=32, blank=True, default="")
    card_last4 = models.CharField(max_length=4, blank=True, default="")
    receipt_url = models.URLField(max_length=1000, blank=True, default="")
    # `created` of the newest Stripe snapshot applied (epoch seconds): an older
    # one arriving late changes nothing.
    stripe_snapshot_at = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="payment_unique_idempotency_key_per_user",
            ),
            models.CheckConstraint(name="payment_refund_within_amount", condition=Q(amount_refunded__lte=models.F("amount"))),
        ]
        indexes = [
            models.Index(fields=["payable_type", "payable_id"], name="payment_payable_idx"),
            models.Index(fields=["user", "-created_at"], name="payment_user_recent_idx"),
            # The admin's list (its ordering), date navigation and currency filter.
            models.Index(fields=["created_at", "id"], name="payment_recent_idx"),
            models.Index(fields=["currency", "created_at", "id"], name="payment_currency_idx"),
            # The currency filter's count: a handful of values, so a small (deduplicated) index, read
            # index-only where the wide one loses to a Seq Scan when most payments are in one currency.
            models.Index(fields=["currency"], name="payment_currency_count_idx"),
            models.Index(fields=["status", "created_at", "id"], name="payment_status_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"payment {self.pk} {self.amount} {self.currency} {self.status}"

    @property
    def is_open(self) -> bool:
        """The customer may still pay it (no money moved, not canceled)."""
        return self.status in OPEN

    def apply_intent_status(
        self,
        stripe_status: str,
        *,
        snapshot_at: int,
        failure_code: str = "",
        failure_message: str = "",
        authoritative: bool = False,
    ) -> bool:
        """Move to the status a PaymentIntent snapshot taken at ``snapshot_at`` shows.

        Order-proof: settled statuses (SUCCEEDED, CANCELED, refunded) are never
        left; among the open ones the newest snapshot wins, and a tie goes to the
        status further along, unless the snapshot is ``authoritative`` (just read
        from Stripe). Returns whether anything changed; saving is the caller's (it
        holds the row lock).
        """
        new = _our_status(stripe_status, failure_code)
        changed = False
        # The newest failed attempt's reason, whatever order the snapshots come in.
        if failure_code and (snapshot_at, failure_code) > (self.failure_at, self.failure_code):
            self.failure_code, self.failure_message, self.failure_at = failure_code, failure_message, snapshot_at
            changed = True
        if self.status in SETTLED:
            return changed
        if new not in SETTLED:
            if snapshot_at < self.stripe_snapshot_at:
                return changed
            if snapshot_at == self.stripe_snapshot_at and not authoritative and _PROGRESS[new] < _PROGRESS[self.status]:
                return changed
        changed = changed or new != self.status
        self.status = new
        self.stripe_snapshot_at = max(self.stripe_snapshot_at, snapshot_at)
        return changed


    def snapshot_is_ambiguous(self, stripe_status: str, *, snapshot_at: int, failure_code: str = "") -> bool:
        """Two snapshots of the same second that disagree on an open status: only
        Stripe can tell which is current (e.g. processing, then failed, at once)."""
        new = _our_status(stripe_status, failure_code)
        return (
            snapshot_at == self.stripe_snapshot_at
            and self.status not in SETTLED
            and new not in SETTLED
            and new != self.status
        )

    def apply_refunded_amount(self, amount_refunded: int) -> bool:
        """Follow the sum of succeeded refunds: PARTIALLY_REFUNDED, REFUNDED, or
        back to SUCCEEDED when a refund failed. Only for a payment that took money."""
        if self.status not in REFUNDABLE_STATES:
            return False
        if amount_refunded >= self.amount:
            status = PaymentStatus.REFUNDED
        elif amount_refunded > 0:
            status = PaymentStatus.PARTIALLY_REFUNDED
        else:
            status = PaymentStatus.SUCCEEDED
        changed = (status, amount_refunded) != (self.status, self.amount_refunded)
        self.status, self.amount_refunded = status, min(amount_refunded, self.amount)
        return changed


REFUNDABLE_STATES = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED})
