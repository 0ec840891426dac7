"""The Django admin for payments: the catalog is editable; the ledger (what
Stripe and our webhooks wrote) can be read, searched and acted on through the
use cases, never edited by hand.

List pages run a fixed number of queries whatever their length
(``list_select_related``; anything needing a query per row is on the detail
page only), and cost about the same at 100,000 rows as on an empty table
(``make bench BENCH_ARGS=--only admin``): every ordering, date navigation and
filter is on an index (migration 0010), no page counts the whole table a second
time (``show_full_result_count = False``: a filtered list says "N results",
not "N of M"), filter options come from small tables or fixed lists (never a
``DISTINCT`` over a ledger table), and search looks at indexed identifiers
(exact Stripe ids; a webhook event by its object's or PaymentIntent's id, not
inside its payload). Actions call the same services as the API and show a
``PaymentsError``'s message (any other error: its class and first line), never
a traceback. The actions that apply what Stripe says to a ledger row (refresh,
reprocess) need the model's change permission (``payments.change_payment``,
``change_subscription``, ``change_webhookevent``): the view permission only
lets one look, and the rows themselves stay read-only either way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_permission_codename
from django.db import connections
from django.db.models import Max, Min, Model, QuerySet
from django.utils import timezone
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from payments.models import (
    Customer,
    Invoice,
    Payment,
    Price,
    Refund,
    Subscription,
    Tier,
    Transaction,
    WebhookEvent,
)
from payments.money import format_amount
from payments.selectors import parse_uuid
from payments.services.catalog_sync import catalog_push
from payments.services.payments import refresh_payment
from payments.services.refunds import refund_payment
from payments.services.subscriptions import SUBSCRIPTION_PAYABLE, refresh_subscription
from payments.operations.replay import replay_events
from payments.services.reports import error_text
from payments.webhooks.processing import HANDLERS

# ------------------------------------------------------------------ helpers


def admin_link(obj: Model | None, text: Any = None):
    """A link to ``obj``'s admin page (plain text when its model has no admin)."""
    if obj is None:
        return "-"
    label = obj if text is None else text
    try:
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return str(label)
    return format_html('<a href="{}">{}</a>', url, label)


def changelist_link(model: type[Model], text: str, **params: Any):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(params), text)


def pre(text: str):
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text) if text else "-"


def payment_intent_id_of(payload: Mapping[str, Any]) -> str | None:
    """The PaymentIntent an event is about: data.object.id for a PaymentIntent,
    else the object's ``payment_intent`` (a refund, a charge)."""
    obj = (payload.get("data") or {}).get("object") or {}
    if not isinstance(obj, Mapping):
        return None
    if obj.get("object") == "payment_intent":
        return obj.get("id")
    pi = obj.get("payment_intent")
    return pi.get("id") if isinstance(pi, Mapping) else pi


class MoneyColumns:
    """``money(obj, field)``: an amount in minor units shown in the row's currency."""

    @staticmethod
    def money(obj, field: str) -> str:
        value = getattr(obj, field)
        return "-" if value is None else format_amount(value, obj.currency)


class OwnerLinks:
    """Links to the row's user, price and tier (payments, subscriptions, invoices)."""

    @admin.display(description="User", ordering="user__email")
    def user_link(self, obj):
        return admin_link(obj.user, obj.user.email or obj.user.get_username())

    @admin.display(description="Price")
    def price_link(self, obj):
        return admin_link(obj.price)

    @admin.display(description="Tier")
    def tier_link(self, obj):
        return admin_link(obj.tier)


# ------------------------------------------------------ date navigation


class IndexedDatesQuerySet:
    """``datetimes(field, kind)`` for the date navigation (``date_hierarchy``)
    without a ``DISTINCT`` over every row: the first and last dates (two index
    lookups), then, in one statement, one ``EXISTS`` per year, month or day
    between them (each stops at its first row: an index probe on the field, or
    a scan the planner expects to end at once). The same answer as Django's,
    at a cost that does not grow with the rows."""

    indexed_date_field: str
    MAX_BUCKETS = 400

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        if field_name != self.indexed_date_field or kind not in ("year", "month", "day") or order != "ASC" or tzinfo:
            return super().datetimes(field_name, kind, order, tzinfo)
        bounds = self.order_by().aggregate(first=Min(field_name), last=Max(field_name))
        if bounds["first"] is None:
            return []
        zone = timezone.get_current_timezone()
        first, last = (timezone.localtime(bounds[k], zone) for k in ("first", "last"))
        starts = [datetime(first.year, first.month if kind != "year" else 1, first.day if kind == "day" else 1,
                           tzinfo=zone)]
        while True:
            start = starts[-1]
            if kind == "year":
                following = start.replace(year=start.year + 1)
            elif kind == "month":
                following = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
            else:
                following = datetime.combine(start.date() + timedelta(days=1), start.time(), tzinfo=zone)
            if following > last:
                break
            starts.append(following)
            if len(starts) > self.MAX_BUCKETS:
                return super().datetimes(field_name, kind, order, tzinfo)
        ends = [*starts[1:], None]
        probes, params = [], []
        for start, end in zip(starts, ends):  # SELECT EXISTS(...), EXISTS(...), ...: no table scanned around them
            bucket = {f"{field_name}__gte": start, **({f"{field_name}__lt": end} if end else {})}
            sql, bucket_params = self.order_by().filter(**bucket).values("pk")[:1].query.get_compiler(self.db).as_sql()
            probes.append(f"EXISTS({sql})")
            params.extend(bucket_params)
        with connections[self.db].cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(probes), params)
            flags = cursor.fetchone()
        return [start for start, flag in zip(starts, flags) if flag]


