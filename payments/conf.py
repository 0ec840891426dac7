"""The payments app's view of the project's settings (read in config/settings.py).

Everything in ``payments`` asks this module, never ``os.environ`` and never
``django.conf.settings`` directly, so that a host project sees in one place
what the app needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class PaymentsConfig:
    secret_key: str
    publishable_key: str
    webhook_secret: str
    api_version: str
    max_network_retries: int
    enabled: bool
    customer_refunds: bool
    default_currency: str
    webhook_max_bytes: int
    emulator_db: str
    emulator_webhook_url: str

    @property
    def uses_emulator(self) -> bool:
        """No secret key: the built-in Stripe emulator answers."""
        return not self.secret_key

    @property
    def livemode(self) -> bool:
        return self.secret_key.startswith(("sk_live_", "rk_live_"))


def get_config() -> PaymentsConfig:
    return PaymentsConfig(
        secret_key=settings.STRIPE_SECRET_KEY,
        publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
        webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
        api_version=settings.STRIPE_API_VERSION,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        enabled=settings.PAYMENTS_ENABLED,
        customer_refunds=settings.PAYMENTS_CUSTOMER_REFUNDS,
        default_currency=settings.DEFAULT_CURRENCY,
        webhook_max_bytes=settings.PAYMENTS_WEBHOOK_MAX_BYTES,
        emulator_db=settings.STRIPE_EMULATOR_DB,
        emulator_webhook_url=settings.STRIPE_EMULATOR_WEBHOOK_URL,
    )
