"""The admin's "Push to Stripe" on tiers and prices: the same service as
payments_sync_catalog --push, a message per row, errors without tracebacks."""

from __future__ import annotations

import pytest
from django.contrib.messages import ERROR, SUCCESS
from django.urls import reverse

from payments.models import Price, Tier


def push(client, model, objects):
    changelist = reverse(f"admin:payments_{model._meta.model_name}_changelist")
    data = {"action": "push_to_stripe", "index": 0, "_selected_action": [str(o.pk) for o in objects]}
    response = client.post(changelist, data, follow=True)
    assert response.status_code == 200
    return [(m.level, m.message) for m in response.context["messages"]]


def test_push_tiers_with_their_prices(admin_client, catalog, emulator):
    basic = catalog["basic"]
    shown = push(admin_client, Tier, [basic])
    basic.refresh_from_db()
    assert (SUCCESS, f"tier {basic.pk} (automated): product created - {basic.stripe_product_id}") in shown
    assert len([m for m in shown if "price created" in m[1]]) == 2
    assert emulator.retrieve(basic.stripe_product_id)["name"] == "Automated"
    assert all(p.stripe_price_id for p in basic.prices.all())
    assert not Tier.objects.get(pk=catalog["full"].pk).stripe_product_id  # not selected


def test_push_an_edited_price(admin_client, catalog, emulator):
    price = catalog["basic_eur"]
    push(admin_client, Price, [price])
    old = Price.objects.get(pk=price.pk).stripe_price_id
    Price.objects.filter(pk=price.pk).update(unit_amount=1299)
    shown = push(admin_client, Price, [price])
    new = Price.objects.get(pk=price.pk).stripe_price_id
    assert shown == [(SUCCESS, f"price {price.pk} (Automated €12.99): price replaced - {old} -> {new} (unit_amount changed); {old} deactivated")]
    assert emulator.retrieve(old)["active"] is False and emulator.retrieve(new)["unit_amount"] == 1299


def test_errors_show_the_message_never_a_traceback(admin_client, catalog, emulator):
    emulator.inject_fault("connection_error", times=10)
    shown = push(admin_client, Price, [catalog["basic_eur"], catalog["basic_usd"]])
    assert [level for level, _ in shown] == [ERROR, ERROR]
    assert all("Stripe is unreachable right now" in text and "Traceback" not in text for _, text in shown)
    assert not Price.objects.exclude(stripe_price_id=None).exists()


@pytest.mark.parametrize("model", [Tier, Price], ids=lambda m: m.__name__)
def test_only_who_may_change_the_catalog_may_push(client, staff_user, catalog, emulator, model):
    """A view-only staff user neither sees the action nor can post it (nothing reaches
    Stripe); with the change permission it is offered and works."""
    from django.contrib.auth.models import Permission

    name = model._meta.model_name
    rows = [catalog["basic"]] if model is Tier else [catalog["basic_eur"]]
    staff_user.user_permissions.add(Permission.objects.get(codename=f"view_{name}"))
    client.force_login(staff_user)
    changelist = reverse(f"admin:payments_{name}_changelist")
    assert "push_to_stripe" not in client.get(changelist).content.decode()
    assert not [m for m in push(client, model, rows) if m[0] == SUCCESS]  # posted anyway: not run
    assert emulator.events() == [] and not Tier.objects.exclude(stripe_product_id=None).exists()

    staff_user.user_permissions.add(Permission.objects.get(codename=f"change_{name}"))
    assert "push_to_stripe" in client.get(changelist).content.decode()
    shown = push(client, model, rows)
    assert shown and all(level == SUCCESS for level, _ in shown), shown
    assert Tier.objects.get(pk=catalog["basic"].pk).stripe_product_id
