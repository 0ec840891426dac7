from django.db import models


class Notification(models.Model):
    """One message to an admin about a sale: created once per payment and
    recipient in the transaction that records the success, sent after commit,
    and kept with its error when the provider fails (payments_send_notifications
    sends it again).

    A sender claims a row (PENDING or FAILED -> SENDING, ``claimed_at``) with one
    conditional UPDATE before sending it, so two senders (the after-commit one
    and the command, or two runs of the command) never both send it; a row left
    SENDING by a crash mid-send is sendable again once its claim is stale."""

    class Channel(models.TextChoices):
        EMAIL = "email"
        SMS = "sms"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    payment = models.ForeignKey("payments.Payment", on_delete=models.PROTECT, related_name="notifications")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = models.CharField(max_length=255)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a sender claimed it (status SENDING).")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "channel", "recipient"], name="notification_once_per_recipient")
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient} about payment {self.payment_id}: {self.status}"
