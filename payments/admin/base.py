"""Helpers shared by the admin modules: links, money columns, the ledger's read-only ModelAdmin and inline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_permission_codename
from django.db.models import Model
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from payments.admin.dates import IndexedDates
from payments.money import format_amount
from payments.selectors import parse_uuid


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


class PlainCheckbox:
    """``action_checkbox`` written out with ``format_html``: the same HTML as
    Django's (a ``CheckboxInput`` rendered through the form renderer's three
    templates), at a tenth of its cost. It was 40 % of a list row's rendering,
    and rendering the rows is what a full page costs more than an empty one."""

    def action_checkbox(self, obj):
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME, str(obj.pk), format_html(_("Select this object for an action - {}"), str(obj)),
        )


class LedgerAdmin(PlainCheckbox, IndexedDates, MoneyColumns, admin.ModelAdmin):
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
