"""The "Against dj-stripe" phase (``--only djstripe``; issue 13, part 3).

In the same run, on the same PostgreSQL server, through the same HTTP stack:

- **ours**: a Daphne server of the product (bench.asgi) whose Stripe calls go
  to a fake Stripe on loopback (``STRIPE_API_BASE``);
- **dj-stripe 2.11**: a Daphne server of ``bench.djstripe`` (its own
  virtualenv, its webhook view, its own database ``<bench database>_djstripe``
  on the same server), its Stripe calls to another fake Stripe
  (dj-stripe's ``STRIPE_API_HOST``).

Both fakes (``bench.fake_stripe``) answer the same objects the events carry
(``bench.objects``). One load process sends both servers the same signed
events (``charge.succeeded`` then ``payment_intent.succeeded`` of each payment,
with a customer, a payment method and ``latest_charge``), in interleaved rounds
(ours' bare view, ours' new events, dj-stripe's bare view, dj-stripe's new
events, ...), then the same events again (redeliveries). Per request: SQL
statements (``bench.instrument``'s counter, in both servers), the server
process's CPU time, the fake's calls. Nothing of dj-stripe's is typed in:
every figure of it comes from this run, or the phase is skipped with its reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from bench.djstripe import venv
from bench.run import (OUT, ROOT, SECRET_KEY, WEBHOOK_SECRET, Mode, Server, free_port, loadavg, log,
                       recreate_database, drop_database, run_load, server_env)

DJSTRIPE_KEY = "sk_test_bench" + "0" * 24  # a fake key in the shape dj-stripe checks (24 characters or more)
PAYMENTS = {"full": 1500, "smoke": 60}  # payments planned (two events each); a run ends when they are used up


class FakeStripe:
    def __init__(self, name: str, payments: list[dict], created: int):
        self.port = free_port()
        self.spec = OUT / f"fake-stripe-{name}-{os.getpid()}.json"
        self.spec.write_text(json.dumps({"port": self.port, "payments": payments, "created": created}))
        self.log = OUT / f"fake-stripe-{name}.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.fake_stripe", str(self.spec)], cwd=ROOT,
                                     stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                self.stats()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"fake Stripe {name} did not start: {self.log.read_text()[-2000:]}")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.base}/__bench/stats", timeout=5) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.spec.unlink(missing_ok=True)


def djstripe_env(database_url: str, fake: FakeStripe) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("STRIPE_", "DJANGO_", "DATABASE_", "REDIS_URL", "VIRTUAL_ENV", "PYTHONPATH"))}
    env.update(DJANGO_SETTINGS_MODULE="bench.djstripe.settings", DATABASE_URL=database_url, SECRET_KEY=SECRET_KEY,
               STRIPE_API_HOST=fake.base, STRIPE_TEST_SECRET_KEY=DJSTRIPE_KEY, PYTHONUNBUFFERED="1",
               HTTP_MAX_CONCURRENT_REQUESTS=server_env(database_url).get("HTTP_MAX_CONCURRENT_REQUESTS", "32"))
    return env


def phase(database_url: str, mode: Mode, plan: dict, run_id: str, keep_db: bool) -> dict:
    if urlparse(database_url).scheme.startswith("sqlite"):
        return {"skipped": "PostgreSQL only (dj-stripe's database beside ours on the same server)"}
    python, why = venv.ensure(log)
    if python is None:
        log(f"dj-stripe: skipped: {why}")
        return {"skipped": f"dj-stripe: {why}"}
    theirs_url = database_url + "_djstripe"
    payments = plan["peer"]
    created = plan["peer_created"]
    result: dict = {"loadavg_before": loadavg(), "payments_planned": len(payments)}
    fakes: list[FakeStripe] = []
    servers: list[Server] = []
    try:
        fake_ours, fake_theirs = FakeStripe("ours", payments, created), FakeStripe("djstripe", payments, created)
        fakes += [fake_ours, fake_theirs]
        recreate_database(theirs_url)
        spec = OUT / f"spec-djstripe-prepare-{os.getpid()}.json"
        spec.write_text(json.dumps({"webhook_secret": WEBHOOK_SECRET, "created": created}))
        started = time.monotonic()
        done = subprocess.run([str(python), "-m", "bench.djstripe.prepare", str(spec)], cwd=ROOT, capture_output=True,
                              text=True, timeout=600, env=djstripe_env(theirs_url, fake_theirs))
        spec.unlink(missing_ok=True)
        if done.returncode != 0:
            raise RuntimeError(f"dj-stripe's database could not be prepared:\n{done.stderr[-3000:]}")
        prepared = json.loads(done.stdout.strip().splitlines()[-1])
        log(f"dj-stripe: database {urlparse(theirs_url).path.lstrip('/')} migrated and prepared in "
            f"{time.monotonic() - started:.1f}s ({fake_theirs.stats()['calls']} fake Stripe calls)")
        result["prepare_stripe_calls"] = fake_theirs.stats()["by_route"]

        ours = Server("peer-ours", {**server_env(database_url), "STRIPE_API_BASE": fake_ours.base})
        servers.append(ours)
        theirs = Server("peer-djstripe", djstripe_env(theirs_url, fake_theirs), python=str(python),
                        app="bench.djstripe.asgi:application")
        servers.append(theirs)
        log(f"dj-stripe: ours on {ours.port} (pid {ours.pid}), dj-stripe on {theirs.port} (pid {theirs.pid})")
        sides = {"ours": (ours, fake_ours, "/api/payments/webhook/"), "djstripe": (theirs, fake_theirs, prepared["webhook_path"])}
        common = {"duration": mode.duration / mode.rounds + mode.warmup, "warmup": mode.warmup,
                  "concurrency": mode.concurrency}

        def run(side: str, figure: str, kind: str, path: str | None = None) -> dict:
            server, fake, webhook = sides[side]
            return {**common, "name": f"{side}_{figure}", "stream": side, "kind": kind, "path": path or webhook,
                    "port": server.port, "server_pid": server.pid, "stripe_stats_url": f"{fake.base}/__bench/stats"}

        runs = [r for _ in range(mode.rounds) for side in sides
                for r in (run(side, "bare", "webhook_bare", "/bench/bare/"), run(side, "new", "webhook_new"))]
        runs += [run(side, "duplicate", "webhook_redeliver") for _ in range(mode.rounds) for side in sides]
        load = run_load({"phase": "http", "host": "127.0.0.1", "webhook_secret": WEBHOOK_SECRET, "run_id": run_id,
                         "events": "payment", "created": created, "payments": payments, "runs": runs},
                        mode.phase_timeout * 2)
        result.update({r["name"]: r for r in load["runs"]})
        result["fake_stripe"] = {"ours": fake_ours.stats(), "djstripe": fake_theirs.stats()}
        result["server_stats"] = ours.stats()
        result["versions"] = {"dj-stripe": _version(python, "dj-stripe"), "stripe": _version(python, "stripe"),
                              "django": _version(python, "django")}
        result["webhook_path"] = prepared["webhook_path"]
    finally:
        for server in servers:
            server.stop()
        for fake in fakes:
            fake.stop()
        if not keep_db:
            try:
                drop_database(theirs_url)
            except Exception as exc:
                log(f"could not drop dj-stripe's database: {exc}")
    result["loadavg_after"] = loadavg()
    return result


def _version(python: Path, package: str) -> str:
    done = subprocess.run([str(python), "-c", f"from importlib.metadata import version; print(version({package!r}))"],
                          capture_output=True, text=True, timeout=60)
    return done.stdout.strip() or "?"


def _ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def figures(results: dict, rows: list[dict], row) -> None:
    """Rows "7. Against dj-stripe": ours as the value, dj-stripe's (same run) as
    the baseline, each with the phase's load average (and the reason when skipped)."""
    peer = results.get("djstripe")
    if not peer:
        return
    load = f"{peer.get('loadavg_before', '?')} -> {peer.get('loadavg_after', '?')}"

    def add(label, key, figure, *, goal=None, limit=None, unit=""):
        ours, theirs = (peer.get(f"ours_{figure}") or {}).get(key), (peer.get(f"djstripe_{figure}") or {}).get(key)
        ratio = _ratio(ours, theirs)
        row(f"7. Against dj-stripe: {label}", ours, theirs, goal=goal,
            met=None if limit is None or ratio is None else ratio <= limit, unit=unit)
        rows[-1]["load"] = None if peer.get("skipped") else load
        if peer.get("skipped"):
            rows[-1]["skipped"] = peer["skipped"]

    add("SQL per new event (mean)", "queries_mean", "new", goal="ratio <= 0.25", limit=0.25)
    add("server CPU per new event", "server_cpu_ms_per_request", "new", goal="ratio <= 0.40", limit=0.40, unit="ms")
    add("server CPU per duplicate", "server_cpu_ms_per_request", "duplicate", goal="ratio <= 0.40", limit=0.40, unit="ms")
    add("SQL per new event (max)", "queries_max", "new")
    add("SQL per duplicate (mean)", "queries_mean", "duplicate")
    add("Stripe calls per new event (the fakes')", "fake_stripe_calls_per_request", "new")
    add("Stripe calls per duplicate (the fakes')", "fake_stripe_calls_per_request", "duplicate")
    add("server CPU per bare request (each one's /bench/bare/)", "server_cpu_ms_per_request", "bare", unit="ms")
    add("new events/s", "rps", "new", unit="/s")
    add("duplicates/s", "rps", "duplicate", unit="/s")
    add("new event p50 latency", "p50_ms", "new", unit="ms")


def problems(results: dict) -> list[str]:
    peer = results.get("djstripe") or {}
    found = []
    for name, run in peer.items():
        if isinstance(run, dict) and "error_count" in run:
            if run["error_count"]:
                found.append(f"djstripe/{name}: {run['error_count']} errors, e.g. {run['errors'][:2]}")
            if set(run["statuses"]) - {"200"}:
                found.append(f"djstripe/{name}: statuses {run['statuses']}")
    expected = {"ours_new": {"processed", "ignored"}, "ours_duplicate": {"duplicate"},
                "djstripe_new": {"accepted"}, "djstripe_duplicate": {"accepted"}}
    for name, allowed in expected.items():
        outcomes = (peer.get(name) or {}).get("outcomes")
        if outcomes is not None and set(outcomes) - allowed:
            found.append(f"djstripe/{name}: outcomes {outcomes}")
    for side, stats in (peer.get("fake_stripe") or {}).items():
        if stats.get("unknown"):
            found.append(f"djstripe: the fake Stripe of {side} was asked what it does not know: {stats['unknown'][:3]}")
    return found
