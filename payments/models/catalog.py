"""The catalog we sell, kept by us and pushed to Stripe (or pulled from it,
services/catalog_sync.py). A Price is the only source of an amount a payment
may take, never the client, so a bad one is refused here rather than at
Stripe: the database refuses a one-time price with an interval, a recurring
one without, and a currency not in lower case; clean() an amount Stripe would
refuse for its currency."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from payments.money import amount_problem, format_amount


class Tier(models.Model):
    """What a customer buys: a level of service (e.g. "Full Escalation")."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    # channel -> schedule, e.g. {"email": ["-7d", "-1d"], "sms": ["-1d"]}
    manifest = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    stripe_product_id = models.CharField(max_length=255, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Price(models.Model):
    class Type(models.TextChoices):
        ONE_TIME = "one_time", "One-time"
        RECURRING = "recurring", "Recurring"

    class Interval(models.TextChoices):
        DAY = "day"
        WEEK = "week"
        MONTH = "month"
        YEAR = "year"

    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="prices")
    currency = models.CharField(max_length=3)
    unit_amount = models.PositiveIntegerField(help_text="In the currency's minor unit.")
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.ONE_TIME)
    interval = models.CharField(max_length=8, choices=Interval.choices, null=True, blank=True)
    interval_count = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    stripe_price_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    # RECURRING only: the days a customer's first subscription of this tier is free
    # (once per customer and tier: services.trials). Stripe's recurring.trial_period_days.
    trial_period_days = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["currency", "unit_amount", "id"]
        constraints = [
            models.CheckConstraint(
                name="price_interval_iff_recurring",
                condition=(
                    Q(type="one_time", interval__isnull=True, interval_count__isnull=True)
                    | Q(type="recurring", interval__isnull=False, interval_count__gte=1)
                ),
            ),
            models.CheckConstraint(name="price_currency_lowercase", condition=Q(currency__regex=r"^[a-z]{3}$")),
            models.CheckConstraint(
                name="price_trial_recurring_1_to_730_days",  # Stripe's bounds
                condition=Q(trial_period_days__isnull=True)
                | Q(type="recurring", trial_period_days__gte=1, trial_period_days__lte=730),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tier} {self.display}"

    def clean(self) -> None:
        super().clean()
        if self.unit_amount is not None and self.currency:
            problem = amount_problem(self.unit_amount, self.currency)
            if problem:
                raise ValidationError({"unit_amount": problem})

    @property
    def is_recurring(self) -> bool:
        return self.type == self.Type.RECURRING

    @property
    def display(self) -> str:
        """"€9.99", "¥500 / month", "$120.00 / 3 months"."""
        amount = format_amount(self.unit_amount, self.currency)
        if not self.is_recurring:
            return amount
        if self.interval_count == 1:
            return f"{amount} / {self.interval}"
        return f"{amount} / {self.interval_count} {self.interval}s"
