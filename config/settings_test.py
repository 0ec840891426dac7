"""The test settings: the project's settings plus a second payable app that
exists only for the tests (tests/bookings)."""

from config.settings import *  # noqa: F401,F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.bookings"]
