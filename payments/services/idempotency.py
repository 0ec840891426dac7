"""What an idempotency key was first used for.

Each money mutation stores, beside the client's key, a fingerprint of the
request it came with; the same key with other input is IDEMPOTENCY_CONFLICT.
The fingerprint is a SHA-256 of the canonical input, so it fits its
255-character column whatever the input's length (descriptions, URLs)."""

from __future__ import annotations

import hashlib
import json

from payments.errors import InvalidInput


def request_fingerprint(operation: str, **fields: object) -> str:
    canonical = json.dumps([operation, fields], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_idempotency_key(key: str | None) -> None:
    """1 to 255 characters, or none at all."""
    if key is not None and not (0 < len(key) <= 255):
        raise InvalidInput("idempotencyKey must be 1 to 255 characters.", field="idempotencyKey")
