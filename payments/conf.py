"""The one reader of the project's own settings, for ``payments`` and ``schema``.

A host project sets what it needs in its Django settings (this project does it
from the environment, in config/settings.py); everything else has the default
written here. Each value is read from ``django.conf.settings`` when asked for,
never copied at import, so ``override_settings`` (pytest-django's ``settings``)
takes effect at once. A required setting that is missing, or one of the wrong
type, raises ImproperlyConfigured naming it, at its first use and in the
``payments.E004`` system check, instead of an AttributeError deep in a request
(as django-anymail's and allauth's app settings do).

Django's own settings (DEBUG, SECRET_KEY, SESSION_ENGINE, ...) are read from
``django.conf.settings`` as usual; these are ours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

# The webhook secret the development setup signs with (config/settings.py, the
# emulator): refused when DEBUG is off (payments.checks, E002).
DEVELOPMENT_WEBHOOK_SECRET = "whsec_development_emulator_secret"


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
_MISSING = object()


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_texts(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)


_KINDS: dict[str, Callable[[Any], bool]] = {
    "a string": _is_text,
    "an integer": _is_int,
    "a number": _is_number,
    "a boolean": _is_bool,
    "a list of strings": _is_texts,
}


@dataclass(frozen=True)
class Setting:
    """One of our settings: its Django name, the kind of value it takes, and its
    default (a value, REQUIRED, or a function of the other settings for a default
    that follows them)."""

    name: str
    kind: str
    default: Any
    doc: str

    def read(self, app: AppSettings) -> Any:
        value = getattr(django_settings, self.name, _MISSING)
        if value is _MISSING:
            value = self.default(app) if callable(self.default) else self.default
            if value is REQUIRED:
                raise ImproperlyConfigured(f"The {self.name} setting is required: {self.doc}")
        if not _KINDS[self.kind](value):
            raise ImproperlyConfigured(f"The {self.name} setting must be {self.kind}, not {value!r}.")
        return tuple(value) if self.kind == "a list of strings" else value


def _webhook_secret_default(app: AppSettings) -> Any:
    # With a real key there is no secret to guess: the endpoint's is required.
    return REQUIRED if app.secret_key else DEVELOPMENT_WEBHOOK_SECRET


def _http_client_default(app: AppSettings) -> str:
    # No key and no other Stripe: the emulator answers inside this process.
    return "" if app.secret_key or app.api_base else "stripe_emulator.inprocess.HTTPClient"


def _redirect_origins_default(app: AppSettings) -> list[str]:
    cors = getattr(django_settings, "CORS_ALLOWED_ORIGINS", [])
    return ["http://localhost:3000", "http://localhost:5173", "http://127.0.0.1:8000", "http://localhost:8000", *cors]


_S = Setting
SETTINGS: dict[str, Setting] = {
    # Stripe
    "secret_key": _S("STRIPE_SECRET_KEY", "a string", "", "sk_test_… / sk_live_…; empty: the built-in emulator."),
    "publishable_key": _S(
        "STRIPE_PUBLISHABLE_KEY", "a string", lambda app: "" if app.secret_key else "pk_test_emulator",
        "returned to clients for Stripe.js (pk_test_emulator with the emulator).",
    ),
    "webhook_secret": _S(
        "STRIPE_WEBHOOK_SECRET", "a string", _webhook_secret_default,
        "the webhook endpoint's signing secret (whsec_…), needed once STRIPE_SECRET_KEY is set.",
    ),
    "api_version": _S("STRIPE_API_VERSION", "a string", "2026-10-28.endive", "the pinned API version."),
    "max_network_retries": _S("STRIPE_MAX_NETWORK_RETRIES", "an integer", 2, "stripe's retries on network errors."),
    "api_base": _S("STRIPE_API_BASE", "a string", "", "another Stripe's base URL; empty: api.stripe.com."),
    "http_client": _S(
        "STRIPE_HTTP_CLIENT", "a string", _http_client_default,
        "the stripe.HTTPClient class (dotted path) the gateway sends through; empty: stripe's own.",
    ),
    "emulator_db": _S("STRIPE_EMULATOR_DB", "a string", "var/stripe-emulator.sqlite3", "the emulator's state file."),
    "emulator_webhook_url": _S(
        "STRIPE_EMULATOR_WEBHOOK_URL", "a string", "http://127.0.0.1:8000/api/payments/webhook/",
        "where the emulator delivers its webhooks.",
    ),
    # The payments app
    "enabled": _S("PAYMENTS_ENABLED", "a boolean", True, "False: no money mutation calls Stripe."),
    "customer_refunds": _S("PAYMENTS_CUSTOMER_REFUNDS", "a boolean", False, "owners may refund their payments."),
    "default_currency": _S("DEFAULT_CURRENCY", "a string", "eur", "lower-case ISO 4217 code."),
    "webhook_max_bytes": _S("PAYMENTS_WEBHOOK_MAX_BYTES", "an integer", 512 * 1024, "larger webhook bodies: 413."),
    "redirect_origins": _S(
        "PAYMENTS_REDIRECT_ORIGINS", "a list of strings", _redirect_origins_default,
        "origins createCheckoutSession may send the customer back to.",
    ),
    "notify_emails": _S("ADMIN_NOTIFY_EMAILS", "a list of strings", [], "addresses told of each sale."),
    "notify_phones": _S("ADMIN_NOTIFY_PHONES", "a list of strings", [], "E.164 numbers told by SMS."),
    "twilio_account_sid": _S("TWILIO_ACCOUNT_SID", "a string", "", "with the token and number: SMS by Twilio."),
    "twilio_auth_token": _S("TWILIO_AUTH_TOKEN", "a string", "", "Twilio's auth token."),
    "twilio_from_number": _S("TWILIO_FROM_NUMBER", "a string", "", "Twilio's sending number."),
    "notify_timeout": _S("NOTIFY_TIMEOUT_SECONDS", "a number", 10, "seconds a mail or SMS provider gets."),
    "development_secret_key": _S(
        "DEVELOPMENT_SECRET_KEY", "a string", "", "the development SECRET_KEY, refused when DEBUG is off (E001)."
    ),
    "development_webhook_secret": _S(
        "DEVELOPMENT_WEBHOOK_SECRET", "a string", DEVELOPMENT_WEBHOOK_SECRET,
        "the development webhook secret, refused when DEBUG is off (E002).",
    ),
    # The GraphQL API (schema/)
    "graphql_max_depth": _S("GRAPHQL_MAX_DEPTH", "an integer", 10, "deepest query nesting."),
    "graphql_max_tokens": _S("GRAPHQL_MAX_TOKENS", "an integer", 2000, "most tokens in a document."),
    "graphql_max_aliases": _S("GRAPHQL_MAX_ALIASES", "an integer", 15, "most aliases in a document."),
    "graphql_max_selections": _S("GRAPHQL_MAX_SELECTIONS", "an integer", 1000, "most fields an operation selects."),
    "graphql_max_subscriptions_per_connection": _S(
        "GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION", "an integer", 20, "concurrent operations on one WebSocket."
    ),
    "graphql_connection_init_timeout": _S(
        "GRAPHQL_CONNECTION_INIT_TIMEOUT_SECONDS", "a number", 5, "seconds a WebSocket gets to send connection_init."
    ),
    "graphql_session_check_seconds": _S(
        "GRAPHQL_SESSION_CHECK_SECONDS", "a number", 2, "how often open WebSockets are checked against their sessions."
    ),
    "login_cooloff_seconds": _S(
        "LOGIN_COOLOFF_SECONDS", "an integer", 900, "how long failed logins count (the retry hint of RATE_LIMITED)."
    ),
}


class AppSettings:
    """``get_config().secret_key`` and so on: each attribute is one of SETTINGS,
    read when asked for."""

    def __getattr__(self, attr: str) -> Any:
        setting = SETTINGS.get(attr)
        if setting is None:
            raise AttributeError(f"no payments setting {attr!r}")
        return setting.read(self)

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *SETTINGS]

    @property
    def sms_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from_number)

    @property
    def uses_emulator(self) -> bool:
        """No secret key: the built-in Stripe emulator answers."""
        return not self.secret_key

    @property
    def livemode(self) -> bool:
        return self.secret_key.startswith(("sk_live_", "rk_live_"))

    def problems(self) -> list[str]:
        """Every setting that cannot be read, each with the reason (the system check's list)."""
        found = []
        for attr in SETTINGS:
            try:
                getattr(self, attr)
            except ImproperlyConfigured as exc:
                found.append(str(exc))
        return found


_APP_SETTINGS = AppSettings()


def get_config() -> AppSettings:
    return _APP_SETTINGS


def payments_enabled() -> bool:
    """For host apps: are payments on (PAYMENTS_ENABLED)? When off, no Stripe call is made."""
    return get_config().enabled
