"""System checks: refuse a production start (DEBUG off) on development defaults,
and report our settings that cannot be read (missing, wrong type) at start
rather than in the first request that needs them."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from payments.conf import get_config


@checks.register()
def readable_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return [
        checks.Error(problem, hint="See the README's configuration table.", id="payments.E004")
        for problem in get_config().problems()
    ]


def _webhook_secret() -> str:
    try:
        return get_config().webhook_secret
    except ImproperlyConfigured:  # missing with a real key: E002 says it (E004 too)
        return ""


@checks.register()
def production_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.DEBUG:
        return []
    config = get_config()
    errors = []
    development_key = config.development_secret_key
    if development_key and settings.SECRET_KEY == development_key:
        errors.append(checks.Error("DEBUG is off but SECRET_KEY is the development key.", hint="Set SECRET_KEY.", id="payments.E001"))
    webhook_secret = _webhook_secret()
    if not webhook_secret or webhook_secret == config.development_webhook_secret:
        errors.append(
            checks.Error(
                "DEBUG is off but STRIPE_WEBHOOK_SECRET is not set: webhooks cannot be verified.",
                hint="Set STRIPE_WEBHOOK_SECRET to the endpoint's signing secret (whsec_...).",
                id="payments.E002",
            )
        )
    if config.uses_emulator:
        errors.append(
            checks.Error(
                "DEBUG is off but STRIPE_SECRET_KEY is not set: the Stripe emulator would take the payments.",
                hint="Set STRIPE_SECRET_KEY (and STRIPE_PUBLISHABLE_KEY).",
                id="payments.E003",
            )
        )
    return errors


def enforce_production_settings() -> None:
    """Called by the ASGI entry point: a server that would take money on development defaults does not start."""
    errors = production_settings()
    if errors:
        raise ImproperlyConfigured("; ".join(f"{e.id}: {e.msg}" for e in errors))
