"""Whole answers to public catalog queries (schema/public_cache.py): served
without any query or execution while the catalog is unchanged, anew after a
change, and never for a document that could depend on the viewer.
Transactional: the caches are only used outside ``atomic``."""

import json

import pytest
from django.test import Client

from payments.cache import invalidate_catalog
from payments.models import Price, Tier
from schema import public_cache
from schema.schema import schema

pytestmark = pytest.mark.django_db(transaction=True)

TIERS = "{ tiers { id slug name prices { id currency unitAmount display } } }"


@pytest.fixture(autouse=True)
def empty_caches():
    invalidate_catalog()
    public_cache.clear()
    yield
    invalidate_catalog()
    public_cache.clear()


def post(client: Client, query: str, variables: dict | None = None, operation_name: str | None = None):
    body = {"query": query, "variables": variables or {}}
    if operation_name:
        body["operationName"] = operation_name
    response = client.post("/graphql/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    return response


def test_the_tiers_answer_is_serialized_once_and_sent_again_with_no_query(catalog, django_assert_num_queries):
    first = post(Client(), TIERS)
    with django_assert_num_queries(0):
        again = post(Client(), TIERS)
    assert again.content == first.content
    assert [t["slug"] for t in again.json()["data"]["tiers"]] == ["automated", "full"]
    assert again["Content-Type"] == "application/json"
    assert "csrftoken" in again.cookies  # the view's decorator still hands out the CSRF cookie


def test_anonymous_and_logged_in_visitors_get_the_same_public_answer(catalog, user):
    logged_in = Client()
    logged_in.force_login(user)
    assert post(logged_in, TIERS).content == post(Client(), TIERS).content


def test_a_catalog_change_gives_a_new_answer(catalog):
    assert len(post(Client(), TIERS).json()["data"]["tiers"]) == 2
    Tier.objects.create(slug="extra", name="Extra", position=3)
    assert [t["slug"] for t in post(Client(), TIERS).json()["data"]["tiers"]] == ["automated", "full", "extra"]
    Price.objects.filter(pk=catalog["basic_usd"].pk).get().delete()
    prices = post(Client(), TIERS).json()["data"]["tiers"][0]["prices"]
    assert [p["currency"] for p in prices] == ["eur"]


def test_variables_are_part_of_the_key(catalog, django_assert_num_queries):
    query = "query($id: ID!) { tier(id: $id) { slug } }"
    assert post(Client(), query, {"id": str(catalog["basic"].pk)}).json()["data"]["tier"]["slug"] == "automated"
    assert post(Client(), query, {"id": str(catalog["full"].pk)}).json()["data"]["tier"]["slug"] == "full"
    with django_assert_num_queries(0):
        assert post(Client(), query, {"id": str(catalog["full"].pk)}).json()["data"]["tier"]["slug"] == "full"


@pytest.mark.parametrize("query, operation_name", [
    ("{ tiers { slug } me { username } }", None),
    ("{ me { username } }", None),
    ("{ ...Everything } fragment Everything on Query { tiers { slug } me { username } }", None),
    ("{ ... on Query { me { username } } tiers { slug } }", None),
    ("query A { tiers { slug } } query B { me { username } }", "B"),
    ("query A { tiers { slug } } query B { me { username } }", None),
    ("mutation { logout }", None),
    ("{ tiers { slug ", None),
])
def test_a_document_that_may_depend_on_the_viewer_is_never_cached(query, operation_name):
    assert not public_cache.is_public(query, operation_name)


def test_a_viewers_answer_never_reaches_another(catalog, user, other_user):
    query = "{ tiers { slug } me { username } }"
    alice, mallory = Client(), Client()
    alice.force_login(user)
    mallory.force_login(other_user)
    assert post(alice, query).json()["data"]["me"]["username"] == "alice"
    assert post(mallory, query).json()["data"]["me"]["username"] == "mallory"
    assert post(Client(), query).json()["data"]["me"] is None


def test_an_answer_with_errors_is_not_kept(catalog):
    post(Client(), "{ tiers { nope } }")
    assert public_cache._answers == {}


def test_the_public_types_are_the_ones_this_cache_was_written_for():
    """Adding a field to a type reachable from ``tiers`` or ``tier`` decides for the
    cache too: it must be the same for every viewer, or leave PUBLIC_ROOT_FIELDS."""
    tier = schema.get_type_by_name("Tier")
    price = schema.get_type_by_name("Price")
    assert sorted(f.python_name for f in tier.fields) == [
        "description", "id", "manifest", "name", "position", "prices", "slug", "stripe_product_id"]
    assert sorted(f.python_name for f in price.fields) == [
        "active", "currency", "display", "id", "interval", "interval_count", "stripe_price_id", "tier",
        "trial_period_days", "type", "unit_amount"]  # trialPeriodDays: the price's, not the viewer's eligibility
    assert public_cache.PUBLIC_ROOT_FIELDS == {"tiers", "tier", "__typename"}
