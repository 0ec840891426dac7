"""The admin at size: ``python -m bench.admin <spec.json>`` (``bench.run --only
admin`` writes the spec) prints one JSON line.

PostgreSQL only. Three databases, copies of one another
(``CREATE DATABASE ... TEMPLATE``) but for the two big tables: all have the
demo catalog, 500 users and a logged-in superuser; *empty* has no payment and
no webhook event, *page* has ``page_rows`` of each (one list page: the same
rows to render as at any size), *full* has ``rows`` of each (dates spread over
two years, every status, type and currency). Three real servers (Daphne on
``bench.asgi``), one per database; over real HTTP, logged in, every
changelist and every filter option and date link its sidebar offers is
fetched from the three in turn (so that the machine's other work weighs on
all alike): the median of ``repeat`` GETs of each after a warm-up. Figures:
full / empty (the issue's goal: <= 1.5) and full / page (what grows with the
table alone, rendering the page's rows set aside). Then every statement those
pages run on the full database (captured in this process with Django's test
client) is EXPLAINed and run (``EXPLAIN ANALYZE``): each Seq Scan on a big
table is noted with the rows it read.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import statistics
import sys
import time
from html import unescape

BIG_TABLES = ("payments_payment", "payments_webhookevent")
EVENT_TYPES = ("payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded", "refund.created",
               "customer.subscription.updated", "invoice.paid")
STATUSES = ("pending", "succeeded", "failed", "canceled", "refunded", "partially_refunded", "processing")
EVENT_STATUSES = ("processed", "processed", "processed", "ignored", "failed", "received")


def log(message: str) -> None:
    print(f"[bench admin {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def setup(database_url: str) -> str:
    """Migrate, seed the catalog, create a logged-in superuser: its cookie."""
    from bench.run import recreate_database, server_env

    recreate_database(database_url)
    os.environ.update(server_env(database_url))
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    get_user_model().objects.bulk_create(  # in both databases: the customers of the payments
        [get_user_model()(username=f"customer{i}", email=f"customer{i}@example.com") for i in range(500)]
    )
    admin = get_user_model().objects.create_superuser("bench-admin", email="admin@example.com", password=None)
    session = SessionStore()
    session[SESSION_KEY] = str(admin.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = admin.get_session_auth_hash()
    session.create()
    return f"sessionid={session.session_key}"


def seed(rows: int, first: int = 0) -> None:
    """Payments and webhook events ``first`` to ``rows`` (exclusive), with the
    dates of all of them spread over the last two years (bulk_create, then one
    UPDATE for the dates)."""
    import uuid

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from payments.models import Payment, Price, WebhookEvent

    started = time.monotonic()
    users = list(get_user_model().objects.filter(username__startswith="customer"))
    prices = list(Price.objects.select_related("tier"))
    with transaction.atomic():
        for start in range(first, rows, 5000):
            batch = []
            for n in range(start, min(rows, start + 5000)):
                price = prices[n % len(prices)]
                batch.append(Payment(
                    id=uuid.uuid4(), user=users[n % len(users)], price=price, tier=price.tier, amount=price.unit_amount,
                    currency=price.currency, status=STATUSES[n % len(STATUSES)], payable_type="event",
                    payable_id=str(n), stripe_payment_intent_id=f"pi_admin_{n:07d}",
                ))
            Payment.objects.bulk_create(batch)
        for start in range(first, rows, 5000):
            WebhookEvent.objects.bulk_create([
                WebhookEvent(
                    stripe_event_id=f"evt_admin_{n:07d}", type=EVENT_TYPES[n % len(EVENT_TYPES)],
                    status=EVENT_STATUSES[n % len(EVENT_STATUSES)], attempts=1, api_version="2026-10-28.endive",
                    payload={"id": f"evt_admin_{n:07d}", "object": "event", "type": EVENT_TYPES[n % len(EVENT_TYPES)],
                             "data": {"object": {"id": f"pi_admin_{n:07d}", "object": "payment_intent",
                                                 "amount": 2999, "currency": "eur", "status": "succeeded",
                                                 "metadata": {"payment_id": str(uuid.uuid4())}}}},
                )
                for n in range(start, min(rows, start + 5000))
            ])
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(0.13)")
            cursor.execute("UPDATE payments_payment SET created_at = now() - random() * interval '730 days'")
            cursor.execute("UPDATE payments_webhookevent SET received_at = now() - random() * interval '730 days', "
                           "stripe_created = now() - random() * interval '730 days'")
    vacuum()
    log(f"seeded payments and webhook events {first} to {rows} in {time.monotonic() - started:.1f}s")


def vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def copy_database(database_url: str, copy_url: str) -> None:
    """``copy_url`` made a copy of ``database_url`` as it is now."""
    import psycopg2
    from django.db import connection
    from urllib.parse import urlparse

    connection.close()
    source, target = urlparse(database_url), urlparse(copy_url)
    conn = psycopg2.connect(host=source.hostname, port=source.port or 5432, user=source.username or "postgres",
                            password=source.password, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{target.path.lstrip("/")}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{target.path.lstrip("/")}" TEMPLATE "{source.path.lstrip("/")}"')
    conn.close()


class Browser:
    """A logged-in admin on one keep-alive connection."""

    def __init__(self, port: int, cookie: str):
        self.port, self.cookie = port, cookie
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path: str) -> tuple[float, str]:
        started = time.perf_counter()
        self.conn.request("GET", path, headers={"Cookie": self.cookie, "Host": "127.0.0.1"})
        response = self.conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status}")
        return elapsed, body.decode()



def alternate(browsers: dict[str, Browser], path: str, repeat: int) -> dict[str, float]:
    """The median time of ``path`` on each server, asked in turn, after a warm-up."""
    times: dict[str, list[float]] = {name: [] for name in browsers}
    for name, browser in browsers.items():
        browser.get(path)
    for _ in range(repeat):
        for name, browser in browsers.items():
            times[name].append(browser.get(path)[0])
    return {name: statistics.median(values) for name, values in times.items()}


def changelists() -> list[str]:
    from django.contrib import admin
    from django.urls import reverse

    return sorted(reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist") for m in admin.site._registry)


def option_urls(path: str, html: str) -> list[str]:
    """The filter options and date links a changelist offers (not sorting, not search)."""
    section = re.search(r'<nav id="changelist-filter".*?</nav>|<div id="changelist-filter".*?</div>\s*</div>', html, re.S)
    found = re.findall(r'href="(\?[^"]+)"', (section[0] if section else "") + " ".join(
        re.findall(r'<nav class="toplinks">.*?</nav>', html, re.S)))
    options = []
    for query in dict.fromkeys(unescape(q) for q in found):
        if "o=" not in query.split("&")[0] and "_facets" not in query:
            options.append(path + query)
    return options


def _seq_scans(node: dict):
    """The Seq Scan nodes of an EXPLAIN (ANALYZE, FORMAT JSON) plan, with the rows each read."""
    if node.get("Node Type") == "Seq Scan":
        loops = node.get("Actual Loops", 1)
        yield node.get("Relation Name"), (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * loops
    for child in node.get("Plans", []):
        yield from _seq_scans(child)


def explain(urls: list[str]) -> dict:
    """Every SELECT each page runs on a big table, EXPLAINed (and run: ANALYZE);
    each Seq Scan on a big table, with the rows it read."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(get_user_model().objects.get(username="bench-admin"))
    plans, seq_scans, counts = [], [], {}
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        counts[url] = len(queries)
        for query in queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT") or not any(t in sql for t in BIG_TABLES):
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
                analyzed = cursor.fetchone()[0]
            analyzed = json.loads(analyzed) if isinstance(analyzed, str) else analyzed
            plans.append(f"-- {url}\n{sql}\n{plan}\n")
            for table, read in _seq_scans(analyzed[0]["Plan"]):
                if table in BIG_TABLES:
                    seq_scans.append({"url": url, "table": table, "rows_read": read, "sql": sql[:300]})
    return {"plans": plans, "seq_scans": seq_scans, "queries": counts}


