"""No list the API serves runs more statements with more rows (issue 13, part 1).

Each query is run for a viewer with 2 and with 50 rows of every list it reads,
nested lists too (50 events with 50 payments each, each payment with 50
refunds, each tier with 50 prices), and must run the same stated number of
statements (django_assert_num_queries). The numbers include the request's own
two: the session and the user.

Before this, `events { payments }` ran 1 + 1 per event + 4 per payment (2,603
statements at 50 events x 50 payments) and `payments` with nested tier, price and refunds 4 + 4
per row (204 at 50)."""

from __future__ import annotations

from itertools import count

import pytest
from django.utils import timezone

from events.models import Event
from payments import selectors
from payments.models import Invoice, Payment, Price, Refund, Subscription, Tier

pytestmark = pytest.mark.django_db

SIZES = [2, 50]
_slugs = count()


def _tiers(n: int) -> list[Tier]:
    """n tiers, each with n active prices and one inactive one (never listed)."""
    tiers = Tier.objects.bulk_create(Tier(slug=f"t{next(_slugs)}", name=f"T{i}", position=i) for i in range(n))
    Price.objects.bulk_create(
        Price(tier=t, currency="eur", unit_amount=100 + j, active=j < n) for t in tiers for j in range(n + 1)
    )
    return tiers


def _first_prices(tiers) -> list[Price]:
    by_tier = {p.tier_id: p for p in Price.objects.filter(tier__in=tiers, unit_amount=100)}
    return [by_tier[t.pk] for t in tiers]


def _payments(user, n: int, **kwargs) -> list[Payment]:
    """n payments of the user, on n distinct prices and tiers, each with n refunds."""
    payments = Payment.objects.bulk_create(
        Payment(user=user, price=p, tier_id=p.tier_id, amount=p.unit_amount, currency=p.currency,
                status="partially_refunded", amount_refunded=n, **kwargs)
        for p in _first_prices(_tiers(n))
    )
    Refund.objects.bulk_create(
        Refund(payment=p, amount=1, currency=p.currency, status="succeeded") for p in payments for _ in range(n)
    )
    return payments


def _events(user, n: int) -> list[Event]:
    """n events, each with n payments; the first event's payments have n refunds
    each, the others one (the refunds of n payments grow in the payments test)."""
    prices = _first_prices(_tiers(n))
    events = Event.objects.bulk_create(Event(user=user, title=f"E{i}", tier_id=prices[i].tier_id) for i in range(n))
    payments = Payment.objects.bulk_create(
        Payment(user=user, price=p, tier_id=p.tier_id, amount=p.unit_amount, currency=p.currency,
                payable_type="event", payable_id=str(e.pk))
        for e in events for p in prices
    )
    Refund.objects.bulk_create(
        Refund(payment=p, amount=1, currency=p.currency, status="succeeded")
        for p in payments for _ in range(n if p.payable_id == str(events[0].pk) else 1)
    )
    return events


def _subscriptions(user, n: int) -> list[Subscription]:
    return Subscription.objects.bulk_create(
        Subscription(user=user, price=p, tier_id=p.tier_id, status="active", stripe_subscription_id=f"sub_{p.pk}")
        for p in _first_prices(_tiers(n))
    )


def _invoices(user, n: int) -> list[Invoice]:
    return Invoice.objects.bulk_create(
        Invoice(user=user, subscription=s, currency="eur", created_at=timezone.now(), stripe_invoice_id=f"in_{s.pk}")
        for s in _subscriptions(user, n)
    )


PAYMENT_FIELDS = """id status amount payable { type id }
  tier { slug prices { display } } price { display tier { slug } } refunds { id amount payment { id } }"""

EVENTS = """{ events { id title isActive createdAt tier { slug prices { display } }
  payments { id status payable { type id } tier { slug } price { display tier { slug } } refunds { id payment { id } } } } }"""
PAYMENTS = f"{{ payments(first: 100) {{ totalCount pageInfo {{ endCursor }} edges {{ cursor node {{ {PAYMENT_FIELDS} }} }} }} }}"
REFUNDS = "{ refunds { id amount status payment { id status tier { slug } price { display } refunds { id } } } }"
SUBSCRIPTIONS = "{ subscriptions { id status price { display tier { slug } } tier { slug prices { display } } } }"
INVOICES = "{ invoices { id number status subscription { id price { display } tier { slug } } } }"
TIERS = "{ tiers { slug prices { display tier { slug } } } }"


