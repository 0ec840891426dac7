"""Trials and SetupIntents, through the real stripe library: a price's
trial_period_days, a trialing subscription with a zero first invoice and a pending
SetupIntent confirmed with a publishable key, the reminders, the trial's end."""

from __future__ import annotations

import pytest
import stripe

from stripe_emulator.inprocess import HTTPClient


@pytest.fixture
def client(emulator) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_emulator", max_network_retries=0, http_client=HTTPClient(emulator))


@pytest.fixture
def browser(emulator) -> stripe.StripeClient:
    """What Stripe.js holds: the publishable key."""
    return stripe.StripeClient("pk_test_emulator", max_network_retries=0, http_client=HTTPClient(emulator))


def trial_price(client, days=14, amount=900):
    product = client.v1.products.create(params={"name": "Premium"})
    return client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "eur",
            "unit_amount": amount,
            "recurring": {"interval": "month", "trial_period_days": days},
        }
    )


def trialing(client, price, **extra):
    """As the product starts one: default_incomplete, saving the card on the subscription."""
    customer = client.v1.customers.create(params={"email": "t@example.com"})
    return client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            "payment_behavior": "default_incomplete",
            "payment_settings": {"save_default_payment_method": "on_subscription"},
            "trial_from_plan": True,
            "expand": ["latest_invoice.payments", "pending_setup_intent"],
            **extra,
        }
    )


def types(emulator, since=0):
    return [stored.event["type"] for stored in emulator.events()][since:]


def test_a_price_carries_its_trial_days_and_refuses_a_bad_one(client):
    price = trial_price(client, days=14)
    assert price.recurring.trial_period_days == 14
    assert client.v1.prices.retrieve(price.id).recurring.trial_period_days == 14
    product = client.v1.products.create(params={"name": "X"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.prices.create(
            params={
                "product": product.id, "currency": "eur", "unit_amount": 1,
                "recurring": {"interval": "month", "trial_period_days": 0},
            }
        )
    assert info.value.param == "recurring[trial_period_days]"


def test_a_trial_starts_trialing_with_a_zero_invoice_paid_at_once_and_a_pending_setup_intent(client, emulator):
    price = trial_price(client, days=14)
    sub = trialing(client, price)
    assert sub.status == "trialing"
    assert sub.trial_end - sub.trial_start == 14 * 86400
    item = sub["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (sub.trial_start, sub.trial_end)
    assert sub.billing_cycle_anchor == sub.trial_end
    invoice = sub.latest_invoice
    assert (invoice.status, invoice.amount_due, invoice.amount_paid) == ("paid", 0, 0)
    assert invoice.lines.data[0].description == "Trial period for Premium"
    assert invoice.payments.data == []  # nothing was charged: no PaymentIntent at all
    setup = sub.pending_setup_intent
    assert setup.object == "setup_intent" and setup.status == "requires_payment_method"
    assert setup.customer == sub.customer and setup.usage == "off_session"
    assert setup.client_secret.startswith(f"{setup.id}_secret_")
    assert types(emulator)[-6:] == [
        "setup_intent.created",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.payment_succeeded",
        "invoice.paid",
    ]
    assert not [t for t in types(emulator) if t.startswith(("payment_intent.", "charge."))]


def test_without_trial_from_plan_the_price_gives_no_trial_and_trial_period_days_gives_one(client):
    price = trial_price(client, days=14)
    customer = client.v1.customers.create()
    plain = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}], "payment_behavior": "default_incomplete"}
    )
    assert plain.status == "incomplete" and plain.trial_end is None and plain.pending_setup_intent is None
    seven = client.v1.subscriptions.create(
        params={
            "customer": customer.id, "items": [{"price": price.id}],
            "payment_behavior": "default_incomplete", "trial_period_days": 7,
        }
    )
    assert seven.status == "trialing" and seven.trial_end - seven.trial_start == 7 * 86400


