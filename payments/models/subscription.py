"""Subscriptions and their invoices, mirrored from Stripe. Entitlement is read
from here, so the order of Stripe's events must not matter: an older snapshot
never overwrites a newer one, an ended subscription (canceled, expired) never
comes back, a paid or void invoice is final. A subscription we ended ourselves
keeps why (ClosedReason), since what it took is refunded."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Subscription(models.Model):
    """A customer's recurring plan, mirrored from a Stripe Subscription.

    Written before Stripe is asked (like Payment), then moved by Stripe's
    snapshots through :meth:`apply_snapshot`, which never lets an older
    snapshot overwrite a newer one. A canceled subscription stays, as CANCELED.
    """

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete"
        INCOMPLETE_EXPIRED = "incomplete_expired"
        TRIALING = "trialing"
        ACTIVE = "active"
        PAST_DUE = "past_due"
        CANCELED = "canceled"
        UNPAID = "unpaid"
        PAUSED = "paused"

    # Entitlement: ACTIVE and TRIALING give access; PAST_DUE keeps it while Stripe
    # retries the renewal (it ends when Stripe gives up: UNPAID or CANCELED).
    ENTITLING = (Status.ACTIVE, Status.TRIALING, Status.PAST_DUE)
    # A viewer with one of these may not start another.
    BLOCKING_NEW = (Status.ACTIVE, Status.TRIALING, Status.PAST_DUE)
    FINAL = (Status.CANCELED, Status.INCOMPLETE_EXPIRED)

    class ClosedReason(models.TextChoices):
        """Why we ended it ourselves; any payment it takes is refunded in full,
        since the customer never gets (or got) its service."""

        NONE = "", "-"
        # An INCOMPLETE one the user replaced by starting another (createSubscription,
        # a subscription Checkout page) before paying it.
        SUPERSEDED = "superseded", "Superseded by a newer start"
        # A second ACTIVE/TRIALING/PAST_DUE one from our own flows (a Checkout page
        # completed in a race): canceled at Stripe at once.
        DUPLICATE = "duplicate", "Duplicate of a running subscription"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subscriptions")
    price = models.ForeignKey("payments.Price", on_delete=models.PROTECT, related_name="subscriptions")
    tier = models.ForeignKey("payments.Tier", on_delete=models.PROTECT, related_name="subscriptions")
    stripe_subscription_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.INCOMPLETE, db_index=True)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Stripe's trial_start/trial_end (kept once the trial is over, as Stripe keeps them).
    trial_start = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    # The trial this start asked Stripe for (createSubscription; services.trials):
    # decided once, under the Customer lock, when the row is written.
    trial_period_days = models.PositiveSmallIntegerField(null=True, blank=True)
    # The trial_end that customer.subscription.trial_will_end was recorded for
    # (and host apps told of, payments.signals.trial_will_end): once per trial.
    trial_will_end_for = models.DateTimeField(null=True, blank=True)
    # `created` of the newest Stripe snapshot applied (epoch seconds).
    stripe_snapshot_at = models.BigIntegerField(default=0)
    # Set when an event showed another plan or cancel request than ours (Stripe is to be
    # read: the event is a hint, the API object the truth), in the event's transaction;
    # cleared by a read of Stripe's subscription begun after it (services.subscription_sync).
    # payments_reconcile reads those still set, oldest first.
    stripe_reread_requested_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=16, choices=ClosedReason.choices, blank=True, default="")
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    request_fingerprint = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_at", "id"], name="subscription_recent_idx"),  # the admin's list
            models.Index(  # payments_reconcile's pending re-reads
                fields=["stripe_reread_requested_at", "id"], name="subscription_reread_idx",
                condition=Q(stripe_reread_requested_at__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="subscription_unique_idempotency_key_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"subscription {self.pk} {self.tier_id} {self.status}"

    # Tie-break between snapshots of the same moment: the status further along wins.
    _RANK = {
        Status.INCOMPLETE: 0,
        Status.PAST_DUE: 1, Status.UNPAID: 1, Status.PAUSED: 1,
        Status.ACTIVE: 2, Status.TRIALING: 2,
        Status.CANCELED: 3, Status.INCOMPLETE_EXPIRED: 3,
    }

    def apply_snapshot(self, fields: dict, *, snapshot_at: int) -> bool:
        """Take Stripe's fields (status, periods, cancel flags) from a snapshot taken at ``snapshot_at``.

        Order-proof: an ended subscription stays ended and an ending one always
        ends; otherwise the newest snapshot wins, judged by the event's ``created``,
        then the subscription's own clocks (the period's start, which moves on each
        renewal, and ``canceled_at``, set by every cancel request), then the status
        further along.
        """
        if self.status in self.FINAL:
            return False
        if fields["status"] not in self.FINAL:
            new_key = (snapshot_at, _epoch(fields["current_period_start"]), _epoch(fields["canceled_at"]))
            old_key = (self.stripe_snapshot_at, _epoch(self.current_period_start), _epoch(self.canceled_at))
            if new_key < old_key:
                return False
            if new_key == old_key and self._RANK[fields["status"]] < self._RANK[self.status]:
                return False
        changed = any(getattr(self, name) != value for name, value in fields.items())
        for name, value in fields.items():
            setattr(self, name, value)
        self.stripe_snapshot_at = max(self.stripe_snapshot_at, snapshot_at)
        return changed


def _epoch(value) -> float:
    return value.timestamp() if value else 0.0


class Invoice(models.Model):
    """One line of a customer's billing history, mirrored from a Stripe Invoice."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        OPEN = "open"
        PAID = "paid"
        UNCOLLECTIBLE = "uncollectible"
        VOID = "void"

    FINAL = (Status.PAID, Status.VOID)
    _RANK = {Status.DRAFT: 0, Status.OPEN: 1, Status.UNCOLLECTIBLE: 2, Status.PAID: 3, Status.VOID: 3}

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invoices")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    # The Stripe subscription it bills, kept even before we know that subscription
    # (events come in any order): the row is linked when the subscription arrives.
    stripe_subscription_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    stripe_invoice_id = models.CharField(max_length=255, unique=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, default="")
    number = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    amount_due = models.PositiveIntegerField(default=0)
    amount_paid = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    hosted_invoice_url = models.URLField(max_length=1000, blank=True, default="")
    invoice_pdf = models.URLField(max_length=1000, blank=True, default="")
    billing_reason = models.CharField(max_length=64, blank=True, default="")
    stripe_snapshot_at = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(db_index=True, help_text="When Stripe created it.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at", "id"], name="invoice_recent_idx")]  # the admin's list

    def __str__(self) -> str:
        return f"invoice {self.number or self.stripe_invoice_id} {self.status}"

    def apply_snapshot(self, fields: dict, *, snapshot_at: int) -> bool:
        """Same rule as subscriptions: paid and void are final, newer snapshots win, ties go forward."""
        if self.pk and self.status in self.FINAL:
            return False
        new_rank, old_rank = self._RANK[fields["status"]], self._RANK[self.status]
        if snapshot_at < self.stripe_snapshot_at and new_rank <= old_rank:
            return False
        if snapshot_at == self.stripe_snapshot_at and new_rank < old_rank:
            return False
        changed = any(getattr(self, name) != value for name, value in fields.items())
        for name, value in fields.items():
            setattr(self, name, value)
        self.stripe_snapshot_at = max(self.stripe_snapshot_at, snapshot_at)
        return changed
