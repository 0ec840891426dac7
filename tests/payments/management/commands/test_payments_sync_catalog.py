"""payments_sync_catalog --push / --pull [--dry-run], against the emulator."""

from __future__ import annotations

from payments import gateway
from payments.models import Price, Subscription, Tier
from payments.services.subscriptions import create_subscription
from tests.payments.conftest import run


def stripe_events(emulator, type_: str) -> list[dict]:
    return [e.event for e in emulator.events() if e.event["type"] == type_]


def test_push_creates_products_and_prices_once(catalog, emulator):
    ran = run("payments_sync_catalog", "--push")
    assert "product.created=2" in ran.out and "price.created=4" in ran.out and "failed=0" in ran.out
    for tier in Tier.objects.all():
        product = emulator.retrieve(tier.stripe_product_id)
        assert (product["name"], product["active"], product["metadata"]["tier_id"]) == (tier.name, True, str(tier.pk))
    for price in Price.objects.all():
        stripe_price = emulator.retrieve(price.stripe_price_id)
        assert (stripe_price["unit_amount"], stripe_price["currency"], stripe_price["active"]) == (
            price.unit_amount, price.currency, True,
        )
        assert stripe_price["product"] == price.tier.stripe_product_id
    monthly = emulator.retrieve(Price.objects.get(pk=catalog["full_monthly"].pk).stripe_price_id)
    assert monthly["recurring"]["interval"] == "month" and monthly["recurring"]["interval_count"] == 1

    again = run("payments_sync_catalog", "--push")
    assert "unchanged=6" in again.out and "created" not in again.out
    assert len(stripe_events(emulator, "product.created")) == 2
    assert len(stripe_events(emulator, "price.created")) == 4


def test_an_edited_amount_makes_a_new_stripe_price_and_deactivates_the_old(user, catalog, emulator):
    run("payments_sync_catalog", "--push")
    monthly = Price.objects.get(pk=catalog["full_monthly"].pk)
    old_id = monthly.stripe_price_id
    # A subscriber on the old price.
    subscription = create_subscription(user=user, price_id=str(monthly.pk)).subscription

    Price.objects.filter(pk=monthly.pk).update(unit_amount=2499)  # edited in the admin
    ran = run("payments_sync_catalog", "--push")
    assert "price.replaced=1" in ran.out and "unchanged=5" in ran.out, ran
    monthly.refresh_from_db()
    assert monthly.stripe_price_id != old_id
    new = emulator.retrieve(monthly.stripe_price_id)
    assert (new["unit_amount"], new["active"], new["recurring"]["interval"]) == (2499, True, "month")
    assert new["metadata"] == {"price_id": str(monthly.pk), "replaces": old_id}
    assert emulator.retrieve(old_id)["active"] is False
    # The existing subscription keeps its price at Stripe.
    stripe_sub = emulator.retrieve(Subscription.objects.get(pk=subscription.pk).stripe_subscription_id)
    assert stripe_sub["items"]["data"][0]["price"]["id"] == old_id

    again = run("payments_sync_catalog", "--push")
    assert "unchanged=6" in again.out and "replaced" not in again.out
    assert len(stripe_events(emulator, "price.created")) == 5

    # Back to the first amount: a third Stripe price (the first one stays archived).
    Price.objects.filter(pk=monthly.pk).update(unit_amount=1999)
    assert "price.replaced=1" in run("payments_sync_catalog", "--push").out
    monthly.refresh_from_db()
    assert monthly.stripe_price_id not in (old_id, new["id"])
    assert emulator.retrieve(monthly.stripe_price_id)["unit_amount"] == 1999
    assert [emulator.retrieve(i)["active"] for i in (old_id, new["id"])] == [False, False]


def test_a_currency_or_interval_change_is_a_new_price_too(catalog, emulator):
    run("payments_sync_catalog", "--push")
    Price.objects.filter(pk=catalog["full_monthly"].pk).update(interval="year")
    Price.objects.filter(pk=catalog["basic_usd"].pk).update(currency="gbp")
    assert "price.replaced=2" in run("payments_sync_catalog", "--push").out
    assert emulator.retrieve(Price.objects.get(pk=catalog["full_monthly"].pk).stripe_price_id)["recurring"]["interval"] == "year"
    assert emulator.retrieve(Price.objects.get(pk=catalog["basic_usd"].pk).stripe_price_id)["currency"] == "gbp"