def test_the_browser_confirms_the_setup_intent_with_its_client_secret_and_the_card_becomes_the_default(
    client, browser, emulator
):
    sub = trialing(client, trial_price(client))
    setup = sub.pending_setup_intent
    before = len(emulator.events())
    method = browser.v1.payment_methods.create(
        params={"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034}}
    )
    confirmed = browser.v1.setup_intents.confirm(
        setup.id, params={"payment_method": method.id, "client_secret": setup.client_secret}
    )
    assert confirmed.status == "succeeded" and confirmed.payment_method == method.id
    assert types(emulator, before) == [
        "payment_method.attached", "setup_intent.succeeded", "customer.subscription.updated",
    ]
    assert client.v1.payment_methods.retrieve(method.id).customer == sub.customer
    after = client.v1.subscriptions.retrieve(sub.id)
    assert after.default_payment_method == method.id and after.pending_setup_intent is None
    updated = emulator.events()[-1].event["data"]
    assert updated["previous_attributes"]["pending_setup_intent"] == setup.id


def test_a_publishable_key_needs_the_right_client_secret_and_may_do_nothing_else(client, browser):
    sub = trialing(client, trial_price(client))
    setup = sub.pending_setup_intent
    for secret in (None, "seti_other_secret_x"):
        params = {"payment_method": "pm_card_visa"} | ({"client_secret": secret} if secret else {})
        with pytest.raises(stripe.InvalidRequestError) as info:
            browser.v1.setup_intents.confirm(setup.id, params=params)
        assert info.value.param == "client_secret"
    with pytest.raises(stripe.AuthenticationError):
        browser.v1.subscriptions.retrieve(sub.id)
    with pytest.raises(stripe.AuthenticationError):
        browser.v1.customers.create()
    assert client.v1.setup_intents.retrieve(setup.id).status == "requires_payment_method"
    seen = browser.v1.setup_intents.retrieve(setup.id, params={"client_secret": setup.client_secret})
    assert seen.id == setup.id


def test_a_declined_card_fails_the_setup_and_3ds_asks_for_action(client, emulator):
    sub = trialing(client, trial_price(client))
    setup_id = sub.pending_setup_intent.id
    with pytest.raises(stripe.CardError) as info:
        client.v1.setup_intents.confirm(setup_id, params={"payment_method": "pm_card_chargeDeclined"})
    assert info.value.code == "card_declined"
    failed = client.v1.setup_intents.retrieve(setup_id)
    assert failed.status == "requires_payment_method" and failed.last_setup_error.code == "card_declined"
    assert types(emulator)[-1] == "setup_intent.setup_failed"
    assert client.v1.subscriptions.retrieve(sub.id).pending_setup_intent == setup_id

    result = emulator.confirm_setup(setup_id, "4000002500003155")
    assert result["error"] is None and result["setup_intent"]["status"] == "requires_action"
    assert emulator.authenticate_setup(setup_id)["setup_intent"]["status"] == "succeeded"
    assert client.v1.subscriptions.retrieve(sub.id).default_payment_method


def test_the_reminders_come_once_and_the_trial_end_charges_the_saved_card(client, emulator):
    price = trial_price(client, amount=900)
    sub = trialing(client, price)
    emulator.confirm_setup(sub.pending_setup_intent.id)
    before = len(emulator.events())
    emulator.approach_period_end(sub.id)
    emulator.approach_period_end(sub.id)  # the moment has passed: nothing more
    assert types(emulator, before) == ["customer.subscription.trial_will_end", "invoice.upcoming"]
    upcoming = emulator.events()[-1].event["data"]["object"]
    assert upcoming["id"] is None and upcoming["amount_due"] == 900
    assert upcoming["lines"]["data"][0]["period"]["start"] == sub.trial_end

    result = emulator.advance_subscription(sub.id)
    assert result["error"] is None
    ended = result["subscription"]
    assert ended["status"] == "active" and ended["trial_end"] == sub.trial_end
    item = ended["items"]["data"][0]
    assert item["current_period_start"] == sub.trial_end
    invoice = result["invoice"]
    assert (invoice["billing_reason"], invoice["status"], invoice["amount_paid"]) == ("subscription_cycle", "paid", 900)
    assert "customer.subscription.trial_will_end" not in types(emulator, before + 2)
    assert types(emulator)[-1] == "customer.subscription.updated"
    assert emulator.events()[-1].event["data"]["previous_attributes"]["status"] == "trialing"


def test_a_trial_ending_without_a_card_or_with_a_declined_one_goes_past_due(client, emulator):
    price = trial_price(client)
    no_card = trialing(client, price)
    before = len(emulator.events())
    result = emulator.advance_subscription(no_card.id)
    assert result["subscription"]["status"] == "past_due" and result["invoice"]["status"] == "open"
    assert types(emulator, before)[:2] == ["customer.subscription.trial_will_end", "invoice.upcoming"]
    assert "invoice.payment_failed" in types(emulator, before)

    declined = trialing(client, price)
    emulator.confirm_setup(declined.pending_setup_intent.id)
    result = emulator.advance_subscription(declined.id, succeed=False)
    assert result["subscription"]["status"] == "past_due"
    assert result["error"]["code"] == "card_declined"


def test_a_trial_canceled_at_period_end_ends_with_the_trial(client, emulator):
    sub = trialing(client, trial_price(client))
    client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert client.v1.subscriptions.retrieve(sub.id).cancel_at == sub.trial_end
    result = emulator.advance_subscription(sub.id)
    assert result["subscription"]["status"] == "canceled" and result["invoice"] is None
    assert "invoice.upcoming" not in types(emulator)
