"""The peer of the "Against dj-stripe" phase (docs/benchmarks.md): a minimal
Django project around dj-stripe 2.11's webhook view, run from a virtualenv of
its own (var/bench/djstripe-venv, ``bench.djstripe.venv``) with the versions of
requirements.txt beside this file. Nothing here imports the product
(payments, schema): only Django, dj-stripe, and, from this repository, the
bench's per-request counters (``bench.instrument``) and the same HTTP stack as
ours (``config.concurrency``: Django's ASGI handler in one hop per request on
HTTP_MAX_CONCURRENT_REQUESTS worker threads), so that the two servers differ
only in what the webhook does.

- ``settings`` / ``urls`` / ``asgi``: the project Daphne serves;
- ``prepare``: migrates its database and creates what a dj-stripe site has
  before the first event (the webhook endpoint with its secret, the customer);
- ``venv``: builds the virtualenv once (a stamp file), or says why it cannot.
"""
