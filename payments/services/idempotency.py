"""Idempotency of the money mutations, written once.

A client's idempotency key names one attempt (a Payment, a Subscription, a
Refund, a subscription Checkout page) in a *scope*: the model that stores the
attempts of a family of mutations and the lookup from it to the user whose
keys they are. Beside the key each attempt stores a fingerprint of the request
it came with: the same key with the same input replays the first attempt, with
other input it is IDEMPOTENCY_CONFLICT. The fingerprint is a SHA-256 of the
canonical input, so it fits its column whatever the input's length.

The service asks twice: once before any work (a replay costs no lock), and
again inside its transaction, under the row lock that serialises the user's
attempts, just before it creates one. The unique (owner, key) constraint of
each scope's model is the last word: an insert that loses a race to another
transaction with the same key replays the winner (``IdempotentRequest.create``).

Stripe gets its own idempotency keys, derived from our rows' ids (never from
the client's key, which is only unique per user): ``stripe_key``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, models, transaction

from payments.errors import IdempotencyConflict, InvalidInput

CONFLICT = "This idempotencyKey was already used with different input."


def request_fingerprint(operation: str, **fields: object) -> str:
    canonical = json.dumps([operation, fields], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_idempotency_key(key: str | None) -> None:
    """1 to 255 characters, or none at all."""
    if key is not None and not (0 < len(key) <= 255):
        raise InvalidInput("idempotencyKey must be 1 to 255 characters.", field="idempotencyKey")


@dataclass(frozen=True)
class Scope:
    """Where a family of mutations keeps its attempts: ``model`` has the fields
    ``idempotency_key`` and ``request_fingerprint`` and a unique constraint on
    (owner, key); ``owner`` is the lookup from it to the user (``"user"``,
    ``"requested_by"``, ``"customer__user"``)."""

    model: type[models.Model]
    owner: str


@dataclass(frozen=True)
class IdempotentRequest:
    """One request of a money mutation: its scope, whose it is, its key (or
    None: every request is a new attempt) and the fingerprint of its input."""

    scope: Scope
    user: Any
    key: str | None
    fingerprint: str

    def earlier(self) -> models.Model | None:
        """The attempt this key made already, if any (IDEMPOTENCY_CONFLICT when
        it came with other input). Inside the caller's transaction, after its
        row lock: the attempt a concurrent request just committed is seen."""
        if self.key is None:
            return None
        attempt = self.scope.model._default_manager.filter(
            **{self.scope.owner: self.user, "idempotency_key": self.key}
        ).first()
        return None if attempt is None else self.replay(attempt)

    def replay(self, attempt: models.Model) -> models.Model:
        """``attempt`` (made with this key), if it came with the same input."""
        if attempt.request_fingerprint != self.fingerprint:
            raise IdempotencyConflict(CONFLICT, field="idempotencyKey")
        return attempt

    @property
    def stored(self) -> dict[str, str | None]:
        """The fields a new attempt stores for this request."""
        return {"idempotency_key": self.key, "request_fingerprint": self.fingerprint}

    def create(self, **fields: Any) -> tuple[models.Model, bool]:
        """Insert the attempt for this request, in a savepoint of the caller's
        transaction: (attempt, True). When another transaction inserted one with
        the same key first (the unique constraint), that one replayed: (it, False)."""
        try:
            with transaction.atomic():
                return self.scope.model._default_manager.create(**fields, **self.stored), True
        except IntegrityError:
            earlier = self.earlier()
            if earlier is None:
                raise  # another constraint: not ours to answer
            return earlier, False


def idempotent_request(scope: Scope, *, user, key: str | None, operation: str, **fields: object) -> IdempotentRequest:
    """Check the key (INVALID_INPUT) and fingerprint the request: ``operation``
    and ``fields`` are everything that makes two requests the same."""
    check_idempotency_key(key)
    return IdempotentRequest(scope, user, key, request_fingerprint(operation, **fields))


def stripe_key(kind: str, pk: object, *purpose: object) -> str:
    """The Stripe idempotency key of one call made for one of our rows, e.g.
    ``stripe_key("payment", payment.pk, "intent")`` is ``payment-<id>-intent``.
    Derived from the row, so a retry (the next request, a retried job) sends
    the same key and Stripe makes the object once; ``purpose`` names the call
    and, for a call that may be made again on purpose, what it follows."""
    return "-".join(str(part) for part in (kind, pk, *purpose))
