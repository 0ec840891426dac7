"""The test settings: the project's settings plus a second payable app that
exists only for the tests (tests/bookings)."""

from config.settings import *  # noqa: F401,F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.bookings"]

# Many tests log in with a wrong password on purpose, all from 127.0.0.1: they
# must not lock each other out. Throttling stays on (every login goes through
# django-axes); tests/reliability/test_login_throttling.py sets its own limit.
AXES_FAILURE_LIMIT = 1000

# Deterministic webhooks: a test delivers the emulator's events when it says so
# (tests/conftest.py's `deliver`), never a background thread.
STRIPE_EMULATOR_AUTO_DELIVER = False
