"""Admin messages kept as rows, so a mail or SMS provider that fails never fails
the webhook that recorded the sale, a failed message can be sent again later,
and none is sent twice (once per payment and recipient, claimed before sending)."""

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

    class Kind(models.TextChoices):
        SALE = "sale"
        ALARM = "alarm"  # a signed event that disagrees with our payment (see webhooks.processing)

    class Channel(models.TextChoices):
        EMAIL = "email"
        SMS = "sms"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.SALE)
    payment = models.ForeignKey("payments.Payment", on_delete=models.PROTECT, related_name="notifications")
    webhook_event = models.ForeignKey(
        "payments.WebhookEvent", on_delete=models.PROTECT, null=True, blank=True, related_name="notifications",
        help_text="The event an alarm is about.",
    )
    message = models.TextField(blank=True, default="", help_text="An alarm's text (a sale's is made when sent).")
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
            models.UniqueConstraint(
                fields=["payment", "channel", "recipient"], condition=models.Q(kind="sale"),
                name="notification_once_per_recipient",
            ),
            # Once per event, however often it is delivered or replayed.
            models.UniqueConstraint(
                fields=["webhook_event", "channel", "recipient"], condition=models.Q(kind="alarm"),
                name="alarm_once_per_event_recipient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} to {self.recipient} about payment {self.payment_id}: {self.status}"
