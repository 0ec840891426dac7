"""Project settings: the ONE place that reads the environment.

Every variable has an embedded default so that a fresh checkout runs with no
configuration at all: SQLite, the in-memory channel layer and the built-in
Stripe emulator. The README's configuration table lists each variable; a
system check (payments.checks) refuses a production start (DEBUG off) with
the development defaults.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state of a development checkout (emulator, test database); git-ignored.
(BASE_DIR / "var").mkdir(exist_ok=True)

# Development-only secrets. payments.checks refuses them when DEBUG is off.
DEVELOPMENT_SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"
DEVELOPMENT_WEBHOOK_SECRET = "whsec_development_emulator_secret"


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be a boolean (true/false), got {raw!r}")


def _env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


# ---------------------------------------------------------------- core

SECRET_KEY = _env_str("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
DEBUG = _env_bool("DEBUG", True)
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
# The port this server is reached on (`make run PORT=8100`): the emulator's
# webhook URL and the Checkout redirect origins follow it unless set.
PORT = int(_env_str("PORT", "8000"))

# A front end on another origin (a Vite dev server, app.example.com): CORS with
# credentials for /graphql/ (django-cors-headers), and the same origins are
# trusted for cookie-authenticated POSTs (CSRF) and WebSocket handshakes.
CORS_ALLOWED_ORIGINS = _env_list("CORS_ALLOWED_ORIGINS", [])
CORS_ALLOW_CREDENTIALS = True
CORS_URLS_REGEX = r"^/graphql/?$"
CSRF_TRUSTED_ORIGINS = list(dict.fromkeys(_env_list("CSRF_TRUSTED_ORIGINS", []) + CORS_ALLOWED_ORIGINS))


def _env_samesite(name: str) -> str:
    value = _env_str(name, "Lax")
    if value not in {"Lax", "Strict", "None"}:
        raise ValueError(f"{name} must be Lax, Strict or None, got {value!r}")
    return value


# "None" (with HTTPS) for a front end on another *site*; Lax suits the same site.
SESSION_COOKIE_SAMESITE = _env_samesite("SESSION_COOKIE_SAMESITE")
CSRF_COOKIE_SAMESITE = _env_samesite("CSRF_COOKIE_SAMESITE")
# A CSRF refusal at /graphql/ is a JSON GraphQL error (CSRF_FAILED), Django's page elsewhere.
CSRF_FAILURE_VIEW = "schema.csrf.csrf_failure"

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "strawberry_django",
    "axes",
    "payments",
    "events",
    "schema",
]

MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",  # first: answers preflights before anything refuses them
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a lockout of the admin login into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# ------------------------------------------------------------ database

DATABASE_URL = _env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
# Seconds a worker thread keeps its connection between requests (0: a new one
# per request). The HTTP worker threads live as long as the process
# (config/concurrency.py), so their connections are a bounded pool; health
# checks replace one the database dropped.
DATABASE_CONN_MAX_AGE = int(_env_str("DATABASE_CONN_MAX_AGE", "60"))
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=DATABASE_CONN_MAX_AGE, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads (Daphne's sync workers) and a second terminal share the
    # file: wait for the write lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # A file (not :memory:) so that the server processes the live-update
    # tests start can read what a test wrote; one per test run.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-db-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# HTTP worker threads per server process (config/concurrency.py): at most this
# many requests inside Django at once, each worker with its own database
# connection; the rest wait in the event loop. processes x this must stay under
# the database's max_connections (PostgreSQL: 100).
HTTP_MAX_CONCURRENT_REQUESTS = int(_env_str("HTTP_MAX_CONCURRENT_REQUESTS", "32"))

# ------------------------------------------------------- channel layer

REDIS_URL = _env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# -------------------------------------------------------------- stripe

STRIPE_SECRET_KEY = _env_str("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = _env_str(
    "STRIPE_PUBLISHABLE_KEY", "" if STRIPE_SECRET_KEY else "pk_test_emulator"
)
# With no secret key the built-in emulator answers, and signs its webhooks
# with the development secret unless one is given.
STRIPE_WEBHOOK_SECRET = _env_str(
    "STRIPE_WEBHOOK_SECRET", "" if STRIPE_SECRET_KEY else DEVELOPMENT_WEBHOOK_SECRET
)
STRIPE_API_VERSION = _env_str("STRIPE_API_VERSION", "2026-10-28.endive")
STRIPE_MAX_NETWORK_RETRIES = int(_env_str("STRIPE_MAX_NETWORK_RETRIES", "2"))
STRIPE_EMULATOR_DB = _env_str(
    "STRIPE_EMULATOR_DB", str(BASE_DIR / "var" / "stripe-emulator.sqlite3")
)
STRIPE_EMULATOR_WEBHOOK_URL = _env_str(
    "STRIPE_EMULATOR_WEBHOOK_URL", f"http://127.0.0.1:{PORT}/api/payments/webhook/"
)
# Where a browser reaches the emulator's pages (3-D Secure, hosted Checkout), put
# into the URLs of the objects it makes; the dev server mounts them at /_emulator.
STRIPE_EMULATOR_PUBLIC_URL = _env_str("STRIPE_EMULATOR_PUBLIC_URL", f"http://127.0.0.1:{PORT}/_emulator").rstrip("/")
# Another Stripe's base URL (empty: api.stripe.com): the emulator as its own
# process (`python -m stripe_emulator`, http://127.0.0.1:12111), stripe-mock, localstripe.
STRIPE_API_BASE = _env_str("STRIPE_API_BASE").rstrip("/")
# The stripe.HTTPClient class the gateway sends through (empty: the library's
# own, over the network). With no secret key and no STRIPE_API_BASE, the
# emulator inside this process answers.
STRIPE_HTTP_CLIENT = _env_str(
    "STRIPE_HTTP_CLIENT", "" if STRIPE_SECRET_KEY or STRIPE_API_BASE else "stripe_emulator.inprocess.HTTPClient"
)
# The in-process emulator delivers the events of our own calls (a refund, a
# cancel) to STRIPE_EMULATOR_WEBHOOK_URL soon after each call, as Stripe does;
# the tests turn it off and deliver explicitly.
STRIPE_EMULATOR_AUTO_DELIVER = _env_bool("STRIPE_EMULATOR_AUTO_DELIVER", True)

PAYMENTS_ENABLED = _env_bool("PAYMENTS_ENABLED", True)
# Owners may refund their own payments (staff with payments.add_refund always may).
PAYMENTS_CUSTOMER_REFUNDS = _env_bool("PAYMENTS_CUSTOMER_REFUNDS", False)
DEFAULT_CURRENCY = _env_str("DEFAULT_CURRENCY", "eur").lower()
# Webhook bodies larger than this are refused with 413 before parsing.
PAYMENTS_WEBHOOK_MAX_BYTES = int(_env_str("PAYMENTS_WEBHOOK_MAX_BYTES", str(512 * 1024)))

# Where createCheckoutSession may send the customer back (successUrl/cancelUrl
# must be on one of these origins: no open redirects).
PAYMENTS_REDIRECT_ORIGINS = _env_list(
    "PAYMENTS_REDIRECT_ORIGINS",
    ["http://localhost:3000", "http://localhost:5173", f"http://127.0.0.1:{PORT}", f"http://localhost:{PORT}",
     *CORS_ALLOWED_ORIGINS],
)

# ------------------------------------------------------ admin notifications

ADMIN_NOTIFY_EMAILS = _env_list("ADMIN_NOTIFY_EMAILS", [])
ADMIN_NOTIFY_PHONES = _env_list("ADMIN_NOTIFY_PHONES", [])
DEFAULT_FROM_EMAIL = _env_str("DEFAULT_FROM_EMAIL", "payments@localhost")
MAILGUN_API_KEY = _env_str("MAILGUN_API_KEY")
MAILGUN_SENDER_DOMAIN = _env_str("MAILGUN_SENDER_DOMAIN")
if MAILGUN_API_KEY and MAILGUN_SENDER_DOMAIN:
    EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    ANYMAIL = {"MAILGUN_API_KEY": MAILGUN_API_KEY, "MAILGUN_SENDER_DOMAIN": MAILGUN_SENDER_DOMAIN}
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Seconds a mail or SMS provider gets per message: they are called after the
# webhook's commit, in its request, so a hung provider must not hold it.
NOTIFY_TIMEOUT_SECONDS = float(_env_str("NOTIFY_TIMEOUT_SECONDS", "10"))
EMAIL_TIMEOUT = NOTIFY_TIMEOUT_SECONDS
TWILIO_ACCOUNT_SID = _env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = _env_str("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = _env_str("TWILIO_FROM_NUMBER")

# ------------------------------------------------------ login throttling

# django-axes counts failed logins (GraphQL `login` over HTTP and WebSocket, the
# admin) per username and per client address, each on its own: after
# LOGIN_FAILURE_LIMIT failures for a username (from any addresses) or from an
# address (for any usernames) within LOGIN_COOLOFF_SECONDS, every login of it is
# refused, the right password too, until those failures are older than that
# (failing again while locked out from the same address keeps them fresh). The
# GraphQL answer is an error with extensions.code RATE_LIMITED; the admin shows
# axes's 429 page. A successful login clears that username's and address's count.
LOGIN_FAILURE_LIMIT = int(_env_str("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_COOLOFF_SECONDS = int(_env_str("LOGIN_COOLOFF_SECONDS", "900"))
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_COOLOFF_SECONDS)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks
AXES_RESET_ON_SUCCESS = True

# ------------------------------------------------------ everything else

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": _env_str("LOG_LEVEL", "INFO")},
    "loggers": {"stripe": {"level": "WARNING"}},
}

if not DEBUG:
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = _env_bool("CSRF_COOKIE_SECURE", True)

# ---- GraphQL limits --------------------------------------------------------
# (and what `manage.py check --deploy` asks for when DEBUG is off). Read by
# schema/limits.py (query limits, the WebSocket consumer) and config/asgi.py.

# A query nested deeper than this, longer than this many tokens, or with more
# aliases than this is refused before it runs (introspection is not counted).
GRAPHQL_MAX_DEPTH = int(_env_str("GRAPHQL_MAX_DEPTH", "10"))
GRAPHQL_MAX_TOKENS = int(_env_str("GRAPHQL_MAX_TOKENS", "2000"))
GRAPHQL_MAX_ALIASES = int(_env_str("GRAPHQL_MAX_ALIASES", "15"))
# An operation selecting more fields than this, counted with every fragment
# spread expanded (a fragment spread twice counts twice), is refused before any
# other rule or resolver looks at it.
GRAPHQL_MAX_SELECTIONS = int(_env_str("GRAPHQL_MAX_SELECTIONS", "1000"))
# Concurrent operations (subscriptions) on one WebSocket; the next one gets an error.
GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION = int(_env_str("GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION", "20"))
# A WebSocket that sends no connection_init within this is closed (4408).
GRAPHQL_CONNECTION_INIT_TIMEOUT_SECONDS = float(_env_str("GRAPHQL_CONNECTION_INIT_TIMEOUT_SECONDS", "5"))
# Every this many seconds, open WebSockets are checked against their sessions:
# one whose viewer logged out, whose session expired or was flushed is closed (4401).
GRAPHQL_SESSION_CHECK_SECONDS = float(_env_str("GRAPHQL_SESSION_CHECK_SECONDS", "2"))

# Behind a TLS-terminating proxy, the header it sets to "https" (e.g.
# X-Forwarded-Proto); only set it when the proxy always overwrites that header.
_proxy_ssl_header = _env_str("SECURE_PROXY_SSL_HEADER")
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_").removeprefix("HTTP_"), "https")

if not DEBUG:
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SECURE_HSTS_SECONDS = int(_env_str("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    # Preloading commits the whole registrable domain to HTTPS in every browser:
    # the domain's owner opts in (true), else its warning (W021) is silenced.
    SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "security.W021"]