@cache
def _indexed_dates_class(base: type, field_name: str) -> type:
    return type(f"IndexedDates{base.__name__}", (IndexedDatesQuerySet, base), {"indexed_date_field": field_name})


class IndexedDatesChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        if self.date_hierarchy and isinstance(queryset, QuerySet):
            queryset.__class__ = _indexed_dates_class(type(queryset), self.date_hierarchy)
        return queryset


class IndexedDates:
    """A ModelAdmin whose ``date_hierarchy`` is navigated by index probes (``IndexedDatesQuerySet``)."""

    def get_changelist(self, request, **kwargs):
        return IndexedDatesChangeList


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


class LedgerAdmin(IndexedDates, MoneyColumns, admin.ModelAdmin):
    """Rows written by the payments code from what Stripe says: viewable (with
    the view permission), never added, changed or deleted by hand."""

    # "N results", not "N results (M total)": no second COUNT over the whole table.
    show_full_result_count = False

    # A UUID typed in the search box finds rows by this lookup (our payment id).
    uuid_search_lookup: str | None = None

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_model_change_permission(self, request) -> bool:
        """The model's own change permission (``payments.change_<model>``), which
        the actions that act on Stripe's behalf require. ``has_change_permission``
        stays False: no form ever edits a ledger row."""
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def get_search_results(self, request, queryset, search_term):
        pk = parse_uuid(search_term.strip()) if self.uuid_search_lookup else None
        if pk is not None:
            return queryset.filter(**{self.uuid_search_lookup: pk}), False
        return super().get_search_results(request, queryset, search_term)


class ReadOnlyInline(MoneyColumns, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# ------------------------------------------------------------------ catalog


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


# ------------------------------------------------------------------- ledger


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
    list_filter = ("status", "closed_reason", "cancel_at_period_end", "tier", "created_at")
    list_select_related = ("user", "tier", "price")
    search_fields = ("stripe_subscription_id__exact", "user__email", "user__username")
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("id", "status", "closed_reason", "price_display", "cancel_at_period_end", "created_at",
                           "updated_at")}),
        ("Who and what", {"fields": ("user_link", "price_link", "tier_link", "payments_link")}),
        ("Period", {"fields": ("current_period_start", "current_period_end", "canceled_at", "ended_at")}),
        ("Trial", {"fields": ("trial_period_days", "trial_start", "trial_end", "trial_will_end_for")}),
        ("Stripe", {"fields": ("stripe_subscription_id", "webhook_events_link", "stripe_snapshot_at")}),
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


@admin.register(WebhookEvent)
class WebhookEventAdmin(LedgerAdmin):
    list_display = (
        "stripe_event_id", "type", "status", "attempts", "object_display", "livemode", "stripe_created", "received_at",
    )
    list_filter = ("status", EventTypeFilter, "livemode", "received_at")
    # Indexed identifiers only (the payload is never searched): the event's id, its
    # object's (a PaymentIntent, refund, charge, subscription, invoice...) and the
    # PaymentIntent it is about (a charge's or refund's, for instance).
    search_fields = ("stripe_event_id__exact", "object_id__exact", "payment_intent_id__exact")
    date_hierarchy = "received_at"
    fields = (
        "stripe_event_id", "type", "status", "attempts", "livemode", "api_version", "stripe_created", "received_at",
        "processed_at", "payment_link", "last_error_display", "payload_display",
    )
    readonly_fields = ("payment_link", "last_error_display", "payload_display")
    actions = ("reprocess",)

    @admin.display(description="Object", ordering="object_id")
    def object_display(self, obj):
        return obj.object_id or "-"

    def get_queryset(self, request):
        """The list shows no payload: it is not read for it (a few KB a row)."""
        queryset = super().get_queryset(request)
        match = request.resolver_match
        return queryset.defer("payload") if match and match.url_name.endswith("_changelist") else queryset

    @admin.display(description="Payment")
    def payment_link(self, obj):
        """Detail page only (one query): the payment whose PaymentIntent the event is about."""
        pi = payment_intent_id_of(obj.payload) if isinstance(obj.payload, Mapping) else None
        if not pi:
            return "-"
        payment = Payment.objects.filter(stripe_payment_intent_id=pi).first()
        return admin_link(payment, pi) if payment else f"{pi} (not one of our payments)"

    @admin.display(description="Last error")
    def last_error_display(self, obj):
        return pre(obj.last_error)

    @admin.display(description="Payload")
    def payload_display(self, obj):
        return pre(json.dumps(obj.payload, indent=2, sort_keys=True))

    @admin.action(description="Reprocess (failed or received events)", permissions=["model_change"])
    def reprocess(self, request, queryset):
        """Run a stored event through processing again, once its cause is fixed."""
        # The same path as payments_replay_events (payments/operations/replay.py).
        for record in queryset:
            [outcome] = replay_events(ids=[record.stripe_event_id]).outcomes
            if outcome.action == "skipped":
                self.message_user(request, f"{record.stripe_event_id}: skipped, already {record.status}", messages.WARNING)
            elif outcome.failed:
                self.message_user(request, f"{record.stripe_event_id}: failed again: {outcome.detail}", messages.ERROR)
            else:
                self.message_user(request, f"{record.stripe_event_id}: {outcome.detail}", messages.SUCCESS)
