"""Benchmarks (``make bench``, ``make bench-smoke``; docs/benchmarks.md).

- ``bench.run``: the runner. Creates the bench database, seeds it, starts the
  real server (Daphne on ``bench.asgi``) as separate processes, drives them
  with ``bench.load`` (another process, loopback only), prints the table.
- ``bench.load``: the load generator (asyncio, raw HTTP/1.1 and ``websockets``).
- ``bench.settings`` / ``bench.urls`` / ``bench.views``: the product's settings
  and URLs plus the baseline views, which exist only here.
- ``bench.instrument``: SQL statements (and Stripe calls) counted per request,
  answered in response headers; bench only.
- ``bench.peer``: the "Against dj-stripe" phase (``--only djstripe``): dj-stripe
  2.11 (``bench.djstripe``, its own virtualenv) and ours, the same signed
  payment events (``bench.objects``) to both, their Stripe calls answered by
  fakes on loopback (``bench.fake_stripe``).
"""
