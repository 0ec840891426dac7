from django.db import models


class Transaction(models.Model):
    """One money movement at Stripe (a charge, a refund, a refund that failed),
    with Stripe's own gross, fee and net from its balance transaction, so that
    the sum of net per currency reconciles with the Stripe balance."""

    class Type(models.TextChoices):
        CHARGE = "charge"
        REFUND = "refund"
        REFUND_FAILURE = "refund_failure"

    payment = models.ForeignKey("payments.Payment", on_delete=models.PROTECT, related_name="transactions")
    refund = models.ForeignKey(
        "payments.Refund", on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    type = models.CharField(max_length=32, choices=Type.choices)
    currency = models.CharField(max_length=3)
    gross = models.BigIntegerField(help_text="Signed, minor units: negative for money going out.")
    fee = models.BigIntegerField()
    net = models.BigIntegerField()
    stripe_balance_transaction_id = models.CharField(max_length=255, unique=True)
    stripe_source_id = models.CharField(max_length=255, blank=True, default="")
    occurred_at = models.DateTimeField(db_index=True, help_text="When Stripe recorded it.")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.net} {self.currency} ({self.stripe_balance_transaction_id})"
