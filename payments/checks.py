"""System checks: refuse a production start (DEBUG off) on development defaults."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from payments.conf import get_config


@checks.register()
def production_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.DEBUG:
        return []
    config = get_config()
    errors = []
    if settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
        errors.append(checks.Error("DEBUG is off but SECRET_KEY is the development key.", hint="Set SECRET_KEY.", id="payments.E001"))
    if not config.webhook_secret or config.webhook_secret == settings.DEVELOPMENT_WEBHOOK_SECRET:
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
