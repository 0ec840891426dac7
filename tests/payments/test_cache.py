"""The public catalog's cache (payments/cache.py): no query while it is fresh,
invalidated when a Tier or Price is saved or deleted, never filled from inside a
transaction. Transactional tests: the cache is only used outside ``atomic``."""

import pytest
from django.db import transaction

from payments import cache
from payments.cache import catalog_tier, catalog_tiers, invalidate_catalog
from payments.models import Price, Tier

pytestmark = pytest.mark.django_db(transaction=True)

TIERS = "{ tiers { slug prices { unitAmount display tier { slug } } } }"


@pytest.fixture(autouse=True)
def empty_cache():
    invalidate_catalog()
    yield
    invalidate_catalog()


def slugs() -> list[str]:
    return [tier.slug for tier in catalog_tiers()]


def test_a_fresh_cache_costs_no_query_and_gives_what_the_database_gives(catalog, django_assert_num_queries):
    with django_assert_num_queries(2):
        first = catalog_tiers()
    with django_assert_num_queries(0):
        again = catalog_tiers()
        prices = [(p.tier.slug, p.unit_amount) for t in again for p in t.active_prices]
    assert [t.pk for t in again] == [t.pk for t in first] == [catalog["basic"].pk, catalog["full"].pk]
    assert prices == [("automated", 999), ("automated", 1099), ("full", 1999), ("full", 2999)]
    with django_assert_num_queries(0):
        assert catalog_tier(str(catalog["full"].pk)).slug == "full"
        assert catalog_tier("999999") is None
        assert catalog_tier("nope") is None


def test_the_graphql_query_is_served_from_the_cache(catalog, anon_gql, django_assert_num_queries):
    first = anon_gql.ok(TIERS)
    with django_assert_num_queries(0):
        assert anon_gql.ok(TIERS) == first
    assert [t["slug"] for t in first["tiers"]] == ["automated", "full"]


@pytest.mark.parametrize("change", ["new tier", "tier saved", "tier deleted", "price saved", "price deleted", "new price"])
def test_saving_or_deleting_a_tier_or_price_invalidates(catalog, change):
    assert slugs() == ["automated", "full"]
    if change == "new tier":
        Tier.objects.create(slug="extra", name="Extra", position=3)
        expected = ["automated", "full", "extra"]
    elif change == "tier saved":
        catalog["full"].active = False
        catalog["full"].save()
        expected = ["automated"]
    elif change == "tier deleted":
        Tier.objects.create(slug="brief", name="Brief", position=9)
        assert slugs() == ["automated", "full", "brief"]
        Tier.objects.get(slug="brief").delete()
        expected = ["automated", "full"]
    else:
        basic = catalog["basic"]
        if change == "price saved":
            catalog["basic_usd"].active = False
            catalog["basic_usd"].save()
            expected_amounts = [999]
        elif change == "price deleted":
            Price.objects.filter(pk=catalog["basic_usd"].pk).get().delete()
            expected_amounts = [999]
        else:
            Price.objects.create(tier=basic, currency="eur", unit_amount=5)
            expected_amounts = [5, 999, 1099]
        tier = next(t for t in catalog_tiers() if t.pk == basic.pk)
        assert [p.unit_amount for p in tier.active_prices] == expected_amounts
        return
    assert slugs() == expected


def test_inside_a_transaction_the_database_answers_and_the_cache_is_left_alone(catalog):
    assert slugs() == ["automated", "full"]
    with pytest.raises(RuntimeError), transaction.atomic():
        Tier.objects.create(slug="uncommitted", name="Uncommitted", position=5)
        assert slugs() == ["automated", "full", "uncommitted"]  # its own rows
        raise RuntimeError("rolled back")
    assert slugs() == ["automated", "full"]  # nothing of the rolled-back transaction was kept


def test_a_write_without_signals_shows_after_the_time_limit_or_an_explicit_invalidation(catalog, monkeypatch):
    assert slugs() == ["automated", "full"]
    Tier.objects.filter(slug="full").update(active=False)  # QuerySet.update sends no signal
    assert slugs() == ["automated", "full"]  # still cached
    invalidate_catalog()
    assert slugs() == ["automated"]
    Tier.objects.filter(slug="full").update(active=True)
    assert slugs() == ["automated"]
    later = cache.monotonic() + cache.CATALOG_CACHE_SECONDS + 1
    monkeypatch.setattr(cache, "monotonic", lambda: later)
    assert slugs() == ["automated", "full"]
