"""The product's settings plus what only the benchmark needs: the baseline
views' URLconf and the per-request counters (SQL statements, Stripe calls).

Everything else (DEBUG, keys, database, channel layer, log level) comes from
the environment exactly as for the product; ``bench.run`` sets it."""

from config.settings import *  # noqa: F401,F403
from config.settings import MIDDLEWARE

ROOT_URLCONF = "bench.urls"
# First, so that it sees every statement of the request (it adds two response headers).
MIDDLEWARE = ["bench.instrument.CountersMiddleware", *MIDDLEWARE]
