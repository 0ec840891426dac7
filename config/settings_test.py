"""The test settings: the project's settings plus a second payable app that
exists only for the tests (tests/bookings)."""

from config.settings import *  # noqa: F401,F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.bookings"]

# Deterministic webhooks: a test delivers the emulator's events when it says so
# (tests/conftest.py's `deliver`), never a background thread.
STRIPE_EMULATOR_AUTO_DELIVER = False
