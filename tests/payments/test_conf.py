"""The settings accessor: every setting of ours has a default, is read when asked
for (so override_settings works), and a missing required one or one of the
wrong type is an ImproperlyConfigured naming it; nothing else in payments/ or
schema/ reads our settings from django.conf.settings."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from payments.conf import DEVELOPMENT_WEBHOOK_SECRET, SETTINGS, get_config

ROOT = Path(__file__).resolve().parents[2]

# The defaults a host project gets (the README's configuration table).
DEFAULTS = {
    "secret_key": "",
    "publishable_key": "pk_test_emulator",
    "webhook_secret": DEVELOPMENT_WEBHOOK_SECRET,
    "api_version": "2026-10-28.endive",
    "max_network_retries": 2,
    "api_base": "",
    "http_client": "stripe_emulator.inprocess.HTTPClient",
    "emulator_db": "var/stripe-emulator.sqlite3",
    "emulator_webhook_url": "http://127.0.0.1:8000/api/payments/webhook/",
    "enabled": True,
    "customer_refunds": False,
    "default_currency": "eur",
    "webhook_max_bytes": 524288,
    "redirect_origins": ("http://localhost:3000", "http://localhost:5173", "http://127.0.0.1:8000",
                         "http://localhost:8000"),
    "notify_emails": (),
    "notify_phones": (),
    "twilio_account_sid": "",
    "twilio_auth_token": "",
    "twilio_from_number": "",
    "notify_timeout": 10,
    "development_secret_key": "",
    "development_webhook_secret": DEVELOPMENT_WEBHOOK_SECRET,
    "graphql_max_depth": 10,
    "graphql_max_tokens": 2000,
    "graphql_max_aliases": 15,
    "graphql_max_selections": 1000,
    "graphql_max_subscriptions_per_connection": 20,
    "graphql_connection_init_timeout": 5,
    "graphql_session_check_seconds": 2,
    "login_cooloff_seconds": 900,
}


@pytest.fixture
def bare(settings):
    """A host project that sets none of our settings (nor CORS origins)."""
    for setting in SETTINGS.values():
        if hasattr(settings, setting.name):
            delattr(settings, setting.name)
    if hasattr(settings, "CORS_ALLOWED_ORIGINS"):
        del settings.CORS_ALLOWED_ORIGINS
    return settings


def test_every_setting_has_its_documented_default(bare):
    config = get_config()
    assert set(DEFAULTS) == set(SETTINGS)
    assert {attr: getattr(config, attr) for attr in SETTINGS} == DEFAULTS
    assert (config.uses_emulator, config.livemode, config.sms_configured) == (True, False, False)
    assert config.problems() == []


def test_defaults_that_follow_the_secret_key(bare):
    bare.STRIPE_SECRET_KEY = "sk_live_123"
    bare.STRIPE_WEBHOOK_SECRET = "whsec_real"
    config = get_config()
    assert (config.publishable_key, config.http_client, config.livemode) == ("", "", True)
    bare.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    assert config.redirect_origins[-1] == "https://app.example.com"


def test_a_missing_required_setting_names_itself(bare):
    """With a real key there is no webhook secret to fall back on."""
    bare.STRIPE_SECRET_KEY = "sk_test_123"
    with pytest.raises(ImproperlyConfigured, match="STRIPE_WEBHOOK_SECRET setting is required"):
        get_config().webhook_secret
    (problem,) = get_config().problems()
    assert "STRIPE_WEBHOOK_SECRET" in problem


@pytest.mark.parametrize(
    ("name", "attr", "value"),
    [
        ("STRIPE_MAX_NETWORK_RETRIES", "max_network_retries", "2"),
        ("PAYMENTS_ENABLED", "enabled", "false"),
        ("GRAPHQL_MAX_DEPTH", "graphql_max_depth", True),  # a bool is not an integer here
        ("NOTIFY_TIMEOUT_SECONDS", "notify_timeout", "10"),
        ("ADMIN_NOTIFY_EMAILS", "notify_emails", "ops@example.com"),  # a string, not a list of them
        ("PAYMENTS_REDIRECT_ORIGINS", "redirect_origins", ["https://ok.example", 8000]),
        ("STRIPE_SECRET_KEY", "secret_key", None),
    ],
)
def test_a_setting_of_the_wrong_type_names_itself(settings, name, attr, value):
    setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured, match=rf"The {name} setting must be "):
        getattr(get_config(), attr)


def test_the_system_check_reports_an_unreadable_setting(settings):
    settings.PAYMENTS_WEBHOOK_MAX_BYTES = "512kB"
    with pytest.raises(SystemCheckError, match=r"payments\.E004.*PAYMENTS_WEBHOOK_MAX_BYTES"):
        call_command("check")


def test_override_settings_takes_effect_at_once(settings):
    config = get_config()
    settings.PAYMENTS_WEBHOOK_MAX_BYTES = 1000
    assert config.webhook_max_bytes == 1000
    with override_settings(PAYMENTS_WEBHOOK_MAX_BYTES=50, PAYMENTS_ENABLED=False):
        assert (config.webhook_max_bytes, config.enabled) == (50, False)
    assert (config.webhook_max_bytes, config.enabled) == (1000, True)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no payments setting 'secret'"):
        get_config().secret


def _settings_reads(path: Path) -> set[str]:
    """The upper-case names a module reads from django.conf.settings (``settings.X``
    or ``getattr(settings, "X")``), whatever it calls settings on import."""
    tree = ast.parse(path.read_text())
    aliases = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "django.conf"
        for alias in node.names
        if alias.name == "settings"
    }
    read = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            read.add(node.attr)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"getattr", "hasattr"}
              and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in aliases
              and len(node.args) > 1 and isinstance(node.args[1], ast.Constant)):
            read.add(node.args[1].value)
    return {name for name in read if name.isupper()}


def test_the_reader_finds_direct_reads(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from django.conf import settings as s\nx = s.STRIPE_API_BASE\ny = getattr(s, 'PAYMENTS_ENABLED', 1)\n")
    assert _settings_reads(module) == {"STRIPE_API_BASE", "PAYMENTS_ENABLED"}


def test_payments_and_schema_read_only_djangos_own_settings_directly():
    """Ours go through payments.conf; what is read directly is one of Django's."""
    django_names = {name for name in dir(global_settings) if name.isupper()}
    ours = {setting.name for setting in SETTINGS.values()}
    direct = {}
    for package in ("payments", "schema"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts or path == ROOT / "payments" / "conf.py":
                continue
            names = _settings_reads(path)
            if names - django_names or names & ours:
                direct[str(path.relative_to(ROOT))] = sorted(names - django_names)
    assert direct == {}
