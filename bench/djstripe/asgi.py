"""dj-stripe's project on the same HTTP stack as ours (config/concurrency.py):
Django's ASGI handler with its middleware and view in one hop, each request on
one of HTTP_MAX_CONCURRENT_REQUESTS worker threads that keep their connections."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.djstripe.settings")

import django  # noqa: E402

django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402

from config.concurrency import OneHopASGIHandler, RequestWorkers  # noqa: E402

application = RequestWorkers(OneHopASGIHandler(), settings.HTTP_MAX_CONCURRENT_REQUESTS)
