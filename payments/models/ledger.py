"""Our own ledger, so that what we report (payments_ledger, the admin)
reconciles with Stripe's balance without asking Stripe each time. Amounts are
Stripe's own (its balance transactions), never our arithmetic, and no one
edits a row (the admin shows them read-only)."""

from django.db import models


class Transaction(models.Model):
    """One money movement at Stripe (a charge, a refund, a refund that failed),
    with Stripe's own gross, fee and net from its balance transaction, so that
    the sum of net per currency reconciles with the Stripe balance.

    A row is written *incomplete* (no amounts yet: ``gross`` is null) in the
    transaction that learns of the movement, under the Payment's lock, and
    completed from Stripe's balance transaction after that transaction commits
    (services/ledger.py): no Stripe call is made while the row is locked. When
    Stripe cannot be reached then, it stays incomplete until
    ``payments_reconcile`` completes it; the totals count complete rows only."""

    class Type(models.TextChoices):
        """What the movement is to us; ``stripe_type`` keeps Stripe's own word
        (``services.ledger.KINDS`` maps one to the other)."""

        CHARGE = "charge"
        REFUND = "refund"
        REFUND_FAILURE = "refund_failure"
        OTHER = "other"  # a type Stripe documents (adjustment, dispute, fee, ...) that is not a charge or refund
        UNKNOWN = "unknown"  # a type the installed stripe-python does not know (a newer API version's)

    payment = models.ForeignKey("payments.Payment", on_delete=models.PROTECT, related_name="transactions")
    refund = models.ForeignKey(
        "payments.Refund", on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    type = models.CharField(max_length=32, choices=Type.choices)
    stripe_type = models.CharField(
        max_length=64, blank=True, default="", help_text="Stripe's balance transaction type, as Stripe said it."
    )
    currency = models.CharField(max_length=3)
    gross = models.BigIntegerField(null=True, blank=True, help_text="Signed, minor units: negative for money going out. Null: incomplete.")
    fee = models.BigIntegerField(null=True, blank=True)
    net = models.BigIntegerField(null=True, blank=True)
    # Null only on an incomplete charge row, whose balance transaction is found from its charge (stripe_source_id).
    stripe_balance_transaction_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_source_id = models.CharField(max_length=255, blank=True, default="")
    occurred_at = models.DateTimeField(db_index=True, null=True, blank=True, help_text="When Stripe recorded it.")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["occurred_at", "id"], name="transaction_recent_idx")]  # the admin's list

    @property
    def is_complete(self) -> bool:
        return self.gross is not None

    def __str__(self) -> str:
        if not self.is_complete:
            return f"{self.type} (incomplete) {self.currency} ({self.stripe_balance_transaction_id or self.stripe_source_id})"
        return f"{self.type} {self.net} {self.currency} ({self.stripe_balance_transaction_id})"
