"""Where we send a customer back to from Stripe's pages (Checkout's success and
cancel URLs, the billing portal's return URL): only our own front ends."""

from __future__ import annotations

from urllib.parse import urlsplit

from payments.conf import get_config
from payments.errors import InvalidInput


def check_redirect(url: str, field: str) -> None:
    """INVALID_INPUT unless ``url`` is http(s) on one of PAYMENTS_REDIRECT_ORIGINS: no
    open redirects (another origin, ``javascript:``, a protocol-relative ``//host``)."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if parts.scheme not in ("http", "https") or origin not in get_config().redirect_origins:
        raise InvalidInput(f"{field} must be on an allowed origin.", field=field)