def test_renamed_and_deactivated_rows_are_updated_at_stripe(catalog, emulator):
    run("payments_sync_catalog", "--push")
    Tier.objects.filter(pk=catalog["basic"].pk).update(name="Automated reminders", description="By email")
    Tier.objects.filter(pk=catalog["full"].pk).update(active=False)
    Price.objects.filter(pk=catalog["basic_usd"].pk).update(active=False)
    ran = run("payments_sync_catalog", "--push")
    counts = "product.deactivated=1 product.updated=1"
    assert counts in ran.out and "price.deactivated=3" in ran.out, ran
    basic = emulator.retrieve(Tier.objects.get(pk=catalog["basic"].pk).stripe_product_id)
    assert (basic["name"], basic["description"], basic["active"]) == ("Automated reminders", "By email", True)
    assert emulator.retrieve(Tier.objects.get(pk=catalog["full"].pk).stripe_product_id)["active"] is False
    # The inactive tier's prices, and the inactive price, can no longer be bought at Stripe.
    for key in ("full_eur", "full_monthly", "basic_usd"):
        assert emulator.retrieve(Price.objects.get(pk=catalog[key].pk).stripe_price_id)["active"] is False
    assert emulator.retrieve(Price.objects.get(pk=catalog["basic_eur"].pk).stripe_price_id)["active"] is True

    # Active again here: active again at Stripe.
    Tier.objects.filter(pk=catalog["full"].pk).update(active=True)
    ran = run("payments_sync_catalog", "--push")
    assert "product.activated=1" in ran.out and "price.activated=2" in ran.out, ran
    assert emulator.retrieve(Price.objects.get(pk=catalog["full_eur"].pk).stripe_price_id)["active"] is True


def test_inactive_rows_never_at_stripe_are_not_created(catalog, emulator):
    Price.objects.filter(pk=catalog["basic_usd"].pk).update(active=False)
    Tier.objects.filter(pk=catalog["full"].pk).update(active=False)
    ran = run("payments_sync_catalog", "--push")
    assert "product.created=1" in ran.out and "price.created=1" in ran.out, ran
    assert list(Price.objects.exclude(stripe_price_id=None).values_list("pk", flat=True)) == [catalog["basic_eur"].pk]


def test_push_dry_run_changes_nothing(catalog, emulator):
    ran = run("payments_sync_catalog", "--push", "--dry-run")
    assert "dry run" in ran.out and "product.created=2" in ran.out and "would create" in ran.out
    assert not emulator.events()
    assert not Tier.objects.exclude(stripe_product_id=None).exists()
    assert not Price.objects.exclude(stripe_price_id=None).exists()

    run("payments_sync_catalog", "--push")
    Price.objects.filter(pk=catalog["basic_eur"].pk).update(unit_amount=1234)
    before = len(emulator.events())
    ran = run("payments_sync_catalog", "--push", "--dry-run")
    assert "price.replaced=1" in ran.out and "would replace" in ran.out
    assert len(emulator.events()) == before
    assert emulator.retrieve(Price.objects.get(pk=catalog["basic_eur"].pk).stripe_price_id)["unit_amount"] == 999


def test_push_reports_a_failure_and_goes_on(catalog, emulator):
    run("payments_sync_catalog", "--push")
    Tier.objects.filter(pk=catalog["basic"].pk).update(stripe_product_id="prod_missing")
    ran = run("payments_sync_catalog", "--push", fails=True)
    # The tier, and its two prices (their product is no longer the tier's: new prices are due, and fail).
    assert "failed=3 unchanged=3" in ran.out, ran
    assert f"tier {catalog['basic'].pk} (automated): failed - Stripe refused the request." in ran.out
    assert "No such product: 'prod_missing'" in str(ran.error)
    assert "Traceback" not in ran.out + ran.err


def test_push_or_pull_is_required(db):
    assert "one of the arguments --push --pull is required" in str(run("payments_sync_catalog", fails=True).error)
    assert "not allowed with" in str(run("payments_sync_catalog", "--push", "--pull", fails=True).error)


