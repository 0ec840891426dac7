"""The benchmark's smoke mode runs, so that ``make bench`` cannot rot: real
Daphne processes driven by the load process, every figure produced. The
figures' values are never asserted (a shared CI machine makes them noise);
only that the run was clean (no HTTP error, no lost push, no Stripe call but
the push's one charge read each, from a fake Stripe on loopback; the same data
from the GraphQL query and its baseline) and that each figure exists.

On the suite's database engine: SQLite (a file of its own) without
DATABASE_URL, else a PostgreSQL database of its own (``payments_bench_smoke``)
on the same server; the two-process push only with REDIS_URL (on another
Redis database number)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def _database_url(tmp_path: Path) -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{tmp_path / 'bench-smoke.sqlite3'}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/payments_bench_smoke"


def _redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    return urlunparse(urlparse(url)._replace(path="/14")) if url else "none"


def test_the_smoke_run_produces_every_figure(tmp_path):
    out = tmp_path / "smoke.json"
    redis = _redis_url()
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--database-url", _database_url(tmp_path),
         "--redis-url", redis, "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    results = json.loads(out.read_text())
    figures = {row["figure"]: row for row in results["figures"]}
    expected = [
        "1. Webhook ingest: events/s", "1. Webhook ingest: p50 latency", "1. Webhook ingest: p99 latency",
        "2. Duplicates: events/s", "2. Duplicates: p50 latency", "2. Duplicates: p99 latency",
        "2. SQL per new event (max)", "2. SQL per duplicate (max)",
        "4. GraphQL tiers: requests/s", "4. GraphQL tiers: p50 latency", "4. GraphQL tiers: p99 latency",
    ]
    for name in expected:
        assert isinstance(figures[name]["value"], (int, float)), name
        if name.endswith(("/s", "latency")):
            assert isinstance(figures[name]["baseline"], (int, float)), name
    prefixes = ["3. Push p50, one process", "3. Push p99, one process", "5. Memory per idle subscription"]
    if redis != "none":
        prefixes += ["3. Push p99, two processes via Redis", "3. Push p50, two processes via Redis"]
    for prefix in prefixes:
        (row,) = [row for name, row in figures.items() if name.startswith(prefix)]
        assert isinstance(row["value"], (int, float)), prefix
    # dj-stripe is left out of the smoke run, with its reason printed (docs/benchmarks.md, "Against dj-stripe").
    assert results["djstripe"]["skipped"] and "against dj-stripe skipped" in done.stdout
    assert results["problems"] == []
    assert "figure" in done.stdout and "ratio" in done.stdout  # the table was printed
