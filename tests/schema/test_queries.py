from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Event
from payments.models import Payment, Price, Tier

TIERS = """{ tiers { id slug name description manifest position stripeProductId
  prices { id currency unitAmount type interval intervalCount active display stripePriceId tier { id slug } } } }"""


def make_payment(user, price, **kwargs) -> Payment:
    return Payment.objects.create(
        user=user, price=price, tier=price.tier, amount=price.unit_amount, currency=price.currency, **kwargs
    )


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


def test_me_is_null_when_anonymous(anon_gql):
    assert anon_gql.ok("{ me { id } }")["me"] is None


def test_me(gql, user):
    assert gql.ok("{ me { id username email activeTier { id } isPremium } }")["me"] == {
        "id": str(user.pk), "username": "alice", "email": "alice@example.com", "activeTier": None, "isPremium": False,
    }


def test_events_are_the_viewers_own_with_their_payments(gql, user, other_user, catalog):
    mine = Event.objects.create(user=user, title="Mine")
    Event.objects.create(user=other_user, title="Theirs")
    payment = make_payment(user, catalog["basic_eur"], payable_type="event", payable_id=str(mine.pk))
    data = gql.ok("{ events { id title isActive tier { id } payments { id amount payable { type id } } } }")
    assert data["events"] == [{
        "id": str(mine.pk), "title": "Mine", "isActive": False, "tier": None,
        "payments": [{"id": str(payment.pk), "amount": 999, "payable": {"type": "event", "id": str(mine.pk)}}],
    }]


def test_events_are_empty_when_anonymous(anon_gql, user):
    Event.objects.create(user=user, title="Mine")
    assert anon_gql.ok("{ events { id } }")["events"] == []


PAYMENT = "query($id: ID!) { payment(id: $id) { id status amount currency failureCode refunds { id } tier { slug } price { display } } }"


def test_payment_is_visible_to_its_owner_and_staff_with_view_payment_only(gql_as, user, other_user, staff_user, anon_gql, catalog):
    payment = make_payment(user, catalog["basic_eur"])
    variables = {"id": str(payment.pk)}
    expected = {"id": str(payment.pk), "status": "PENDING", "amount": 999, "currency": "eur", "failureCode": None,
                "refunds": [], "tier": {"slug": "automated"}, "price": {"display": "€9.99"}}
    assert gql_as(user).ok(PAYMENT, variables)["payment"] == expected
    assert gql_as(staff_user).ok(PAYMENT, variables)["payment"] is None  # staff-ness alone reads nothing of others
    staff_user.user_permissions.add(Permission.objects.get(codename="view_payment", content_type__app_label="payments"))
    assert gql_as(type(staff_user).objects.get(pk=staff_user.pk)).ok(PAYMENT, variables)["payment"] == expected
    assert gql_as(other_user).ok(PAYMENT, variables)["payment"] is None
    assert anon_gql.ok(PAYMENT, variables)["payment"] is None
    # An id that does not exist answers exactly like someone else's.
    assert gql_as(other_user).ok(PAYMENT, {"id": "00000000-0000-0000-0000-000000000000"})["payment"] is None
    assert gql_as(other_user).ok(PAYMENT, {"id": "garbage"})["payment"] is None


PAGE = """query($first: Int, $after: String, $status: PaymentStatus) {
  payments(first: $first, after: $after, status: $status) {
    totalCount edges { cursor node { id status } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


def test_payments_are_paginated_newest_first(gql, user, other_user, catalog):
    made = [make_payment(user, catalog["basic_eur"]) for _ in range(5)]
    make_payment(other_user, catalog["basic_eur"])
    newest_first = [str(p.pk) for p in sorted(made, key=lambda p: (p.created_at, p.pk), reverse=True)]

    first = gql.ok(PAGE, {"first": 2})["payments"]
    assert first["totalCount"] == 5
    assert [e["node"]["id"] for e in first["edges"]] == newest_first[:2]
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]

    seen = [e["node"]["id"] for e in first["edges"]]
    after = first["pageInfo"]["endCursor"]
    while after:
        page = gql.ok(PAGE, {"first": 2, "after": after})["payments"]
        seen += [e["node"]["id"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    assert seen == newest_first


def test_payments_filter_by_status(gql, user, catalog):
    make_payment(user, catalog["basic_eur"], status="succeeded")
    make_payment(user, catalog["basic_eur"])
    page = gql.ok(PAGE, {"status": "SUCCEEDED"})["payments"]
    assert page["totalCount"] == 1
    assert page["edges"][0]["node"]["status"] == "SUCCEEDED"


def test_payments_refuse_a_bad_cursor_and_a_huge_page(gql, user, catalog):
    result = gql(PAGE, {"after": "not-a-cursor"})
    assert result["errors"][0]["message"] == "Invalid cursor."
    assert "first must be" in gql(PAGE, {"first": 10_000})["errors"][0]["message"]


def test_payments_are_empty_when_anonymous(anon_gql, user, catalog):
    make_payment(user, catalog["basic_eur"])
    assert anon_gql.ok(PAGE)["payments"]["totalCount"] == 0
