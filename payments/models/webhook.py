"""Every Stripe event, stored before it is processed (unique by Stripe's id), so
a redelivery or a concurrent delivery is processed once, a failed one can be
processed again (payments_replay_events, the admin's Reprocess), and one we
refused stays as evidence."""

from django.db import models


class WebhookEvent(models.Model):
    """Every Stripe event we received, stored once (before it is processed)."""

    class Status(models.TextChoices):
        RECEIVED = "received"
        PROCESSED = "processed"
        IGNORED = "ignored"  # a type we do not handle: stored, answered 200, logged
        FAILED = "failed"  # the handler raised: answered 500 so Stripe retries
        REFUSED = "refused"  # livemode other than our key's: recorded, answered 400, never applied

    stripe_event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)  # indexed with received_at (Meta.indexes)
    livemode = models.BooleanField(default=False)
    api_version = models.CharField(max_length=64, blank=True, default="")
    stripe_created = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField()
    # The identifiers the admin searches by (indexed; never the payload itself):
    # the event's object (data.object.id) and the PaymentIntent it is about.
    object_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    payment_intent_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)  # indexed with received_at
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            # The admin's list (its ordering) and date navigation.
            models.Index(fields=["received_at", "id"], name="webhookevent_recent_idx"),
            # A filter and the list's order together (a rare status or type is found at once,
            # not by walking the received_at index backwards); also status or type alone.
            models.Index(fields=["status", "received_at", "id"], name="webhookevent_status_idx"),
            models.Index(fields=["type", "received_at", "id"], name="webhookevent_type_idx"),
            models.Index(fields=["livemode", "received_at", "id"], name="webhookevent_livemode_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.stripe_event_id} {self.type} ({self.status})"
