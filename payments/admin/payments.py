"""The ledger of one-time payments: customers, payments, refunds, balance transactions."""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.response import TemplateResponse

from payments.admin.base import LedgerAdmin, OwnerLinks, ReadOnlyInline, admin_link, changelist_link
from payments.admin.filters import CurrencyFilter
from payments.models import Customer, Payment, Refund, Transaction, WebhookEvent
from payments.money import format_amount
from payments.services.payments import refresh_payment
from payments.services.refunds import refund_payment
from payments.services.reports import error_text


@admin.register(Customer)
class CustomerAdmin(LedgerAdmin):
    list_display = ("stripe_customer_id", "user_link", "email", "created_at")
    list_filter = ("created_at",)
    list_select_related = ("user",)
    search_fields = ("stripe_customer_id__exact", "user__email", "user__username")
    date_hierarchy = "created_at"
    fields = ("stripe_customer_id", "user_link", "email", "payments_link", "created_at")
    readonly_fields = fields

    @admin.display(description="User", ordering="user__username")
    def user_link(self, obj):
        return admin_link(obj.user, obj.user.get_username())

    @admin.display(description="Email", ordering="user__email")
    def email(self, obj):
        return obj.user.email

    @admin.display(description="Payments")
    def payments_link(self, obj):
        return changelist_link(Payment, "Payments of this customer", user__id__exact=obj.user_id)


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ("stripe_refund_id", "amount_display", "status", "reason", "failure_reason", "requested_by", "created_at")
    readonly_fields = fields

    @admin.display(description="Amount")
    def amount_display(self, obj):
        return self.money(obj, "amount")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("requested_by")


class TransactionInline(ReadOnlyInline):
    model = Transaction
    fk_name = "payment"
    fields = ("stripe_balance_transaction_id", "type", "gross_display", "fee_display", "net_display", "refund", "occurred_at")
    readonly_fields = fields

    @admin.display(description="Gross")
    def gross_display(self, obj):
        return self.money(obj, "gross")

    @admin.display(description="Fee")
    def fee_display(self, obj):
        return self.money(obj, "fee")

    @admin.display(description="Net")
    def net_display(self, obj):
        return self.money(obj, "net")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("refund")


@admin.register(Payment)
class PaymentAdmin(OwnerLinks, LedgerAdmin):
    list_display = (
        "id", "created_at", "user_link", "tier", "amount_display", "refunded_display", "status",
        "stripe_payment_intent_id",
    )
    list_filter = ("status", CurrencyFilter, "created_at", "tier")
    list_select_related = ("user", "tier")
    search_fields = (
        "stripe_payment_intent_id__exact", "user__email", "user__username",
        "user__stripe_customer__stripe_customer_id__exact",
    )
    uuid_search_lookup = "pk"
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("id", "status", "amount_display", "refunded_display", "currency", "created_at", "updated_at")}),
        ("Who and what", {"fields": ("user_link", "price_link", "tier_link", "payable")}),
        ("Stripe", {"fields": ("stripe_payment_intent_id", "webhook_events_link", "stripe_snapshot_at")}),
        ("Paid with", {"fields": ("stripe_charge_id", "payment_method_type", "card_brand", "card_last4", "receipt_url")}),
        ("Last failure", {"fields": ("failure_code", "failure_message", "failure_at")}),
        ("Request", {"fields": ("idempotency_key", "request_fingerprint")}),
    )
    readonly_fields = (
        "amount_display", "refunded_display", "user_link", "price_link", "tier_link", "payable", "webhook_events_link",
    )
    inlines = (RefundInline, TransactionInline)
    actions = ("refresh_from_stripe", "refund_in_full")

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj):
        return self.money(obj, "amount")

    @admin.display(description="Refunded", ordering="amount_refunded")
    def refunded_display(self, obj):
        return self.money(obj, "amount_refunded") if obj.amount_refunded else "-"

    @admin.display(description="Payable")
    def payable(self, obj):
        return f"{obj.payable_type} {obj.payable_id}" if obj.payable_type else "-"

    @admin.display(description="Webhook events")
    def webhook_events_link(self, obj):
        if not obj.stripe_payment_intent_id:
            return "-"
        return changelist_link(WebhookEvent, "Events about this PaymentIntent", q=obj.stripe_payment_intent_id)

    # ---------------------------------------------------------- actions

    @admin.action(description="Refresh from Stripe", permissions=["model_change"])
    def refresh_from_stripe(self, request, queryset):
        """Re-read each PaymentIntent and apply it (a webhook that never came)."""
        if not request.user.is_staff:
            self.message_user(request, "Only staff may refresh payments.", messages.ERROR)
            return
        for payment in queryset:
            before = payment.status
            try:
                after = refresh_payment(user=request.user, payment_id=str(payment.pk)).status
            except Exception as exc:  # noqa: BLE001 -- reported per row, the others still run
                self.message_user(request, f"Payment {payment.pk}: {error_text(exc)}", messages.ERROR)
                continue
            change = f"{before} → {after}" if after != before else f"{after} (unchanged)"
            self.message_user(request, f"Payment {payment.pk}: {change}", messages.SUCCESS)

    def has_refund_permission(self, request) -> bool:
        return request.user.has_perm("payments.add_refund")

    @admin.action(description="Refund in full", permissions=["refund"])
    def refund_in_full(self, request, queryset):
        """Refund everything not yet refunded, after a confirmation page."""
        payments = list(queryset.select_related("user"))
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "admin/payments/payment/refund_in_full_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Refund in full?",
                    "opts": self.opts,
                    "rows": [(p, format_amount(p.amount - p.amount_refunded, p.currency)) for p in payments],
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        for payment in payments:
            try:
                result = refund_payment(actor=request.user, payment_id=str(payment.pk), amount=None)
            except Exception as exc:  # noqa: BLE001 -- reported per row, the others still run
                self.message_user(request, f"Payment {payment.pk}: {error_text(exc)}", messages.ERROR)
                continue
            refund = result.refund
            self.message_user(
                request,
                f"Payment {payment.pk}: refund of {format_amount(refund.amount, refund.currency)} {refund.status}; "
                f"payment {result.payment.status}",
                messages.SUCCESS,
            )


