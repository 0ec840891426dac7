"""Helpers shared by the admin modules: links, money columns, the ledger's read-only ModelAdmin and inline."""

from __future__ import annotations

import html
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote
from uuid import UUID

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.auth import get_permission_codename
from django.db.models import Model
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html
from django.utils.http import RFC3986_SUBDELIMS, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext as _

from payments.admin.dates import IndexedDates, IndexedDatesChangeList
from payments.money import format_amount
from payments.selectors import parse_uuid


_PK = "pk0placeholder0"  # letters and digits only: reverse() and quote() leave it as it is


@lru_cache(maxsize=1024)
def _change_url_around(viewname: str, current_app: str | None, prefix: str, urlconf, language: str | None):
    """What ``reverse(viewname, args=[pk])`` puts before and after ``pk``, for
    the script prefix, URLconf and language it depends on (the key)."""
    head, _found, tail = reverse(viewname, args=[_PK], urlconf=urlconf, current_app=current_app).partition(_PK)
    return head, tail


def change_url(opts, pk: Any, current_app: str | None = None) -> str:
    """``reverse(f"admin:{app}_{model}_change", args=[pk], current_app=...)``,
    resolved once a page instead of once a row: a list page links each of its
    100 rows, and ``reverse()`` was a tenth of a row's rendering. An int or
    UUID pk is put in the URL as ``reverse()`` would (the admin's ``<path:>``
    converter takes any; ``reverse()`` percent-quotes the whole path with the
    same safe characters); any other pk goes through ``reverse()`` itself."""
    viewname = f"admin:{opts.app_label}_{opts.model_name}_change"
    if isinstance(pk, bool) or not isinstance(pk, (int, UUID)):
        return reverse(viewname, args=[pk], current_app=current_app)
    head, tail = _change_url_around(viewname, current_app, get_script_prefix(), get_urlconf(), get_language())
    return head + quote(str(pk), safe=RFC3986_SUBDELIMS + "/~:@") + tail


def admin_link(obj: Model | None, text: Any = None):
    """A link to ``obj``'s admin page (plain text when its model has no admin)."""
    if obj is None:
        return "-"
    label = obj if text is None else text
    try:
        url = change_url(obj._meta, obj.pk)
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
    """``action_checkbox`` written out as a string: the same HTML as
    Django's (a ``CheckboxInput`` rendered through the form renderer's three
    templates), at a tenth of its cost. It was 40 % of a list row's rendering,
    and rendering the rows is what a full page costs more than an empty one."""

    def action_checkbox(self, obj):
        # format_html(), unrolled: the label's translation is not escaped, what fills it is.
        label = _("Select this object for an action - {}").format(html.escape(str(obj)))
        return mark_safe(
            f'<input type="checkbox" name="{html.escape(ACTION_CHECKBOX_NAME)}" value="{html.escape(str(obj.pk))}" '
            f'class="action-select" aria-label="{label}">'
        )


class LedgerChangeList(IndexedDatesChangeList):
    """Each row's link to its page without a ``reverse()`` (``change_url``) or,
    on a filtered page, a ``resolve()`` a row (``result_link``)."""

    def url_for_result(self, result):
        # Django's: reverse(..., args=(quote(pk),)); the admin's quote() leaves an int or UUID as it is.
        pk = getattr(result, self.pk_attname)
        if isinstance(pk, str):
            return super().url_for_result(result)
        return change_url(self.opts, pk, current_app=self.model_admin.admin_site.name)

    def result_link(self, result):
        """The row's link as Django's ``items_for_result`` writes it: ``url_for_result``
        with the page's filters kept (``add_preserved_filters``, which resolves
        the URL: 0.2 ms a row on a filtered page). For an int or UUID pk, worked
        out once a page around a placeholder pk, which resolves to the same
        change view as any such pk (the admin's ``<path:object_id>/change/``)."""
        pk = getattr(result, self.pk_attname)
        if isinstance(pk, bool) or not isinstance(pk, (int, UUID)) or (
            type(self).url_for_result is not LedgerChangeList.url_for_result  # a subclass's own links
        ):
            return add_preserved_filters(self._filters_context(), self.url_for_result(result))
        if self._link_around is None:
            head, tail = _change_url_around(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_change", self.model_admin.admin_site.name,
                get_script_prefix(), get_urlconf(), get_language(),
            )
            head, _found, tail = add_preserved_filters(self._filters_context(), head + _PK + tail).partition(_PK)
            self._link_around = head, tail
        return self._link_around[0] + str(pk) + self._link_around[1]  # an int's or UUID's str() needs no quoting

    _link_around: tuple[str, str] | None = None

    def _filters_context(self):
        return {"preserved_filters": self.preserved_filters, "opts": self.opts}


class LedgerAdmin(PlainCheckbox, IndexedDates, MoneyColumns, admin.ModelAdmin):
    """Rows written by the payments code from what Stripe says: viewable (with
    the view permission), never added, changed or deleted by hand."""

    # "N results", not "N results (M total)": no second COUNT over the whole table.
    show_full_result_count = False

    # A UUID typed in the search box finds rows by this lookup (our payment id).
    uuid_search_lookup: str | None = None

    # The rows through payments/admin/results.py (the same HTML as Django's result_list, at less cost a row).
    change_list_template = "admin/payments/ledger_change_list.html"

    def get_changelist(self, request, **kwargs):
        return LedgerChangeList

    def get_empty_value_display(self):
        """Django's, without the AttributeError it raises and catches for each
        cell of the page when the ModelAdmin sets no ``empty_value_display``."""
        own = getattr(self, "empty_value_display", None)
        return mark_safe(self.admin_site.empty_value_display if own is None else own)

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
