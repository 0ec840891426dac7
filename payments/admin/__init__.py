"""The Django admin for payments: the catalog is editable; the ledger (what
Stripe and our webhooks wrote) can be read, searched and acted on through the
use cases, never edited by hand.

List pages run a fixed number of queries whatever their length
(``list_select_related``; anything needing a query per row is on the detail
page only), and cost about the same at 100,000 rows as at 1,000, the same
100 rows rendered (``make bench BENCH_ARGS=--only admin``; rendering those rows
is what a full page costs more than an empty one, and payments/admin/results.py
renders them as Django's result_list does, with what it works out for each cell
worked out once a page): every ordering, date
navigation and filter is on an index (migrations 0010 and 0014; no Seq Scan on
the big tables, tests/payments/test_admin_size.py), no page counts the whole table a second
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

from payments.admin.base import (  # noqa: F401 -- the names other apps and the tests import
    LedgerAdmin, MoneyColumns, OwnerLinks, PlainCheckbox, ReadOnlyInline, admin_link, changelist_link, payment_intent_id_of, pre,
)
from payments.admin.catalog import PriceAdmin, TierAdmin  # noqa: F401
from payments.admin.dates import IndexedDates, IndexedDatesChangeList, IndexedDatesQuerySet, _indexed_dates_class  # noqa: F401
from payments.admin.filters import BillingReasonFilter, ChoicesFilter, CurrencyFilter, EventTypeFilter  # noqa: F401
from payments.admin.payments import CustomerAdmin, PaymentAdmin, RefundAdmin, TransactionAdmin  # noqa: F401
from payments.admin.subscriptions import InvoiceAdmin, SubscriptionAdmin  # noqa: F401
from payments.admin.webhooks import WebhookEventAdmin  # noqa: F401