@admin.register(Refund)
class RefundAdmin(LedgerAdmin):
    list_display = ("id", "created_at", "payment_link", "amount_display", "status", "reason", "stripe_refund_id", "requested_by")
    list_filter = ("status", CurrencyFilter, "reason", "created_at")
    list_select_related = ("payment", "requested_by")
    search_fields = (
        "stripe_refund_id__exact", "payment__stripe_payment_intent_id__exact", "payment__user__email",
        "payment__user__username",
    )
    uuid_search_lookup = "payment_id"
    date_hierarchy = "created_at"
    fields = (
        "id", "payment_link", "amount_display", "currency", "status", "reason", "description", "failure_reason",
        "stripe_refund_id", "requested_by", "idempotency_key", "created_at", "updated_at", "transactions_link",
    )
    readonly_fields = ("payment_link", "amount_display", "transactions_link")

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj):
        return self.money(obj, "amount")

    @admin.display(description="Payment", ordering="payment__created_at")
    def payment_link(self, obj):
        return admin_link(obj.payment, obj.payment.stripe_payment_intent_id or obj.payment_id)

    @admin.display(description="Ledger")
    def transactions_link(self, obj):
        return changelist_link(Transaction, "Transactions of this refund", refund__id__exact=obj.pk)


@admin.register(Transaction)
class TransactionAdmin(LedgerAdmin):
    list_display = (
        "stripe_balance_transaction_id", "occurred_at", "type", "gross_display", "fee_display", "net_display",
        "payment_link", "refund_link",
    )
    list_filter = ("type", CurrencyFilter, "occurred_at")
    list_select_related = ("payment", "refund")
    search_fields = (
        "stripe_balance_transaction_id__exact", "stripe_source_id__exact", "payment__stripe_payment_intent_id__exact",
        "refund__stripe_refund_id__exact", "payment__user__email", "payment__user__username",
    )
    uuid_search_lookup = "payment_id"
    date_hierarchy = "occurred_at"
    fields = (
        "stripe_balance_transaction_id", "type", "currency", "gross_display", "fee_display", "net_display",
        "payment_link", "refund_link", "stripe_source_id", "occurred_at", "recorded_at",
    )
    readonly_fields = ("gross_display", "fee_display", "net_display", "payment_link", "refund_link")

    @admin.display(description="Gross", ordering="gross")
    def gross_display(self, obj):
        return self.money(obj, "gross")

    @admin.display(description="Fee", ordering="fee")
    def fee_display(self, obj):
        return self.money(obj, "fee")

    @admin.display(description="Net", ordering="net")
    def net_display(self, obj):
        return self.money(obj, "net")

    @admin.display(description="Payment")
    def payment_link(self, obj):
        return admin_link(obj.payment, obj.payment.stripe_payment_intent_id or obj.payment_id)

    @admin.display(description="Refund")
    def refund_link(self, obj):
        return admin_link(obj.refund, obj.refund.stripe_refund_id) if obj.refund else "-"
