"""The product's ASGI application on bench.settings (the baseline views and
the counters added), in a process allowed as many open files as the system
lets it (5,000 WebSockets)."""

import os
import resource

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if _soft != _hard:
    resource.setrlimit(resource.RLIMIT_NOFILE, (_hard, _hard))

from config.asgi import application  # noqa: E402,F401

from bench.instrument import count_stripe_calls  # noqa: E402

count_stripe_calls()
