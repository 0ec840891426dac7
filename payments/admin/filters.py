"""List filters whose options come from a small table or a fixed list."""

from __future__ import annotations

from django.contrib import admin

from payments.models import Price
from payments.webhooks.processing import HANDLERS


class ChoicesFilter(admin.SimpleListFilter):
    """Options from ``choices()`` (a small table or a fixed list), not from a
    ``DISTINCT`` over the listed table; a value given in the URL that is not
    among them is still offered (and applied)."""

    def choices_for(self, request, model_admin) -> list[str]:
        raise NotImplementedError

    def lookups(self, request, model_admin):
        values = list(dict.fromkeys(self.choices_for(request, model_admin)))
        if self.value() and self.value() not in values:
            values.append(self.value())
        return [(value, self.label(value)) for value in values]

    def label(self, value: str) -> str:
        return value

    def queryset(self, request, queryset):
        return queryset.filter(**{self.parameter_name: self.value()}) if self.value() else queryset


class CurrencyFilter(ChoicesFilter):
    """The currencies of the catalog's prices (every payment, refund and
    transaction is in the currency of a price, which cannot be deleted once used)."""

    title = "currency"
    parameter_name = "currency"

    def choices_for(self, request, model_admin):
        return Price.objects.order_by("currency").values_list("currency", flat=True).distinct()

    def label(self, value: str) -> str:
        return value.upper()


class EventTypeFilter(ChoicesFilter):
    """The event types we handle (others are stored as ignored: type one in the URL, ``?type=...``)."""

    title = "type"
    parameter_name = "type"

    def choices_for(self, request, model_admin):
        return sorted(HANDLERS)


class BillingReasonFilter(ChoicesFilter):
    """Stripe's invoice billing reasons."""

    title = "billing reason"
    parameter_name = "billing_reason"
    REASONS = ("subscription_create", "subscription_cycle", "subscription_update", "subscription_threshold",
               "manual", "upcoming", "quote_accept", "automatic_pending_invoice_item_invoice")

    def choices_for(self, request, model_admin):
        return self.REASONS


class RereadPendingFilter(admin.SimpleListFilter):
    """Subscriptions whose re-read from Stripe is pending (an event showed another plan
    or cancel request than ours and Stripe could not be read since): payments_reconcile's."""

    title = "re-read pending"
    parameter_name = "reread_pending"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(stripe_reread_requested_at__isnull=self.value() == "no")
        return queryset