def main(spec_path: str) -> None:
    from bench.run import OUT, Server, drop_database, server_env

    spec = json.loads(open(spec_path).read())
    url, rows, repeat, page_rows = spec["database_url"], spec["rows"], spec["repeat"], spec.get("page_rows", 100)
    copies = {"empty": url + "_empty", "page": url + "_page"}
    cookie = setup(url)
    vacuum()
    copy_database(url, copies["empty"])
    seed(page_rows)
    copy_database(url, copies["page"])
    seed(rows, first=page_rows)
    servers = []
    try:
        databases = {"empty": copies["empty"], "page": copies["page"], "full": url}
        for name, database in databases.items():
            # One request at a time comes: two workers (so two kept connections) per server are plenty,
            # and the machine's PostgreSQL (100 connections) is shared with other runs.
            servers.append(Server(f"admin-{name}", {**server_env(database), "HTTP_MAX_CONCURRENT_REQUESTS": "2"}))
        browsers = {name: Browser(server.port, cookie) for name, server in zip(databases, servers)}
        pages = changelists()
        urls = []
        for page in pages:
            urls += [page, *(option_urls(page, browsers["full"].get(page)[1]) if spec.get("options", True) else [])]
        log(f"{len(pages)} changelists, {len(urls)} URLs with their filter options; {rows} rows, {page_rows}, none")
        for u in urls:  # a first pass, so that no figure pays for the process's first use of a template or module
            for browser in browsers.values():
                browser.get(u)
        times = {u: alternate(browsers, u, repeat) for u in urls}
        for server in servers:
            server.stop()
        checked = explain(urls)
        (OUT / "admin-plans.txt").write_text("\n".join(checked["plans"]))
    finally:
        for server in servers:
            server.stop()
        if not spec.get("keep_db"):
            from django.db import connection

            connection.close()
            for database in (url, *copies.values()):
                drop_database(database)
    pages_out = [{"url": u, "empty_ms": round(t["empty"], 2), "page_ms": round(t["page"], 2),
                  "full_ms": round(t["full"], 2), "ratio": round(t["full"] / t["empty"], 3),
                  "ratio_page": round(t["full"] / t["page"], 3), "queries": checked["queries"][u]}
                 for u, t in times.items()]
    print(json.dumps({"rows": rows, "page_rows": page_rows, "repeat": repeat, "pages": pages_out,
                      "seq_scans": checked["seq_scans"], "plans_file": str(OUT / "admin-plans.txt")}))


if __name__ == "__main__":
    main(sys.argv[1])
