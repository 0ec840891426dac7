import pytest
from django.core.exceptions import ImproperlyConfigured

from payments.checks import enforce_production_settings, production_settings


def ids(settings_obj=None):
    return sorted(e.id for e in production_settings())


def test_debug_allows_development_defaults(settings):
    settings.DEBUG = True
    assert ids() == []


def test_production_refuses_every_development_default(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = settings.DEVELOPMENT_SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = ""
    settings.STRIPE_SECRET_KEY = ""
    assert ids() == ["payments.E001", "payments.E002", "payments.E003"]
    with pytest.raises(ImproperlyConfigured):
        enforce_production_settings()


def test_production_refuses_the_emulators_webhook_secret(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = "a-real-secret-key-of-some-length-0123456789"
    settings.STRIPE_SECRET_KEY = "sk_test_123"
    settings.STRIPE_WEBHOOK_SECRET = settings.DEVELOPMENT_WEBHOOK_SECRET
    assert ids() == ["payments.E002"]


def test_production_with_real_settings_starts(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = "a-real-secret-key-of-some-length-0123456789"
    settings.STRIPE_SECRET_KEY = "sk_test_123"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_real"
    assert ids() == []
    enforce_production_settings()


def test_manage_check_reports_it(settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.DEBUG = False
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(SystemCheckError, match="payments.E003"):
        call_command("check")
