"""The catalog through GraphQL: tiers and their prices, public."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.models import Price, Tier

TIERS = """{ tiers { id slug name description manifest position stripeProductId
  prices { id currency unitAmount type interval intervalCount active display stripePriceId tier { id slug } } } }"""


def test_tiers_are_public_ordered_and_list_active_prices_only(anon_gql, catalog):
    Price.objects.create(tier=catalog["basic"], currency="eur", unit_amount=1, active=False)
    Tier.objects.create(slug="gone", name="Gone", position=0, active=False)
    tiers = anon_gql.ok(TIERS)["tiers"]
    assert [t["slug"] for t in tiers] == ["automated", "full"]
    basic = tiers[0]
    assert basic["manifest"] == {"email": ["-7d", "-1d"]}
    assert [(p["currency"], p["unitAmount"], p["display"]) for p in basic["prices"]] == [
        ("eur", 999, "€9.99"), ("usd", 1099, "$10.99"),
    ]
    monthly = [p for p in tiers[1]["prices"] if p["type"] == "RECURRING"]
    assert monthly == [{
        "id": str(catalog["full_monthly"].pk), "currency": "eur", "unitAmount": 1999, "type": "RECURRING",
        "interval": "MONTH", "intervalCount": 1, "active": True, "display": "€19.99 / month",
        "stripePriceId": None, "tier": {"id": str(catalog["full"].pk), "slug": "full"},
    }]
    assert all(p["type"] == "ONE_TIME" and p["interval"] is None for p in basic["prices"])


def _count_queries(gql) -> int:
    with CaptureQueriesContext(connection) as ctx:
        gql.ok(TIERS)
    return len(ctx.captured_queries)


def test_tiers_query_count_does_not_grow_with_tiers_and_prices(anon_gql, db):
    tier = Tier.objects.create(slug="t0", name="T0")
    Price.objects.create(tier=tier, currency="eur", unit_amount=100)
    small = _count_queries(anon_gql)
    for i in range(1, 20):
        t = Tier.objects.create(slug=f"t{i}", name=f"T{i}", position=i)
        for amount in range(1, 6):
            Price.objects.create(tier=t, currency="usd", unit_amount=amount * 100)
    large = _count_queries(anon_gql)
    assert small == large == 2


def test_tier_by_id(anon_gql, catalog):
    data = anon_gql.ok("query($id: ID!) { tier(id: $id) { name } }", {"id": str(catalog["full"].pk)})
    assert data["tier"] == {"name": "Full Escalation"}
    assert anon_gql.ok('{ tier(id: "999999") { name } }')["tier"] is None
    assert anon_gql.ok('{ tier(id: "nope") { name } }')["tier"] is None
