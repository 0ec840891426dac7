"""``{% ledger_result_list cl %}``: Django's ``{% result_list cl %}`` (the same
template, overridable per model as Django's is), its rows rendered by
payments/admin/results.py."""

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode

from payments.admin.results import ledger_result_list

register = template.Library()


@register.tag(name="ledger_result_list")
def ledger_result_list_tag(parser, token):
    return InclusionAdminNode(parser, token, func=ledger_result_list, template_name="change_list_results.html",
                              takes_context=False)
