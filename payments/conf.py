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
    api_base: str
    http_client: str
    enabled: bool
    customer_refunds: bool
    default_currency: str
    webhook_max_bytes: int
    emulator_db: str
    emulator_webhook_url: str
    redirect_origins: tuple[str, ...]
    notify_emails: tuple[str, ...]
    notify_phones: tuple[str, ...]
    twilio_account_sid: str
    twilio_auth_token: str
    twilio_from_number: str
    notify_timeout: float

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


def get_config() -> PaymentsConfig:
    return PaymentsConfig(
        secret_key=settings.STRIPE_SECRET_KEY,
        publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
        webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
        api_version=settings.STRIPE_API_VERSION,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        api_base=settings.STRIPE_API_BASE,
        http_client=settings.STRIPE_HTTP_CLIENT,
        enabled=settings.PAYMENTS_ENABLED,
        customer_refunds=settings.PAYMENTS_CUSTOMER_REFUNDS,
        default_currency=settings.DEFAULT_CURRENCY,
        webhook_max_bytes=settings.PAYMENTS_WEBHOOK_MAX_BYTES,
        emulator_db=settings.STRIPE_EMULATOR_DB,
        emulator_webhook_url=settings.STRIPE_EMULATOR_WEBHOOK_URL,
        redirect_origins=tuple(settings.PAYMENTS_REDIRECT_ORIGINS),
        notify_emails=tuple(settings.ADMIN_NOTIFY_EMAILS),
        notify_phones=tuple(settings.ADMIN_NOTIFY_PHONES),
        twilio_account_sid=settings.TWILIO_ACCOUNT_SID,
        twilio_auth_token=settings.TWILIO_AUTH_TOKEN,
        twilio_from_number=settings.TWILIO_FROM_NUMBER,
        notify_timeout=settings.NOTIFY_TIMEOUT_SECONDS,
    )


def payments_enabled() -> bool:
    """For host apps: are payments on (PAYMENTS_ENABLED)? When off, no Stripe call is made."""
    return get_config().enabled
