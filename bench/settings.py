"""The product's settings plus what only the benchmark needs: the baseline
views' URLconf and the per-request counters (SQL statements, Stripe calls).

Everything else (DEBUG, keys, database, channel layer, log level) comes from
the environment exactly as for the product; ``bench.run`` sets it."""

import os

from config.settings import *  # noqa: F401,F403
from config.settings import DATABASES, MIDDLEWARE

ROOT_URLCONF = "bench.urls"
# First, so that it sees every statement of the request (it adds two response headers).
MIDDLEWARE = ["bench.instrument.CountersMiddleware", *MIDDLEWARE]

# What-if (``python -m bench --what-if db-pool``, docs/benchmarks.md): Django's
# own connection pool (psycopg 3 only), which the product does not configure.
if os.environ.get("BENCH_DB_POOL"):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 2, "max_size": 16}
