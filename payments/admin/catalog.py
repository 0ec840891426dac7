"""The catalog: tiers and their prices, editable, pushed to Stripe by an action."""

from __future__ import annotations

from django.contrib import admin, messages

from payments.models import Price, Tier
from payments.services.catalog_sync import catalog_push


def report_push(model_admin: admin.ModelAdmin, request, report) -> None:
    """One message per row the push looked at: errors (a PaymentsError's message) in red."""
    levels = {"failed": messages.ERROR, "unchanged": messages.INFO}
    for outcome in report.outcomes:
        text = f"{outcome.subject}: {outcome.action.replace('.', ' ')}"
        model_admin.message_user(
            request, f"{text} - {outcome.detail}" if outcome.detail else text, levels.get(outcome.action, messages.SUCCESS)
        )


class PriceDisplay:
    @admin.display(description="Display")
    def display(self, obj):
        """Price.display, e.g. "€9.99" or "€19.99 / month" (nothing yet on an unsaved row)."""
        return obj.display if obj.pk and obj.unit_amount is not None and obj.currency else "-"


class PriceInline(PriceDisplay, admin.TabularInline):
    model = Price
    extra = 0
    fields = (
        "currency", "unit_amount", "display", "type", "interval", "interval_count", "trial_period_days", "active",
        "stripe_price_id",
    )
    readonly_fields = ("display",)


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "position", "active", "stripe_product_id")
    list_filter = ("active",)
    search_fields = ("name", "slug", "stripe_product_id")
    show_full_result_count = False
    prepopulated_fields = {"slug": ("name",)}
    inlines = (PriceInline,)
    actions = ("push_to_stripe",)

    @admin.action(description="Push to Stripe (product and its prices)", permissions=["change"])
    def push_to_stripe(self, request, queryset):
        """The same push as ``payments_sync_catalog --push``, for these tiers and their prices."""
        tiers = list(queryset)
        prices = Price.objects.filter(tier__in=tiers).order_by("tier_id", "pk")
        report_push(self, request, catalog_push(tiers=tiers, prices=prices))


@admin.register(Price)
class PriceAdmin(PriceDisplay, admin.ModelAdmin):
    list_display = ("__str__", "display", "tier", "type", "currency", "active", "stripe_price_id")
    list_filter = ("active", "type", "currency", "tier")
    list_select_related = ("tier",)
    search_fields = ("stripe_price_id", "tier__name", "tier__slug")
    show_full_result_count = False
    readonly_fields = ("display",)
    actions = ("push_to_stripe",)

    @admin.action(description="Push to Stripe", permissions=["change"])
    def push_to_stripe(self, request, queryset):
        """The same push as ``payments_sync_catalog --push``, for these prices (a tier without
        a Product gets one)."""
        report_push(self, request, catalog_push(prices=list(queryset.select_related("tier"))))
