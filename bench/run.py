"""The benchmark runner: ``python -m bench`` (``make bench``), ``--smoke``
(``make bench-smoke``, and tests/bench/test_smoke.py).

1. Creates the bench database afresh (PostgreSQL ``payments_bench`` by
   default, never the test suite's), migrates it and seeds it: the demo
   catalog, one customer with a session, and PENDING payments (each for an
   event of its own, with a PaymentIntent id) for every phase.
2. Starts the real server: Daphne on ``bench.asgi`` (the product's ASGI
   application on bench.settings: the product's settings and URLs plus the
   baseline views and the per-request counters), DEBUG off, on that database.
3. Drives it from separate processes (``python -m bench.load``), over
   loopback only, every phase bounded by a duration and a count.
4. Prints each figure beside its same-run baseline, the ratio, the goal, and
   whether it was met; writes everything to ``var/bench/<mode>.json``.

Exit status 1 when a figure is missing or the run was not clean (an HTTP
error, a lost push, a Stripe call, different data from the two tiers
endpoints): never because of a figure's value.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench"

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/payments_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
WEBHOOK_SECRET = "whsec_bench_" + "b" * 32
SECRET_KEY = "bench-" + "k" * 50
TIERS_QUERY = (
    "{ tiers { id slug name description manifest position "
    "prices { id currency unitAmount type interval intervalCount display } } }"
)


@dataclass(frozen=True)
class Mode:
    name: str
    duration: float  # measured seconds per HTTP figure (and as much for its baseline)
    rounds: int  # in that many interleaved rounds (baseline, product, baseline, ...)
    warmup: float  # seconds at the start of each round, not counted
    concurrency: int
    ingest_payments: int  # new events available (the ingest run ends when they are used up)
    push_others: int
    push_samples: int
    memory_subscriptions: int
    phase_timeout: float  # seconds, per load process
    fresh_memory_server: bool
    admin_rows: int = 100_000  # payments, and as many webhook events
    admin_repeat: int = 5  # GETs per admin URL and database (their median), after one warm-up
    admin_page_rows: int = 1000  # the middle database: every list page as full as at any size
    admin_options: bool = True  # each changelist's filter options and date links too (not only the list)


FULL = Mode("full", duration=12, rounds=4, warmup=0.5, concurrency=8, ingest_payments=15000, push_others=1000,
            push_samples=300, memory_subscriptions=5000, phase_timeout=240, fresh_memory_server=True)
SMOKE = Mode("smoke", duration=1.0, rounds=1, warmup=0.2, concurrency=4, ingest_payments=400, push_others=20,
             push_samples=10, memory_subscriptions=60, phase_timeout=60, fresh_memory_server=False,
             admin_rows=300, admin_repeat=1, admin_page_rows=100, admin_options=False)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def loadavg() -> str:
    """The 1-minute load average: others' work on the machine weighs on the figures."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def empty_redis(url: str) -> None:
    """The bench's own Redis database (14 by default): emptied before and after,
    so that group memberships left by a run do not pile up."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def redis_answers(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# ------------------------------------------------------------------ database


def server_env(database_url: str, redis_url: str | None = None) -> dict[str, str]:
    """The product's production configuration (DEBUG off), with bench keys: a
    fake Stripe test key (no Stripe call is expected unless a phase gives the
    server a fake Stripe, ``STRIPE_API_BASE``; one would fail fast and be
    counted) and a webhook secret the load process signs with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "REDIS_URL", "DJANGO_", "SECURE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=database_url,
        DEBUG="false",
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        STRIPE_SECRET_KEY="sk_test_bench",
        STRIPE_PUBLISHABLE_KEY="pk_test_bench",
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_MAX_NETWORK_RETRIES="0",
        STRIPE_EMULATOR_DB=str(OUT / "unused-emulator.sqlite3"),
        # Plain HTTP on loopback: TLS is a proxy's job, not measured here.
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "INFO"),
        PYTHONUNBUFFERED="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def recreate_database(database_url: str) -> None:
    parsed = urlparse(database_url)
    if parsed.scheme.startswith("sqlite"):
        path = Path(parsed.path)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg2

    name = parsed.path.lstrip("/")
    if name in {"payments", "test_payments", "postgres", ""}:
        raise SystemExit(f"refusing to use database {name!r} for the benchmark: give it its own")
    conn = psycopg2.connect(
        host=parsed.hostname or "127.0.0.1", port=parsed.port or 5432, user=parsed.username or "postgres",
        password=parsed.password, dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
        # Django's documented PostgreSQL configuration: with the server's timezone
        # already UTC, Django does not send SET TIME ZONE on every new connection.
        cursor.execute(f"ALTER DATABASE \"{name}\" SET timezone TO 'UTC'")
    conn.close()


def drop_database(database_url: str) -> None:
    parsed = urlparse(database_url)
    if parsed.scheme.startswith("sqlite"):
        return
    import psycopg2

    conn = psycopg2.connect(host=parsed.hostname or "127.0.0.1", port=parsed.port or 5432,
                            user=parsed.username or "postgres", password=parsed.password, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{parsed.path.lstrip("/")}" WITH (FORCE)')
    conn.close()


CATALOG_TIERS, CATALOG_PRICES = 200, 5  # the tiers query's catalog: the demo tiers, then tiers of 5 prices


def seed_catalog() -> None:
    """The demo catalog grown to CATALOG_TIERS active tiers, each added one with
    CATALOG_PRICES active prices (one-time and monthly, in three currencies)."""
    from payments.models import Price, Tier

    have = Tier.objects.count()
    tiers = Tier.objects.bulk_create([
        Tier(slug=f"bench-{n}", name=f"Bench tier {n}", description="Reminders by email and SMS. " * 3,
             manifest={"email": ["-7d", "-1d"], "sms": ["-1d"]}, position=10 + n)
        for n in range(CATALOG_TIERS - have)
    ])
    kinds = [("eur", 999, None), ("usd", 1099, None), ("jpy", 1500, None), ("eur", 499, "month"), ("usd", 4999, "year")]
    Price.objects.bulk_create([
        Price(tier=tier, currency=currency, unit_amount=amount + n, type="recurring" if interval else "one_time",
              interval=interval, interval_count=1 if interval else None)
        for n, tier in enumerate(tiers) for currency, amount, interval in kinds[:CATALOG_PRICES]
    ])


def setup_and_seed(database_url: str, mode: Mode, peer: str | None = None) -> dict:
    """Migrate and seed (in this process, on the bench settings); returns the plan.
    ``peer`` (the mode's name): payments for the "Against dj-stripe" phase too,
    by a user who is a Stripe customer already (``bench.objects.CUSTOMER_ID``)."""
    os.environ.update(server_env(database_url))
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import connection, transaction

    from events.models import Event
    from payments.models import Payment, Price

    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    seed_catalog()
    user = get_user_model().objects.create_user("bench", email="bench@example.com")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    price = Price.objects.select_related("tier").filter(type="one_time", currency="eur").order_by("unit_amount").first()

    counter = iter(range(10**9))

    def payments(count: int) -> list[dict]:
        rows = []
        with transaction.atomic():
            events = Event.objects.bulk_create([Event(user=user, title="Bench") for _ in range(count)], batch_size=2000)
            batch = []
            for event in events:
                n = next(counter)
                batch.append(Payment(
                    id=uuid.uuid4(), user=user, price=price, tier=price.tier, amount=price.unit_amount,
                    currency=price.currency, payable_type="event", payable_id=str(event.pk),
                    stripe_payment_intent_id=f"pi_bench_{n:07d}",
                ))
            Payment.objects.bulk_create(batch, batch_size=2000)
        for payment in batch:
            rows.append({"id": str(payment.pk), "intent": payment.stripe_payment_intent_id,
                         "amount": payment.amount, "currency": payment.currency})
        return rows

    from bench import objects
    from payments.models import Customer

    # The bench user is a returning Stripe customer (bench.objects): the push's and
    # dj-stripe's real payment events name it.
    Customer.objects.create(user=user, stripe_customer_id=objects.CUSTOMER_ID)
    idle = payments(max(mode.memory_subscriptions, mode.push_others))
    plan = {
        "cookie": f"sessionid={session.session_key}",
        "ingest": payments(mode.ingest_payments),
        "push_one": payments(mode.push_samples + 1),
        "push_two": payments(mode.push_samples + 1),
        "idle": idle,
        # When the real payments' Stripe objects were made (bench.objects, the fakes).
        "stripe_created": int(time.time()) - 60,
    }
    if peer:
        from bench import peer as peer_phase

        plan["peer"] = payments(peer_phase.PAYMENTS[peer])
        plan["peer_created"] = plan["stripe_created"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    connection.close()
    log(f"database migrated and seeded in {time.monotonic() - started:.1f}s")
    return plan


# ------------------------------------------------------------------- servers


class Server:
    """A Daphne process serving bench.asgi."""

    def __init__(self, name: str, env: dict[str, str], *, python: str = sys.executable,
                 app: str = "bench.asgi:application"):
        self.name = name
        self.port = free_port()
        OUT.mkdir(parents=True, exist_ok=True)
        self.log_path = OUT / f"server-{name}.log"
        self.proc = subprocess.Popen(
            # Twisted's listen backlog is 50 by default (Daphne's -b/-p): a burst of connects
            # past it has its SYNs dropped and retried seconds later. 1024, as tests/live_server.py.
            [python, "-m", "daphne", "-e", f"tcp:port={self.port}:interface=127.0.0.1:backlog=1024", app],
            cwd=ROOT, env=env, stdout=self.log_path.open("w"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server {name} did not start:\n{self.log_path.read_text()[-3000:]}")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.base}/bench/stats/", timeout=5) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def run_load(spec: dict, timeout: float) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"spec-{spec['phase']}-{os.getpid()}.json"
    path.write_text(json.dumps(spec))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.load", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        )
    finally:
        path.unlink(missing_ok=True)
    if done.returncode != 0:
        raise RuntimeError(f"load process failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def post_json(url: str, payload: dict, headers: dict[str, str]) -> dict:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


# -------------------------------------------------------------------- phases


def _rounds(mode: Mode, port: int, server_pid: int, pairs: list[tuple[dict, dict]]) -> list[dict]:
    """Each (baseline, product) pair as ``mode.rounds`` interleaved rounds of
    ``duration / rounds`` seconds each (each round with its own warm-up)."""
    common = {"duration": mode.duration / mode.rounds + mode.warmup, "warmup": mode.warmup,
              "concurrency": mode.concurrency, "port": port, "server_pid": server_pid}
    return [{**common, **run} for baseline, product in pairs for _ in range(mode.rounds) for run in (baseline, product)]


def phase_webhooks(server: Server, plan: dict, mode: Mode, run_id: str) -> dict:
    spec = {
        "phase": "http",
        "host": "127.0.0.1",
        "webhook_secret": WEBHOOK_SECRET,
        "run_id": run_id,
        "payments": plan["ingest"],
        "runs": _rounds(mode, server.port, server.pid, [
            ({"name": "ingest_baseline", "kind": "webhook_bare", "path": "/bench/bare/"},
             {"name": "ingest", "kind": "webhook_new", "path": "/api/payments/webhook/"}),
            ({"name": "duplicate_baseline", "kind": "webhook_bare", "path": "/bench/bare/"},
             {"name": "duplicate", "kind": "webhook_redeliver", "path": "/api/payments/webhook/"}),
        ]),
    }
    return {run["name"]: run for run in run_load(spec, mode.phase_timeout)["runs"]}


def phase_graphql(server: Server, mode: Mode) -> dict:
    token = secrets.token_hex(16)  # an unmasked CSRF secret: cookie and header
    headers = {"Content-Type": "application/json", "Cookie": f"csrftoken={token}", "X-CSRFToken": token}
    body = json.dumps({"query": TIERS_QUERY})
    graphql = post_json(f"{server.base}/graphql/", {"query": TIERS_QUERY}, headers)
    plain = post_json(f"{server.base}/bench/tiers/", {"query": TIERS_QUERY}, headers)
    request = {"kind": "static", "method": "POST", "body": body, "headers": headers}
    spec = {
        "phase": "http",
        "host": "127.0.0.1",
        "runs": _rounds(mode, server.port, server.pid, [
            ({**request, "name": "tiers_baseline", "path": "/bench/tiers/"},
             {**request, "name": "tiers", "path": "/graphql/"}),
        ]),
    }
    runs = {run["name"]: run for run in run_load(spec, mode.phase_timeout)["runs"]}
    runs["same_data"] = graphql == plain and "errors" not in graphql
    if not runs["same_data"]:
        runs["graphql_answer"], runs["plain_answer"] = graphql, plain
    return runs


def phase_push(ws_server: Server, http_server: Server, plan: dict, key: str, mode: Mode, run_id: str) -> dict:
    """A real card payment's events per push (``charge.succeeded``, then
    ``payment_intent.succeeded`` with ``latest_charge``): the webhook server reads the
    charge from its fake Stripe after the commit, as it reads Stripe in production."""
    spec = {
        "phase": "push",
        "events": "payment",
        "created": plan["stripe_created"],
        "ws_port": ws_server.port,
        "http_port": http_server.port,
        "cookie": plan["cookie"],
        "webhook_secret": WEBHOOK_SECRET,
        "run_id": run_id,
        "others": [p["id"] for p in plan["idle"][: mode.push_others]],
        "measured": plan[key],
        "max_seconds": mode.phase_timeout - 20,
    }
    return run_load(spec, mode.phase_timeout)


def phase_memory(server: Server, plan: dict, mode: Mode) -> dict:
    spec = {
        "phase": "memory",
        "ws_port": server.port,
        "server_pid": server.pid,
        "cookie": plan["cookie"],
        "payments": [p["id"] for p in plan["idle"][: mode.memory_subscriptions]],
        "warm": min(50, mode.memory_subscriptions),
        # Handshakes in flight at once. Daphne rejects (403) or drops a handshake the
        # application has not accepted within 5 s (--websocket_connect_timeout, also
        # autobahn's openHandshakeTimeout); at 100 in flight, while the server opened
        # 20 to 30 a second on this shared machine, 668 of 5,000 waited longer.
        "parallel": 16,
        "settle": 2 if mode.name == "full" else 0.5,
        # 5,000 opens took 213 s at 16 in flight with the load average at 6: twice the
        # other phases' cap, so that the count, not the clock, ends the phase.
        "max_seconds": 2 * mode.phase_timeout - 20,
    }
    return run_load(spec, 2 * mode.phase_timeout)


def phase_admin(database_url: str, mode: Mode, keep_db: bool) -> dict:
    """bench/admin.py in a process of its own (Django set up on its own database)."""
    if urlparse(database_url).scheme.startswith("sqlite"):
        return {"skipped": "PostgreSQL only"}
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"spec-admin-{os.getpid()}.json"
    path.write_text(json.dumps({"database_url": database_url, "rows": mode.admin_rows, "repeat": mode.admin_repeat,
                                "page_rows": mode.admin_page_rows,
                                "options": mode.admin_options, "keep_db": keep_db}))
    try:
        done = subprocess.run([sys.executable, "-m", "bench.admin", str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True, timeout=1800, env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"})
    finally:
        path.unlink(missing_ok=True)
    if done.returncode != 0:
        raise RuntimeError(f"admin phase failed ({done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------- table


def machine() -> dict:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_kb = 0
    try:
        memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    import django
    from importlib.metadata import version

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "strawberry": version("strawberry-graphql"),
        "daphne": version("daphne"),
    }


def figures(results: dict) -> list[dict]:
    """The rows of the table: name, value, baseline, ratio, goal, met."""
    rows: list[dict] = []

    def row(name, value, baseline=None, *, goal=None, met=None, unit="", ratio=None):
        if ratio is None and value is not None and baseline not in (None, 0) and isinstance(baseline, (int, float)):
            ratio = value / baseline
        rows.append({"figure": name, "value": value, "baseline": baseline, "ratio": ratio, "goal": goal,
                     "met": met, "unit": unit})

    web = results.get("webhooks") or {}
    for key, base_key, label, goal in (("ingest", "ingest_baseline", "1. Webhook ingest", 0.5),
                                       ("duplicate", "duplicate_baseline", "2. Duplicates", 0.8)):
        run, base = web.get(key) or {}, web.get(base_key) or {}
        rps, base_rps = run.get("rps"), base.get("rps")
        ratio = rps / base_rps if rps and base_rps else None
        row(f"{label}: events/s", rps, base_rps, goal=f"ratio >= {goal}", met=None if ratio is None else ratio >= goal, unit="/s")
        row(f"{label}: p50 latency", run.get("p50_ms"), base.get("p50_ms"), unit="ms")
        row(f"{label}: p99 latency", run.get("p99_ms"), base.get("p99_ms"), unit="ms")
        row(f"{label}: server CPU per request", run.get("server_cpu_ms_per_request"),
            base.get("server_cpu_ms_per_request"), unit="ms")
    ingest, dup = web.get("ingest") or {}, web.get("duplicate") or {}
    # (dj-stripe's figures: the "7. Against dj-stripe" rows, measured in the same run by bench.peer.)
    row("2. SQL per new event (max)", ingest.get("queries_max"), goal="<= 8",
        met=None if ingest.get("queries_max") is None else ingest["queries_max"] <= 8, ratio=False)
    row("2. SQL per duplicate (max)", dup.get("queries_max"), goal="<= 2",
        met=None if dup.get("queries_max") is None else dup["queries_max"] <= 2, ratio=False)

    one, two = results.get("push_one") or {}, results.get("push_two") or {}
    others = one.get("others_open")
    # From the moment the webhook is sent to the moment the subscriber reads the push.
    row(f"3. Push p50, one process ({others} others), from the webhook sent", one.get("p50_ms"), unit="ms", ratio=False)
    row(f"3. Push p99, one process ({others} others), from the webhook sent", one.get("p99_ms"), goal="<= 50 ms",
        met=None if one.get("p99_ms") is None else one["p99_ms"] <= 50, unit="ms", ratio=False)
    skipped = results.get("push_two_skipped")
    row(f"3. Push p99, two processes via Redis ({two.get('others_open')} others), from the webhook sent",
        two.get("p99_ms"), goal="<= 100 ms", met=None if two.get("p99_ms") is None else two["p99_ms"] <= 100,
        unit="ms", ratio=False)
    row("3. Push p50, two processes via Redis, from the webhook sent", two.get("p50_ms"), unit="ms", ratio=False)
    if skipped:
        rows[-1]["skipped"] = rows[-2]["skipped"] = skipped
    calls = one.get("stripe_calls")
    row("3. Push: Stripe calls per push (its charge, read after the commit)",
        calls / one["samples"] if calls is not None and one.get("samples") else None, ratio=False)

    gql = results.get("graphql") or {}
    run, base = gql.get("tiers") or {}, gql.get("tiers_baseline") or {}
    rps, base_rps = run.get("rps"), base.get("rps")
    ratio = rps / base_rps if rps and base_rps else None
    row("4. GraphQL tiers: requests/s", rps, base_rps, goal="ratio >= 0.8",
        met=None if ratio is None else ratio >= 0.8, unit="/s")
    row("4. GraphQL tiers: p50 latency", run.get("p50_ms"), base.get("p50_ms"), unit="ms")
    row("4. GraphQL tiers: p99 latency", run.get("p99_ms"), base.get("p99_ms"), unit="ms")
    row("4. GraphQL tiers: server CPU per request", run.get("server_cpu_ms_per_request"),
        base.get("server_cpu_ms_per_request"), unit="ms")
    row("4. GraphQL tiers: SQL per request (max)", run.get("queries_max"), base.get("queries_max"), ratio=False)

    admin = results.get("admin") or {}
    lists: dict[str, list[dict]] = {}
    for page in admin.get("pages", []):  # each changelist, then its filter options
        lists.setdefault(page["url"].split("?")[0].removeprefix("/admin/").strip("/"), []).append(page)
    big = ("payments/payment", "payments/webhookevent")
    for name in big:
        pages = lists.get(name)
        if not pages:
            continue
        worst = max(pages[1:], key=lambda p: p["ratio"], default=None)
        worst_page = max(pages[1:], key=lambda p: p["ratio_page"], default=None)
        for label, page in ((f"6. Admin {name}, {admin['rows']} rows vs none", pages[0]),
                            (f"6. Admin {name}, worst of {len(pages) - 1} filter options vs none", worst)):
            if page:  # (no filter options in smoke mode)
                row(label, page["full_ms"], page["empty_ms"], goal="ratio <= 1.5", met=page["ratio"] <= 1.5, unit="ms")
        for label, page in ((f"6. Admin {name}, {admin['rows']} rows vs {admin['page_rows']}", pages[0]),
                            (f"6. Admin {name}, worst filter option vs {admin['page_rows']} rows", worst_page)):
            if page:
                row(label, page["full_ms"], page["page_ms"], unit="ms")
    others = [p for name, pages in lists.items() if name not in big for p in pages]
    if others:
        worst = max(others, key=lambda p: p["ratio"])
        row(f"6. Admin, the {len(lists) - len(big)} other changelists and their {len(others)} pages: worst vs none",
            worst["full_ms"], worst["empty_ms"], goal="ratio <= 1.5", met=worst["ratio"] <= 1.5, unit="ms")
    if admin.get("pages"):
        reading = [s for s in admin["seq_scans"] if s["rows_read"] > 1000]
        row(f"6. Admin: Seq Scans reading > 1,000 rows of a {admin['rows']}-row table", len(reading), goal="0",
            met=not reading, ratio=False)
        row("6. Admin: Seq Scan nodes of any size on those tables", len(admin["seq_scans"]), ratio=False)

    mem = results.get("memory") or {}
    per = mem.get("per_subscription_kb")
    row(f"5. Memory per idle subscription ({mem.get('count')} open)", per, goal="<= 80 KB",
        met=None if per is None else per <= 80, unit="KB", ratio=False)

    from bench import peer  # (bench.peer imports this module)

    peer.figures(results, rows, row)
    return rows


def fmt(value, unit: str = "") -> str:
    if value is None:
        return "-"
    if value is False:
        return ""
    if isinstance(value, float):
        text = f"{value:.0f}" if abs(value) >= 100 else f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
    else:
        text = str(value)
    return text


def print_table(rows: list[dict]) -> None:
    header = ("figure", "value", "baseline", "ratio", "goal", "met?", "load avg")
    lines = []
    for r in rows:
        unit = r["unit"]
        lines.append((
            r["figure"],
            fmt(r["value"]) + (f" {unit}" if r["value"] is not None and unit else ""),
            fmt(r["baseline"]) + (f" {unit}" if r["baseline"] is not None and unit and r["ratio"] is not False else ""),
            "" if r["ratio"] in (None, False) else f"{r['ratio']:.2f}",
            r["goal"] or "",
            "" if r["goal"] is None else ("yes" if r["met"] else "NO" if r["met"] is False else "-"),
            r.get("load") or "",  # the phase's own, where it has one (else the run's, above the table)
        ))
    widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print("  ".join(str(c).ljust(w) if i == 0 or i == 4 else str(c).rjust(w) for i, (c, w) in enumerate(zip(line, widths))))


def problems(results: dict) -> list[str]:
    """What makes a run unclean (never a figure's value)."""
    found = []
    for phase in ("webhooks", "graphql"):
        for name, run in (results.get(phase) or {}).items():
            if not isinstance(run, dict):
                continue
            if run.get("error_count"):
                found.append(f"{phase}/{name}: {run['error_count']} errors, e.g. {run['errors'][:2]}")
            if run.get("stripe_calls"):
                found.append(f"{phase}/{name}: {run['stripe_calls']} Stripe calls")
    web = results.get("webhooks") or {}
    if web.get("ingest", {}).get("outcomes", {}).keys() - {"processed"}:
        found.append(f"ingest outcomes: {web['ingest']['outcomes']}")
    if web.get("duplicate", {}).get("outcomes", {}).keys() - {"duplicate"}:
        found.append(f"duplicate outcomes: {web['duplicate']['outcomes']}")
    if results.get("graphql") and not results["graphql"].get("same_data"):
        found.append("the GraphQL tiers query and the plain view answered different data")
    expected = {}  # Stripe calls each server should have made: one charge read per push
    for key, server in (("push_one", "single"), ("push_two", "redis-b")):
        push = results.get(key)
        if not push:
            continue
        expected[server] = push.get("stripe_calls") or 0
        if push.get("lost") or push.get("failure_count") or push.get("others_failed"):
            found.append(f"{key}: lost {push.get('lost')}, failures {push.get('failures')}, "
                         f"others failed {push.get('others_failed')} {push.get('open_errors')}")
        if push.get("stripe_calls") != push.get("samples"):
            found.append(f"{key}: {push.get('stripe_calls')} Stripe calls for {push.get('samples')} pushes (one each)")
    mem = results.get("memory")
    if mem and mem.get("failed"):
        found.append(f"memory: {mem['failed']} subscriptions failed to open, e.g. {mem.get('errors')}")
    for name, stats in (results.get("server_stats") or {}).items():
        if stats.get("stripe_calls", 0) != expected.get(name, 0):
            found.append(f"server {name} made {stats['stripe_calls']} Stripe calls ({expected.get(name, 0)} expected)")
    from bench import peer  # (its servers call the fake Stripe on purpose: checked there)

    return found + peer.problems(results)


# ---------------------------------------------------------------------- main

PHASES = ("webhooks", "graphql", "push", "push-redis", "memory", "admin", "djstripe")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a small, fast run (CI): figures produced, not meaningful")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help=f"the bench database, dropped and created (default {DEFAULT_DATABASE_URL}, "
                             "with --smoke ..._smoke); never the test suite's")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
                        help=f"for the two-process push (default {DEFAULT_REDIS_URL}); 'none' skips it")
    parser.add_argument("--concurrency", type=int, help="connections per HTTP run (default 8; smoke 4)")
    parser.add_argument("--duration", type=float, help="measured seconds per HTTP figure and per baseline (default 12; smoke 1)")
    parser.add_argument("--json", type=Path, help="where to write the results (default var/bench/<mode>.json)")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the bench database at the end")
    parser.add_argument("--only", help=f"comma-separated phases to run (of {','.join(PHASES)}); default all")
    args = parser.parse_args(argv)

    # The smoke run (CI) leaves dj-stripe out unless asked for by name: building its
    # virtualenv needs PyPI, and its migrations alone took 262 s here (load average 10).
    default = set(PHASES) - ({"djstripe"} if args.smoke else set())
    only = set(args.only.split(",")) if args.only else default
    if only - set(PHASES):
        parser.error(f"unknown phases: {', '.join(sorted(only - set(PHASES)))}")
    mode = SMOKE if args.smoke else FULL
    if not args.database_url:
        args.database_url = DEFAULT_DATABASE_URL + ("_smoke" if args.smoke else "")
    if args.concurrency or args.duration:
        from dataclasses import replace

        mode = replace(mode, concurrency=args.concurrency or mode.concurrency, duration=args.duration or mode.duration)
    raise_nofile()
    OUT.mkdir(parents=True, exist_ok=True)
    run_id = secrets.token_hex(4)
    redis_url = None if args.redis_url.lower() in {"", "none", "off"} else args.redis_url
    results: dict = {"mode": mode.name, "machine": machine(), "database": urlparse(args.database_url).scheme,
                     "concurrency": mode.concurrency, "duration_s": mode.duration, "rounds": mode.rounds,
                     "warmup_s": mode.warmup, "loadavg_before": loadavg(),
                     "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    wall = time.monotonic()
    if "djstripe" not in only:
        results["djstripe"] = {"skipped": "not in the smoke run (--only djstripe runs it)" if args.smoke and not args.only
                               else "not asked for (--only)"}
    servers: list[Server] = []
    fakes: list = []  # bench.peer.FakeStripe
    if "admin" in only:  # on a database of its own, first
        results["admin"] = phase_admin(args.database_url + "_admin", mode, args.keep_db)
        if only == {"admin"}:
            return finish(args, mode, results, wall, only, default)
    try:
        log(f"{mode.name} run on {args.database_url}")
        recreate_database(args.database_url)
        plan = setup_and_seed(args.database_url, mode, peer=mode.name if "djstripe" in only else None)

        from bench.peer import FakeStripe

        # The push's webhooks are a real payment's: the ledger reads each charge from Stripe.
        fake_single = FakeStripe("single", plan["push_one"], plan["stripe_created"])
        fakes.append(fake_single)
        single = Server("single", {**server_env(args.database_url), "STRIPE_API_BASE": fake_single.base})
        servers.append(single)
        log(f"server 'single' (pid {single.pid}, port {single.port}, in-memory channel layer) is up")

        if "webhooks" in only:
            log("webhooks: bare view, new events, bare view, redeliveries")
            results["webhooks"] = phase_webhooks(single, plan, mode, run_id)
        if "graphql" in only:
            log("GraphQL: the plain JsonResponse view, then the tiers query")
            results["graphql"] = phase_graphql(single, mode)
        if "push" in only:
            log(f"push, one process: {mode.push_others} idle subscriptions, {mode.push_samples} pushes")
            results["push_one"] = phase_push(single, single, plan, "push_one", mode, run_id)
        results.setdefault("server_stats", {})["single"] = single.stats()
        if mode.fresh_memory_server:
            # Not needed any more (the memory phase has a server of its own): its worker
            # threads' database connections are given back before two more servers open theirs.
            single.stop()

        if "djstripe" in only:
            from bench import peer

            log("against dj-stripe: the same signed events to ours and to dj-stripe 2.11, new and again")
            results["djstripe"] = peer.phase(args.database_url, mode, plan, run_id, args.keep_db)

        if "push-redis" not in only:
            results["push_two_skipped"] = "not asked for (--only)"
        elif redis_url and redis_answers(redis_url):
            empty_redis(redis_url)
            a = Server("redis-a", server_env(args.database_url, redis_url))
            servers.append(a)
            fake_b = FakeStripe("redis-b", plan["push_two"], plan["stripe_created"])
            fakes.append(fake_b)
            b = Server("redis-b", {**server_env(args.database_url, redis_url), "STRIPE_API_BASE": fake_b.base})
            servers.append(b)
            log(f"push, two processes via Redis: subscribers on {a.port}, webhooks to {b.port}")
            results["push_two"] = phase_push(a, b, plan, "push_two", mode, run_id)
            results["server_stats"]["redis-a"], results["server_stats"]["redis-b"] = a.stats(), b.stats()
            a.stop()
            b.stop()
            empty_redis(redis_url)
        else:
            results["push_two_skipped"] = f"Redis does not answer at {redis_url}" if redis_url else "no Redis given"
            log(f"push, two processes: skipped ({results['push_two_skipped']})")

        if "memory" in only:
            if mode.fresh_memory_server:
                memory_server = Server("memory", server_env(args.database_url))
                servers.append(memory_server)
            else:
                memory_server = single
            log(f"memory: {mode.memory_subscriptions} idle subscriptions on server pid {memory_server.pid}")
            results["memory"] = phase_memory(memory_server, plan, mode)
    finally:
        for server in servers:
            server.stop()
        for fake in fakes:
            fake.stop()
        if not args.keep_db:
            try:
                drop_database(args.database_url)
            except Exception as exc:  # the figures are still worth printing
                log(f"could not drop the bench database: {exc}")
    return finish(args, mode, results, wall, only, default)


def finish(args, mode: Mode, results: dict, wall: float, only: set[str], default: set[str]) -> int:
    results["wall_s"] = round(time.monotonic() - wall, 1)
    results["loadavg_after"] = loadavg()
    rows = figures(results)
    results["figures"] = rows
    results["problems"] = problems(results)
    out = args.json or OUT / f"{mode.name}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    m = results["machine"]
    print(f"\n{mode.name} run, {results['started']}, {results['wall_s']} s; {m['cpu']}, {m['cores']} cores, "
          f"{m['memory_gib']} GiB; Python {m['python']}, Django {m['django']}, Strawberry {m['strawberry']}, "
          f"Daphne {m['daphne']}; {results['database']}; HTTP: {mode.concurrency} connections, "
          f"{mode.duration}s per figure in {mode.rounds} round{'s' if mode.rounds > 1 else ''} alternating with the baseline "
          f"(+{mode.warmup}s warm-up each); load average before/after: {results['loadavg_before']} / "
          f"{results['loadavg_after']}\n")
    print_table(rows)
    missing = [r["figure"] for r in rows if r["value"] is None and not r.get("skipped")
               and "server CPU" not in r["figure"]] if only == default else []
    if "push_two_skipped" in results:
        print(f"\ntwo-process push skipped: {results['push_two_skipped']}")
    if (results.get("djstripe") or {}).get("skipped"):
        print(f"\nagainst dj-stripe skipped: {results['djstripe']['skipped']}")
    print(f"\nresults: {out}")
    for problem in results["problems"]:
        print(f"PROBLEM: {problem}")
    if missing:
        print(f"MISSING: {', '.join(missing)}")
    return 1 if results["problems"] or missing else 0


if __name__ == "__main__":
    sys.exit(main())
