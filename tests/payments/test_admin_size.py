"""The admin at size: what tests/payments/test_admin.py does not cover there.

- the ledger's cheap action checkbox is Django's HTML, byte for byte;
- the changelists of other apps on the site (auth, axes) run as many queries
  at 50 rows as at 2;
- on PostgreSQL, with 20,000 payments and 20,000 webhook events written in
  date order (as production writes them) and vacuumed and analyzed (as
  autovacuum leaves them), no statement of the payment, webhook-event, refund
  or transaction lists, their filter options or their date links reads either
  big table with a Seq Scan. (At 2,000 rows a Seq Scan is the planner's
  right choice for many of them, the joins of refunds and transactions to
  their payments included; at 20,000 the plans are those the bench finds at
  100,000.) It failed before the date probes walked the index (a 2026 probe
  read 10,001 rows) and before payment_currency_count_idx (the COUNT of
  ?currency=eur read all 20,000).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from django.contrib import admin as django_admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from payments.admin import PlainCheckbox
from payments.models import Customer, Payment, Refund, Transaction, WebhookEvent

BIG_TABLES = ("payments_payment", "payments_webhookevent")
ROWS = int(__import__("os").environ.get("ADMIN_SIZE_ROWS", "20000"))


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def count_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200, path
    return len(queries)


# ------------------------------------------------------------- checkbox


@pytest.mark.parametrize("row", [
    Customer(pk=7, stripe_customer_id="cus_1"),
    Customer(pk=8, stripe_customer_id='<a href="x">&\'"</a> évènement'),  # its str() needs escaping
    Payment(pk=uuid.uuid4(), amount=2999, currency="eur", status="succeeded"),
    Refund(pk=uuid.uuid4(), amount=1000, currency="eur", status="pending"),
    WebhookEvent(pk=9, stripe_event_id="evt_<1>"),
], ids=lambda row: type(row).__name__)
def test_the_ledgers_action_checkbox_is_djangos_html(row):
    model_admin = django_admin.site._registry[type(row)]
    assert isinstance(model_admin, PlainCheckbox)
    assert model_admin.action_checkbox(row) == django_admin.ModelAdmin.action_checkbox(model_admin, row)


def test_the_checkbox_is_on_the_rendered_list(admin_client, db):
    event = WebhookEvent.objects.create(stripe_event_id="evt_<1>", type="payment_intent.succeeded", payload={})
    page = admin_client.get(changelist(WebhookEvent)).content.decode()
    assert django_admin.ModelAdmin.action_checkbox(django_admin.site._registry[WebhookEvent], event) in page


# --------------------------------------------- other apps' changelists


def make_other_rows(n: int, start: int) -> None:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth import get_user_model

    for i in range(start, start + n):
        user = get_user_model().objects.create_user(f"other{i}", email=f"other{i}@example.com")
        group = Group.objects.create(name=f"group {i}")
        user.groups.add(group)
        common = {"user_agent": "pytest", "ip_address": f"10.0.0.{i % 250}", "username": f"other{i}",
                  "http_accept": "*/*", "path_info": "/graphql/"}
        AccessAttempt.objects.create(**common, get_data="", post_data="", failures_since_start=1)
        AccessLog.objects.create(**common)
        AccessFailureLog.objects.create(**common, locked_out=False)


def test_the_other_apps_changelists_run_as_many_queries_at_50_rows_as_at_2(admin_client, db,
                                                                             django_assert_max_num_queries):
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth import get_user_model

    paths = [changelist(m) for m in (get_user_model(), Group, AccessAttempt, AccessLog, AccessFailureLog)]
    make_other_rows(2, 0)
    for path in paths:
        admin_client.get(path)  # warm caches (content types, sessions)
    two = {path: count_queries(admin_client, path) for path in paths}
    make_other_rows(48, 2)
    fifty = {}
    for path in paths:
        with django_assert_max_num_queries(max(two.values())):
            fifty[path] = count_queries(admin_client, path)
    assert fifty == two


# ------------------------------------------------------- no Seq Scan


def _seq_scans(node: dict):
    if node.get("Node Type") == "Seq Scan":
        loops = node.get("Actual Loops", 1)
        yield node.get("Relation Name"), (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * loops
    for child in node.get("Plans", []):
        yield from _seq_scans(child)


def seed_big_tables(rows: int, catalog, user) -> None:
    """``rows`` payments and webhook events as the bench makes them (every status, type and catalog
    currency; a payload of about a kilobyte), written in date order as production writes them, with
    the statistics and visibility map autovacuum would leave."""
    prices = [catalog[name] for name in ("basic_eur", "full_eur", "basic_usd", "full_usd") if name in catalog]
    statuses = ("pending", "succeeded", "failed", "canceled", "refunded", "partially_refunded", "processing")
    types = ("payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded", "refund.created",
             "customer.subscription.updated", "invoice.paid")
    event_statuses = ("processed", "processed", "processed", "ignored", "failed", "received")
    Payment.objects.bulk_create([
        Payment(user=user, price=prices[n % len(prices)], tier=prices[n % len(prices)].tier, amount=2999,
                currency=prices[n % len(prices)].currency, status=statuses[n % 7], payable_type="event",
                payable_id=str(n), stripe_payment_intent_id=f"pi_size_{n:05d}")
        for n in range(rows)
    ])
    WebhookEvent.objects.bulk_create([
        WebhookEvent(stripe_event_id=f"evt_size_{n:05d}", type=types[n % 6], status=event_statuses[n % 6], attempts=1,
                     object_id=f"pi_size_{n:05d}", payment_intent_id=f"pi_size_{n:05d}",
                     payload={"id": f"evt_size_{n}", "data": {"object": {"id": f"pi_size_{n}", "note": "x" * 900}}})
        for n in range(rows)
    ])
    payments = list(Payment.objects.order_by("stripe_payment_intent_id")[:50])
    for n, payment in enumerate(payments):  # a page of refunds and transactions, joined to the payments
        refund = Refund.objects.create(payment=payment, amount=100, currency=payment.currency, status="succeeded",
                                       stripe_refund_id=f"re_size_{n}")
        Transaction.objects.create(payment=payment, refund=refund, type="refund", currency=payment.currency,
                                   gross=-100, fee=0, net=-100, stripe_balance_transaction_id=f"txn_size_{n}",
                                   occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(days=n))
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    with connection.cursor() as cursor:  # two years, in the order the rows were written
        cursor.execute("UPDATE payments_payment SET created_at = %s + "
                       "(substr(stripe_payment_intent_id, 9)::int * interval '730 days') / %s", [start, rows])
        cursor.execute("UPDATE payments_webhookevent SET received_at = %s + "
                       "(substr(stripe_event_id, 10)::int * interval '730 days') / %s", [start, rows])
        for table in ("payments_payment", "payments_webhookevent", "payments_refund", "payments_transaction"):
            cursor.execute(f"VACUUM ANALYZE {table}")  # outside a transaction: the test is transactional_db


def option_paths(path: str, html: str) -> list[str]:
    from bench.admin import option_urls  # the same filter options and date links the bench measures

    return option_urls(path, html)


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="a PostgreSQL planner question: SQLite has no Seq Scan / index choice to check "
                           "(run with DATABASE_URL=postgres://...)")
def test_no_changelist_reads_a_big_table_with_a_seq_scan(transactional_db, admin_client, catalog, user):
    seed_big_tables(ROWS, catalog, user)
    found = []
    for model in (Payment, WebhookEvent, Refund, Transaction):
        page = changelist(model)
        paths = [page, *option_paths(page, admin_client.get(page).content.decode())]
        assert len(paths) > 3, (page, paths)
        for path in paths:
            with CaptureQueriesContext(connection) as queries:
                assert admin_client.get(path).status_code == 200, path
            for query in queries:
                sql = query["sql"]
                if not sql.lstrip().upper().startswith("SELECT") or not any(t in sql for t in BIG_TABLES):
                    continue
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
                    plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                found += [(path, table, read, sql[:200]) for table, read in _seq_scans(plan[0]["Plan"])
                          if table in BIG_TABLES]
    assert found == [], "\n".join(map(str, found))
