"""dj-stripe's side of the comparison: a startproject-like Django project with
dj-stripe installed the way its documentation says, on a PostgreSQL database
of its own on the same server as ours. Read from the environment that
``bench.djstripe_phase`` sets: DATABASE_URL, SECRET_KEY, STRIPE_API_HOST (the
fake Stripe), HTTP_MAX_CONCURRENT_REQUESTS, DATABASE_CONN_MAX_AGE."""

import os
from urllib.parse import urlparse

_db = urlparse(os.environ["DATABASE_URL"])

SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = False  # as ours: the production path (and dj-stripe's DEBUG-only secret override is off)
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "djstripe",
]
# Django's startproject middleware (ours has the same seven, plus CORS and axes),
# after the bench's counters (first, so they see every statement).
MIDDLEWARE = [
    "bench.instrument.CountersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "bench.djstripe.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.contrib.auth.context_processors.auth",
                                                 "django.contrib.messages.context_processors.messages"]}}]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# As ours: persistent connections with health checks, one per worker thread.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db.path.lstrip("/"),
        "USER": _db.username or "postgres",
        "PASSWORD": _db.password or "",
        "HOST": _db.hostname or "127.0.0.1",
        "PORT": str(_db.port or 5432),
        "CONN_MAX_AGE": int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
    }
}
HTTP_MAX_CONCURRENT_REQUESTS = int(os.environ.get("HTTP_MAX_CONCURRENT_REQUESTS", "32"))

# dj-stripe, as its installation guide configures it, test mode.
STRIPE_LIVE_MODE = False
STRIPE_TEST_SECRET_KEY = os.environ["STRIPE_TEST_SECRET_KEY"]
STRIPE_API_HOST = os.environ["STRIPE_API_HOST"]  # dj-stripe sets stripe.api_base from it: the fake on loopback
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"  # the endpoint's secret, no re-fetch of the event
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_USE_NATIVE_JSONFIELD = True

# Django's default logging (warnings and errors to stderr, which bench.run keeps in a file).