@pytest.mark.parametrize("n", SIZES)
def test_events_and_their_payments(django_assert_num_queries, gql, user, other_user, n):
    events_made = _events(user, n)
    _events(other_user, 2)
    # session, user, events (+ tier), their tiers' prices, payments of all events (+ tier, price, price.tier), refunds
    with django_assert_num_queries(6):
        events = gql.ok(EVENTS)["events"]
    assert len(events) == n
    for event in events:
        assert len(event["payments"]) == n
        assert {p["payable"]["id"] for p in event["payments"]} == {event["id"]}
        refunds = n if event["id"] == str(events_made[0].pk) else 1
        assert len(event["tier"]["prices"]) == n
        assert all(len(p["refunds"]) == refunds for p in event["payments"])


@pytest.mark.parametrize("n", SIZES)
def test_payments_with_nested_tier_price_refunds(django_assert_num_queries, gql, user, other_user, n):
    _payments(user, n)
    _payments(other_user, 2)
    # session, user, count, the page (+ tier, price, price.tier), refunds, tier prices
    with django_assert_num_queries(6):
        page = gql.ok(PAYMENTS)["payments"]
    assert page["totalCount"] == n == len(page["edges"])
    assert all(len(e["node"]["refunds"]) == n and len(e["node"]["tier"]["prices"]) == n for e in page["edges"])


@pytest.mark.parametrize("n", SIZES)
def test_refunds(django_assert_num_queries, gql, user, other_user, n):
    _payments(user, 1)  # one payment with one refund, then n payments with n refunds: up to 2,501 refunds
    _payments(user, n)
    # session, user, refunds (+ payment, tier, price), the payments' refunds
    with django_assert_num_queries(4):
        refunds = gql.ok(REFUNDS)["refunds"]
    assert len(refunds) == min(1 + n * n, selectors.LIST_CAP)


@pytest.mark.parametrize("n", SIZES)
def test_subscriptions(django_assert_num_queries, gql, user, n):
    _subscriptions(user, n)
    # session, user, subscriptions (+ price, price.tier, tier), tier prices
    with django_assert_num_queries(4):
        assert len(gql.ok(SUBSCRIPTIONS)["subscriptions"]) == n


@pytest.mark.parametrize("n", SIZES)
def test_invoices(django_assert_num_queries, gql, user, n):
    _invoices(user, n)
    # session, user, invoices (+ subscription, price, tier)
    with django_assert_num_queries(3):
        assert len(gql.ok(INVOICES)["invoices"]) == n


@pytest.mark.parametrize("n", SIZES)
def test_tiers_and_their_prices(django_assert_num_queries, anon_gql, n):
    _tiers(n)
    # tiers, their prices (cache empty: the catalog was just written); no session
    with django_assert_num_queries(2):
        tiers = anon_gql.ok(TIERS)["tiers"]
    assert len(tiers) == n and all(len(t["prices"]) == n for t in tiers)


def test_lists_without_pagination_stop_at_the_cap_newest_first(gql, user, monkeypatch):
    monkeypatch.setattr(selectors, "LIST_CAP", 3)
    events = _events(user, 4)
    _payments(user, 4)
    _invoices(user, 4)
    data = gql.ok("""{ events { id payments { id } } refunds { id } subscriptions { id } invoices { id } }""")
    newest_events = sorted(events, key=lambda e: (e.created_at, e.pk), reverse=True)[:3]
    assert [e["id"] for e in data["events"]] == [str(e.pk) for e in newest_events]
    for event in data["events"]:
        newest = Payment.objects.filter(payable_id=event["id"]).order_by("-created_at", "-id")[:3]
        assert [p["id"] for p in event["payments"]] == [str(p.pk) for p in newest]
    assert len(data["refunds"]) == len(data["subscriptions"]) == len(data["invoices"]) == 3


def test_an_event_outside_the_list_reads_its_own_payments(gql, user, catalog):
    """createEvent's payload: Event.payments without Query.events' batch."""
    data = gql.ok('mutation { createEvent(input: {title: "New"}) { ... on CreateEventPayload { event { id payments { id } } } } }')
    assert data["createEvent"]["event"]["payments"] == []
