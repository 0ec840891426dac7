"""Subscriptions and their invoices."""

from __future__ import annotations

from django.contrib import admin, messages

from payments.admin.base import LedgerAdmin, OwnerLinks, ReadOnlyInline, admin_link, changelist_link
from payments.admin.filters import BillingReasonFilter, CurrencyFilter, RereadPendingFilter
from payments.models import Invoice, Payment, Subscription, WebhookEvent
from payments.services.reports import error_text
from payments.services.subscription_payments import SUBSCRIPTION_PAYABLE
from payments.services.subscription_sync import refresh_subscription


class InvoiceInline(ReadOnlyInline):
    model = Invoice
    fields = ("number", "status", "amount_due_display", "amount_paid_display", "period_start", "period_end", "created_at")
    readonly_fields = fields

    @admin.display(description="Due")
    def amount_due_display(self, obj):
        return self.money(obj, "amount_due")

    @admin.display(description="Paid")
    def amount_paid_display(self, obj):
        return self.money(obj, "amount_paid")


@admin.register(Subscription)
class SubscriptionAdmin(OwnerLinks, LedgerAdmin):
    list_display = (
        "id", "user_link", "tier", "price_display", "status", "current_period_end", "cancel_at_period_end",
        "stripe_subscription_id", "created_at",
    )
    list_filter = ("status", "closed_reason", "cancel_at_period_end", "tier", RereadPendingFilter, "created_at")
    list_select_related = ("user", "tier", "price")
    search_fields = ("stripe_subscription_id__exact", "user__email", "user__username")
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("id", "status", "closed_reason", "price_display", "cancel_at_period_end", "created_at",
                           "updated_at")}),
        ("Who and what", {"fields": ("user_link", "price_link", "tier_link", "payments_link")}),
        ("Period", {"fields": ("current_period_start", "current_period_end", "canceled_at", "ended_at")}),
        ("Trial", {"fields": ("trial_period_days", "trial_start", "trial_end", "trial_will_end_for")}),
        ("Stripe", {"fields": ("stripe_subscription_id", "webhook_events_link", "stripe_snapshot_at",
                               "stripe_reread_requested_at")}),
        ("Request", {"fields": ("idempotency_key", "request_fingerprint")}),
    )
    readonly_fields = ("price_display", "user_link", "price_link", "tier_link", "payments_link", "webhook_events_link")
    inlines = (InvoiceInline,)
    actions = ("refresh_from_stripe",)

    @admin.display(description="Price")
    def price_display(self, obj):
        return obj.price.display

    @admin.display(description="Payments")
    def payments_link(self, obj):
        """The payments of its invoices (one per paid or attempted invoice)."""
        return changelist_link(
            Payment, "Payments of this subscription", payable_type__exact=SUBSCRIPTION_PAYABLE, payable_id__exact=obj.pk
        )

    @admin.display(description="Webhook events")
    def webhook_events_link(self, obj):
        if not obj.stripe_subscription_id:
            return "-"
        return changelist_link(WebhookEvent, "Events about this subscription", q=obj.stripe_subscription_id)

    @admin.action(description="Refresh from Stripe", permissions=["model_change"])
    def refresh_from_stripe(self, request, queryset):
        """Re-read each Stripe Subscription and apply it (a webhook that never came)."""
        for subscription in queryset:
            if not subscription.stripe_subscription_id:
                self.message_user(
                    request, f"Subscription {subscription.pk}: skipped, not created at Stripe", messages.WARNING
                )
                continue
            before = subscription.status
            try:
                after = refresh_subscription(subscription=subscription).status
            except Exception as exc:  # noqa: BLE001 -- reported per row, the others still run
                self.message_user(request, f"Subscription {subscription.pk}: {error_text(exc)}", messages.ERROR)
                continue
            change = f"{before} → {after}" if after != before else f"{after} (unchanged)"
            self.message_user(request, f"Subscription {subscription.pk}: {change}", messages.SUCCESS)


@admin.register(Invoice)
class InvoiceAdmin(OwnerLinks, LedgerAdmin):
    list_display = (
        "number", "user_link", "status", "amount_due_display", "amount_paid_display", "billing_reason",
        "subscription_link", "created_at",
    )
    list_filter = ("status", CurrencyFilter, BillingReasonFilter, "created_at")
    list_select_related = ("user", "subscription")
    search_fields = (
        "stripe_invoice_id__exact", "number__exact", "stripe_payment_intent_id__exact",
        "subscription__stripe_subscription_id__exact", "user__email", "user__username",
    )
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("number", "status", "amount_due_display", "amount_paid_display", "currency", "billing_reason",
                           "created_at", "updated_at")}),
        ("Who and what", {"fields": ("user_link", "subscription_link", "payment_link", "period_start", "period_end")}),
        ("Stripe", {"fields": ("stripe_invoice_id", "stripe_payment_intent_id", "hosted_invoice_url", "invoice_pdf",
                               "stripe_snapshot_at")}),
    )
    readonly_fields = ("amount_due_display", "amount_paid_display", "user_link", "subscription_link", "payment_link")

    @admin.display(description="Due", ordering="amount_due")
    def amount_due_display(self, obj):
        return self.money(obj, "amount_due")

    @admin.display(description="Paid", ordering="amount_paid")
    def amount_paid_display(self, obj):
        return self.money(obj, "amount_paid")

    @admin.display(description="Subscription", ordering="subscription__created_at")
    def subscription_link(self, obj):
        if obj.subscription is None:
            return "-"
        return admin_link(obj.subscription, obj.subscription.stripe_subscription_id or obj.subscription_id)

    @admin.display(description="Payment")
    def payment_link(self, obj):
        """Detail page only (one query): the payment of the invoice's PaymentIntent."""
        if not obj.stripe_payment_intent_id:
            return "-"
        payment = Payment.objects.filter(stripe_payment_intent_id=obj.stripe_payment_intent_id).first()
        return admin_link(payment, obj.stripe_payment_intent_id) if payment else obj.stripe_payment_intent_id
