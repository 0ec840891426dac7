"""A ledger list's rows: Django's ``items_for_result``, byte for byte, with what
it works out again for every cell (the column's field or method, its classes,
whether it links, the row link's preserved filters) worked out once a page.

Why not Django's own: rendering the page's 100 rows is what a full list page
costs over an empty one (issue 13's 1.5x), and a third of a row went to that
per-cell bookkeeping. Only the plain list of a read-only ledger comes here (no
``list_editable`` form, no popup, no ``to_field``): any other goes to Django's
``result_list``, as does a row of another model. The values themselves are
still shown by Django (``display_for_field``, ``display_for_value``), our
display methods and ``ChangeList.url_for_result``; tests/payments/test_admin_size.py
compares every ledger list page with the one Django's tag renders.
"""

from __future__ import annotations

import datetime

from django.contrib.admin.templatetags.admin_list import (
    ResultList, _coerce_field_name, items_for_result, result_hidden_fields, result_headers, result_list,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName, _get_non_gfk_field, display_for_field, display_for_value, lookup_field,
)
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

FIELD, METHOD, OTHER = "field", "method", "other"


class Column:
    """One ``list_display`` entry as ``items_for_result`` sees it on every row."""

    def __init__(self, cl, index: int, name, link_tag: str | None):
        model_admin = cl.model_admin
        self.name, self.link_tag = name, link_tag
        self.empty = model_admin.get_empty_value_display()
        self.field_class = "field-%s" % _coerce_field_name(name, index)
        self.field = self.attr = None
        try:
            self.field = _get_non_gfk_field(cl.model._meta, name)
            self.kind = FIELD
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            if callable(name):
                self.kind, self.attr = METHOD, name
            elif hasattr(model_admin, name) and name != "__str__":
                self.kind, self.attr = METHOD, getattr(model_admin, name)
            else:
                self.kind = OTHER  # a model attribute or a lookup: Django's lookup_field, row by row
        self.own_classes = "action-checkbox" if name == "action_checkbox" else self.field_class
        # A status, a type, a flag, a count: few values on a page, each shown as the first one was
        # (display_for_field depends on the value and the request's language and settings alone).
        # Not floats or decimals: -0.0 == 0.0 and Decimal("-0") == 0, but they are shown apart.
        self.memo = {} if self.field is not None and (
            getattr(self.field, "flatchoices", None) or isinstance(self.field, (models.BooleanField, models.IntegerField))
        ) else None
        if self.field is not None and isinstance(self.field, (models.DateField, models.TimeField, models.ForeignKey)):
            self.field_class += " nowrap"

    def render(self, cl, result, link_for) -> str:
        try:
            if self.kind == FIELD:
                f, attr, value = self.field, None, getattr(result, self.name)
            elif self.kind == METHOD:
                f, attr, value = None, self.attr, self.attr(result)
            else:
                f, attr, value = lookup_field(self.name, result, cl.model_admin)
        except ObjectDoesNotExist:
            result_repr, classes = self.empty, self.field_class.removesuffix(" nowrap")
        else:
            empty = getattr(attr, "empty_value_display", self.empty)
            if isinstance(value, str) and value.strip() == "":
                value = ""
            if f is None or f.auto_created:
                classes = self.own_classes
                boolean = getattr(attr, "boolean", False)
                if isinstance(attr, property) and hasattr(attr, "fget"):
                    boolean = getattr(attr.fget, "boolean", False)
                result_repr = display_for_value(value, empty, boolean)
                if isinstance(value, (datetime.date, datetime.time)):
                    classes += " nowrap"
            else:
                classes = self.field_class
                if isinstance(f.remote_field, models.ManyToOneRel):
                    field_val = getattr(result, f.name)
                    result_repr = empty if field_val is None else field_val
                elif self.memo is None:
                    result_repr = display_for_field(value, f, empty, avoid_link=self.link_tag is not None)
                else:
                    key = (value.__class__, value)  # not 1 for True, nor 1.0 for 1
                    try:
                        result_repr = self.memo[key]
                    except KeyError:
                        result_repr = self.memo[key] = display_for_field(value, f, empty, avoid_link=self.link_tag is not None)
                    except TypeError:  # unhashable
                        result_repr = display_for_field(value, f, empty, avoid_link=self.link_tag is not None)
        if self.link_tag is None:
            return f'<td class="{classes}">{conditional_escape(result_repr)}</td>'
        try:
            url = link_for(result)
        except NoReverseMatch:
            link = conditional_escape(result_repr)
        else:
            link = f'<a href="{conditional_escape(url)}">{conditional_escape(result_repr)}</a>'
        return f'<{self.link_tag} class="{classes}">{link}</{self.link_tag}>'


def columns(cl) -> list[Column]:
    """The page's columns, with the link where ``items_for_result`` puts it
    (the first column when ``list_display_links`` is empty, a <th> if first)."""
    found, first, links = [], True, cl.list_display_links
    for index, name in enumerate(cl.list_display):
        linked = links is not None and ((first and not links) or name in links)
        found.append(Column(cl, index, name, ("th" if first else "td") if linked else None))
        first = first and not linked
    return found


def ledger_result_list(cl):
    """``result_list(cl)``'s context, its rows rendered by ``columns(cl)``."""
    if cl.formset or cl.is_popup or cl.to_field:
        return result_list(cl)
    headers = list(result_headers(cl))
    opts, cols = cl.model._meta, columns(cl)
    link_for = getattr(cl, "result_link", None) or (lambda result: add_preserved_filters(
        {"preserved_filters": cl.preserved_filters, "opts": cl.opts}, cl.url_for_result(result)))
    rows = []
    for result in cl.result_list:
        if result._meta is not opts:
            rows.append(ResultList(None, items_for_result(cl, result, None)))
        else:
            # One item a row, the row's cells joined: what the template's {% for item in result %} writes.
            rows.append(ResultList(None, [mark_safe("".join([col.render(cl, result, link_for) for col in cols]))]))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": rows,
    }
