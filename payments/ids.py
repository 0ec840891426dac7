"""Reading ids that clients and Stripe metadata send: ASCII only, bounded.

``str.isdigit`` accepts "²" and "٣" (and ``int`` turns "٣" into 3), and a
20-digit id overflows PostgreSQL's bigint: both reached the database as a
500. Every integer id from outside goes through ``int_id``."""

from __future__ import annotations

import re
import uuid

_INT_ID = re.compile(r"[0-9]{1,18}")  # below 2**63: fits a bigint


def int_id(value) -> int | None:
    """``value`` as a positive database id, or None when it cannot be one."""
    text = value if isinstance(value, str) else str(value) if isinstance(value, int) else ""
    return int(text) if _INT_ID.fullmatch(text) and int(text) > 0 else None


def uuid_id(value) -> uuid.UUID | None:
    """``value`` as a UUID (ASCII hex, any of the usual spellings), or None."""
    text = str(value)
    if not text.isascii():
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