def test_pull_links_rows_by_metadata_and_creates_what_we_do_not_have(catalog, emulator):
    run("payments_sync_catalog", "--push")
    basic = catalog["basic"]
    product_id = Tier.objects.get(pk=basic.pk).stripe_product_id
    stripe_ids = dict(Price.objects.filter(tier=basic).values_list("pk", "stripe_price_id"))
    # Our rows lost their Stripe ids (a restored backup), and one price was archived in the Dashboard.
    Tier.objects.filter(pk=basic.pk).update(stripe_product_id=None)
    Price.objects.filter(tier=basic).update(stripe_price_id=None)
    gateway.set_price_active(stripe_ids[catalog["basic_usd"].pk], active=False, idempotency_key="archive-usd")
    # Made in the Dashboard: a product and a monthly price, no metadata.
    concierge = gateway.create_product(name="Concierge Plus", description="A human calls", metadata={}, idempotency_key="d-1")
    monthly = gateway.create_price(product_id=concierge, currency="eur", unit_amount=4999, interval="month",
                                   interval_count=1, metadata={}, idempotency_key="d-2")
    # ... and a product that was archived there: not imported.
    gateway.update_product(gateway.create_product(name="Old", description="", metadata={}, idempotency_key="d-3"),
                           name="Old", description="", active=False, metadata={}, idempotency_key="d-4")

    ran = run("payments_sync_catalog", "--pull")
    assert "tier.linked=1" in ran.out and "price.linked=2" in ran.out, ran
    assert "tier.created=1" in ran.out and "price.created=1" in ran.out and "price.updated=1" in ran.out, ran
    assert Tier.objects.get(pk=basic.pk).stripe_product_id == product_id
    assert dict(Price.objects.filter(tier=basic).values_list("pk", "stripe_price_id")) == stripe_ids
    assert Price.objects.get(pk=catalog["basic_usd"].pk).active is False  # archived at Stripe
    new_tier = Tier.objects.get(stripe_product_id=concierge)
    assert (new_tier.slug, new_tier.name, new_tier.description, new_tier.active) == (
        "concierge-plus", "Concierge Plus", "A human calls", True,
    )
    assert new_tier.position > catalog["full"].position
    new_price = Price.objects.get(stripe_price_id=monthly)
    assert (new_price.tier, new_price.display, new_price.type) == (new_tier, "€49.99 / month", "recurring")
    assert not Tier.objects.filter(name="Old").exists()

    again = run("payments_sync_catalog", "--pull")
    assert all(word not in again.out for word in ("linked", "created", "updated")), again
    assert Tier.objects.count() == 3 and Price.objects.count() == 5


def test_pull_leaves_a_replaced_price_alone_and_follows_active_flags(catalog, emulator):
    run("payments_sync_catalog", "--push")
    Price.objects.filter(pk=catalog["basic_eur"].pk).update(unit_amount=1111)
    run("payments_sync_catalog", "--push")  # the old Stripe price is archived, its metadata names our row
    gateway.update_product(Tier.objects.get(pk=catalog["full"].pk).stripe_product_id, name="Full Escalation",
                           description="", active=False, metadata={}, idempotency_key="archive-full")
    ran = run("payments_sync_catalog", "--pull")
    assert "skipped=1" in ran.out and "replaced:" in ran.out and "tier.updated=1" in ran.out, ran
    assert Price.objects.count() == 4
    assert Tier.objects.get(pk=catalog["full"].pk).active is False
    assert Price.objects.get(pk=catalog["basic_eur"].pk).unit_amount == 1111


def test_pull_dry_run_changes_nothing(catalog, emulator):
    gateway.create_product(name="Concierge", description="", metadata={}, idempotency_key="d-1")
    before = list(Tier.objects.values())
    ran = run("payments_sync_catalog", "--pull", "--dry-run")
    assert "tier.created=1" in ran.out and "would create" in ran.out, ran
    assert list(Tier.objects.values()) == before


def test_a_trial_is_pushed_on_the_stripe_price_a_changed_one_replaces_it_and_pull_reads_it(catalog, emulator):
    monthly = Price.objects.get(pk=catalog["full_monthly"].pk)
    Price.objects.filter(pk=monthly.pk).update(trial_period_days=14)
    run("payments_sync_catalog", "--push")
    monthly.refresh_from_db()
    assert emulator.retrieve(monthly.stripe_price_id)["recurring"]["trial_period_days"] == 14
    assert "unchanged=6" in run("payments_sync_catalog", "--push").out

    old_id = monthly.stripe_price_id
    Price.objects.filter(pk=monthly.pk).update(trial_period_days=30)  # Stripe's recurring is immutable
    ran = run("payments_sync_catalog", "--push")
    assert "price.replaced=1" in ran.out and "trial_period_days changed" in ran.out, ran
    monthly.refresh_from_db()
    assert emulator.retrieve(monthly.stripe_price_id)["recurring"]["trial_period_days"] == 30
    assert emulator.retrieve(old_id)["active"] is False

    product = emulator.retrieve(Tier.objects.get(pk=catalog["full"].pk).stripe_product_id)
    made = gateway.create_price(
        product_id=product["id"], currency="eur", unit_amount=4999, interval="year", interval_count=1,
        metadata={}, idempotency_key="yearly-with-trial", trial_period_days=7,
    )
    run("payments_sync_catalog", "--pull")
    assert Price.objects.get(stripe_price_id=made).trial_period_days == 7
