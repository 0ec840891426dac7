"""The public catalog (active tiers by position, each with its active prices),
cached in the process: it is public, read by every visitor and rarely changes.

- ``catalog_tiers()``: the list, read with two queries when the cache is empty,
  stale or invalidated; no query otherwise. The Tier rows carry their active
  prices (``active_prices``, each price's ``tier`` set), as the GraphQL types read them.
- Invalidated when a Tier or a Price is saved or deleted (``post_save`` /
  ``post_delete``, at once and again when the transaction commits, so a reader
  that read the old rows meanwhile cannot keep them), and after ``migrate`` or
  ``flush``. Writes that send no signal (``QuerySet.update``, raw SQL) and writes
  in other processes are seen after ``CATALOG_CACHE_SECONDS`` at most; call
  ``invalidate_catalog()`` after such a write to make it immediate here.
- Inside a transaction (``atomic``) the cache is neither read nor filled: the
  transaction sees its own, possibly uncommitted, rows.

Display only: whatever takes money (createPaymentIntent, createSubscription,
checkout) reads the Price from the database, so a price deactivated a moment
ago in another process is refused there even while a cache still lists it.
"""

from __future__ import annotations

import threading
from time import monotonic
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Prefetch
from django.db.models.signals import post_delete, post_migrate, post_save

from payments.ids import int_id
from payments.models import Price, Tier
from payments.selectors import active_prices, tier_list

# Bound on how long another process's change (or one that sent no signal) takes to show.
CATALOG_CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class _Entry:
    generation: int
    expires_at: float
    tiers: tuple[Tier, ...]


_lock = threading.Lock()
_generation = 0
_entry: _Entry | None = None


def load_catalog() -> list[Tier]:
    """From the database: two queries, however many tiers and prices."""
    prices = Prefetch("prices", queryset=active_prices(), to_attr="active_prices")
    return list(tier_list().prefetch_related(prices))


def catalog_tiers() -> list[Tier]:
    """The active tiers by position, each with ``active_prices``. Shared between
    requests: read them, never change them."""
    global _entry
    if connection.in_atomic_block:
        return load_catalog()
    entry = _entry
    now = monotonic()
    if entry is not None and entry.generation == _generation and now < entry.expires_at:
        return list(entry.tiers)
    generation = _generation
    tiers = load_catalog()
    with _lock:
        if generation == _generation:  # nothing changed while we read
            _entry = _Entry(generation, now + CATALOG_CACHE_SECONDS, tuple(tiers))
    return tiers


def catalog_version() -> tuple[int, float] | None:
    """The version of the catalog ``catalog_tiers()`` answers with now (read from
    the database first when the cache is empty or stale): it changes whenever
    the catalog is read again. None inside a transaction (nothing is cached there).
    schema/public_cache.py keys whole GraphQL answers on it."""
    if connection.in_atomic_block:
        return None
    catalog_tiers()
    entry = _entry
    if entry is None or entry.generation != _generation:
        return None  # changed while we read it: not cacheable this time
    return (entry.generation, entry.expires_at)


def catalog_tier(tier_id) -> Tier | None:
    """An active tier by id (None for an unknown, inactive or malformed id)."""
    pk = int_id(tier_id)
    if pk is None:
        return None
    return next((tier for tier in catalog_tiers() if tier.pk == pk), None)


def invalidate_catalog(**kwargs) -> None:
    global _generation, _entry
    with _lock:
        _generation += 1
        _entry = None


def _catalog_changed(sender, using=None, **kwargs) -> None:
    invalidate_catalog()
    if transaction.get_connection(using).in_atomic_block:
        transaction.on_commit(invalidate_catalog, using=using, robust=True)


for _model in (Tier, Price):
    post_save.connect(_catalog_changed, sender=_model, dispatch_uid=f"payments.cache.{_model.__name__}.save")
    post_delete.connect(_catalog_changed, sender=_model, dispatch_uid=f"payments.cache.{_model.__name__}.delete")
post_migrate.connect(invalidate_catalog, dispatch_uid="payments.cache.migrate")
