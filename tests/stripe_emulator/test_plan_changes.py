"""A plan change in the emulator, driven through the real stripe library: the
invoice preview's proration arithmetic to the second, the always_invoice update
and its pending update (3-D Secure, a decline, expiry), downgrade credit as
customer balance, another interval, and what Stripe refuses."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_emulator.billing_objects import add_interval
from stripe_emulator.inprocess import HTTPClient
from stripe_emulator.plan_changes import PENDING_UPDATE_SECONDS
from stripe_emulator.proration import prorate

THREE_D_SECURE, DECLINES = "4000002500003155", "4000000000000002"


@pytest.fixture
def client(emulator) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_emulator", max_network_retries=0, http_client=HTTPClient(emulator)
    )


class Plans:
    """Basic (€20 / month), Premium (€50 / month), Elite (€500 / year), and a subscriber."""

    def __init__(self, client: stripe.StripeClient, emulator) -> None:
        self.client, self.emulator = client, emulator
        self.basic = self.price("Basic", 2000)
        self.premium = self.price("Premium", 5000)
        self.elite = self.price("Elite", 50000, interval="year")

    def price(self, name: str, amount: int, *, interval: str = "month", currency: str = "eur"):
        product = self.client.v1.products.create(params={"name": name})
        return self.client.v1.prices.create(
            params={
                "product": product.id,
                "currency": currency,
                "unit_amount": amount,
                "recurring": {"interval": interval},
            }
        )

    def subscriber(self, card: str = "4242424242424242", *, default: str | None = None):
        """An active subscription to Basic whose first invoice ``card`` paid; its renewals
        and changes are charged to that card, or to ``default`` when given."""
        customer = self.client.v1.customers.create(params={"email": "s@example.com"})
        params: dict[str, Any] = {
            "customer": customer.id,
            "items": [{"price": self.basic.id}],
            "payment_behavior": "default_incomplete",
            "payment_settings": {
                "save_default_payment_method": "off" if default else "on_subscription"
            },
            "expand": ["latest_invoice.payments"],
        }
        if default:
            params["default_payment_method"] = default
        sub = self.client.v1.subscriptions.create(params=params)
        intent_id = sub.latest_invoice.payments.data[0].payment.payment_intent
        paid = self.emulator.pay(intent_id, card)
        if paid["payment_intent"]["status"] == "requires_action":
            self.emulator.authenticate(intent_id)
        sub = self.client.v1.subscriptions.retrieve(sub.id)
        assert sub.status == "active"
        return sub

    def change(self, sub, price, **params: Any):
        return self.client.v1.subscriptions.update(
            sub.id,
            params={
                "items": [{"id": sub["items"].data[0].id, "price": price.id}],
                "proration_behavior": "always_invoice",
                "payment_behavior": "pending_if_incomplete",
                "expand": ["latest_invoice.confirmation_secret", "latest_invoice.payments"],
                **params,
            },
        )

    def preview(self, sub, price, **details: Any):
        return self.client.v1.invoices.create_preview(
            params={
                "subscription": sub.id,
                "subscription_details": {
                    "items": [{"id": sub["items"].data[0].id, "price": price.id}],
                    "proration_behavior": "always_invoice",
                    **details,
                },
            }
        )

    def types_since(self, count: int) -> list[str]:
        return [stored.event["type"] for stored in self.emulator.events()][count:]


@pytest.fixture
def plans(client, emulator) -> Plans:
    return Plans(client, emulator)


def period(sub) -> tuple[int, int]:
    item = sub["items"].data[0]
    return item.current_period_start, item.current_period_end


def proration_lines(invoice) -> list[tuple[int, bool, str, int, int]]:
    return [
        (
            line.amount,
            line.parent.subscription_item_details.proration,
            line.pricing.price_details.price,
            line.period.start,
            line.period.end,
        )
        for line in invoice.lines.data
    ]


# ------------------------------------------------------------- preview


def test_the_preview_prorates_to_the_second_and_changes_nothing(plans, emulator):
    sub = plans.subscriber()
    start, end = period(sub)
    at = start + 777_777  # nine days and a bit into the month
    events, before = len(emulator.events()), emulator.retrieve(sub.id)

    preview = plans.preview(sub, plans.premium, proration_date=at)

    credit = -((2 * 2000 * (end - at) + (end - start)) // (2 * (end - start)))
    debit = (2 * 5000 * (end - at) + (end - start)) // (2 * (end - start))
    assert credit == -prorate(2000, end - at, end - start) and debit > -credit
    assert proration_lines(preview) == [
        (credit, True, plans.basic.id, at, end),
        (debit, True, plans.premium.id, at, end),
    ]
    assert preview.amount_due == preview.total == credit + debit
    assert preview.parent.subscription_details.subscription_proration_date == at
    assert preview.parent.subscription_details.subscription == sub.id
    assert preview.billing_reason == "subscription_update" and preview.status == "draft"
    assert preview.id.startswith("upcoming_in_")
    assert preview.lines.data[0].description.startswith("Unused time on Basic after ")
    assert preview.lines.data[1].description.startswith("Remaining time on Premium after ")
    assert len(emulator.events()) == events and emulator.retrieve(sub.id) == before
    with pytest.raises(KeyError):
        emulator.retrieve(preview.id)


def test_the_preview_without_a_date_prorates_from_now(plans):
    sub = plans.subscriber()
    preview = plans.preview(sub, plans.premium)
    start, end = period(sub)
    at = preview.parent.subscription_details.subscription_proration_date
    assert start <= at < end
    assert preview.amount_due == prorate(5000, end - at, end - start) - prorate(
        2000, end - at, end - start
    )


# ------------------------------------------------------------ upgrade


def test_an_upgrade_charges_the_preview_and_moves_the_item(plans, emulator):
    sub = plans.subscriber()
    at = period(sub)[0] + 3600
    preview = plans.preview(sub, plans.premium, proration_date=at)
    events = len(emulator.events())

    changed = plans.change(sub, plans.premium, proration_date=at)

    assert changed["items"].data[0].price.id == plans.premium.id
    assert changed["items"].data[0].id == sub["items"].data[0].id
    assert period(changed) == period(sub) and changed.pending_update is None
    invoice = changed.latest_invoice
    assert invoice.billing_reason == "subscription_update" and invoice.status == "paid"
    assert invoice.amount_paid == invoice.amount_due == preview.amount_due
    assert [line[:3] for line in proration_lines(invoice)] == [
        line[:3] for line in proration_lines(preview)
    ]
    intent = plans.client.v1.payment_intents.retrieve(
        invoice.payments.data[0].payment.payment_intent
    )
    assert intent.amount == preview.amount_due and intent.payment_method == sub.default_payment_method
    assert plans.types_since(events) == [
        "invoice.created",
        "invoice.finalized",
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice.payment_succeeded",
        "invoice.paid",
        "customer.subscription.updated",
    ]
    updated = emulator.events()[-1].event["data"]
    assert updated["previous_attributes"]["items"]["data"][0]["price"]["id"] == plans.basic.id
    # the renewal bills the new price
    renewal = emulator.advance_subscription(sub.id)["invoice"]
    assert renewal["amount_due"] == 5000 and renewal["status"] == "paid"


def test_three_d_secure_leaves_a_pending_update_that_its_payment_applies(plans, emulator):
    sub = plans.subscriber(THREE_D_SECURE)
    changed = plans.change(sub, plans.premium)

    assert changed["items"].data[0].price.id == plans.basic.id  # the old plan, until paid
    pending = changed.pending_update
    assert pending.subscription_items[0].price.id == plans.premium.id
    # 23 hours on, the period ending later
    assert abs(pending.expires_at - (changed.latest_invoice.created + PENDING_UPDATE_SECONDS)) <= 2
    invoice = changed.latest_invoice
    assert invoice.status == "open" and changed.status == "active"
    intent_id = invoice.payments.data[0].payment.payment_intent
    intent = plans.client.v1.payment_intents.retrieve(intent_id)
    assert intent.status == "requires_action"
    assert invoice.confirmation_secret.client_secret == intent.client_secret
    last = emulator.events()[-1].event
    assert last["type"] == "customer.subscription.updated"
    assert last["data"]["object"]["pending_update"] is not None

    events = len(emulator.events())
    emulator.authenticate(intent_id)
    applied = plans.client.v1.subscriptions.retrieve(sub.id)
    assert applied["items"].data[0].price.id == plans.premium.id and applied.pending_update is None
    assert plans.types_since(events)[-2:] == [
        "customer.subscription.pending_update_applied",
        "customer.subscription.updated",
    ]


def test_a_declined_upgrade_keeps_the_old_plan_and_a_good_card_applies_it(plans, emulator):
    sub = plans.subscriber(default="pm_card_chargeDeclined")
    changed = plans.change(sub, plans.premium)
    assert changed["items"].data[0].price.id == plans.basic.id
    assert changed.status == "active"  # a pending update's failure is no past_due
    assert changed.pending_update is not None and changed.latest_invoice.status == "open"
    intent_id = changed.latest_invoice.payments.data[0].payment.payment_intent
    assert plans.client.v1.payment_intents.retrieve(intent_id).status == "requires_payment_method"

    assert emulator.pay(intent_id, DECLINES)["error"]["code"] == "card_declined"
    assert plans.client.v1.subscriptions.retrieve(sub.id).pending_update is not None
    assert emulator.pay(intent_id)["error"] is None
    applied = plans.client.v1.subscriptions.retrieve(sub.id)
    assert applied["items"].data[0].price.id == plans.premium.id and applied.pending_update is None
    assert applied.status == "active"


@pytest.mark.parametrize("how", ["expire", "advance"])
def test_an_expired_pending_update_voids_its_invoice_and_keeps_the_plan(plans, emulator, how):
    sub = plans.subscriber(default="pm_card_chargeDeclined")
    changed = plans.change(sub, plans.premium)
    invoice_id = changed.latest_invoice.id
    intent_id = changed.latest_invoice.payments.data[0].payment.payment_intent
    events = len(emulator.events())

    if how == "expire":
        result = emulator.expire_pending_update(sub.id)
    else:
        result = emulator.advance_subscription(sub.id, succeed=True)
    assert result["subscription"]["pending_update"] is None
    assert result["subscription"]["items"]["data"][0]["price"]["id"] == plans.basic.id
    assert emulator.retrieve(invoice_id)["status"] == "void"
    intent = emulator.retrieve(intent_id)
    assert (intent["status"], intent["cancellation_reason"]) == ("canceled", "void_invoice")
    assert plans.types_since(events)[:4] == [
        "payment_intent.canceled",
        "invoice.voided",
        "customer.subscription.pending_update_expired",
        "customer.subscription.updated",
    ]
    assert emulator.pay(intent_id)["error"]["code"] == "payment_intent_unexpected_state"
    assert emulator.expire_pending_update(sub.id)["error"]["message"].endswith("no pending update.")


# ---------------------------------------------------------- downgrade


def test_a_downgrade_becomes_customer_credit_that_the_renewal_uses(plans, emulator):
    sub = plans.change(plans.subscriber(), plans.premium)  # now on Premium
    at = period(sub)[0] + 20 * 86400
    preview = plans.preview(sub, plans.basic, proration_date=at)
    start, end = period(sub)
    total = prorate(2000, end - at, end - start) - prorate(5000, end - at, end - start)
    assert total < 0 and preview.total == total and preview.amount_due == 0

    changed = plans.change(sub, plans.basic, proration_date=at)
    invoice = changed.latest_invoice
    assert changed["items"].data[0].price.id == plans.basic.id and changed.pending_update is None
    assert (invoice.status, invoice.amount_due, invoice.amount_paid) == ("paid", 0, 0)
    assert (invoice.starting_balance, invoice.ending_balance) == (0, total)
    assert invoice.payments.data == []  # nothing to collect: no PaymentIntent
    customer = plans.client.v1.customers.retrieve(sub.customer)
    assert customer.balance == total

    renewal = emulator.advance_subscription(sub.id)["invoice"]
    assert renewal["starting_balance"] == total and renewal["amount_due"] == 2000 + total
    assert renewal["status"] == "paid"
    assert plans.client.v1.customers.retrieve(sub.customer).balance == 0


def test_another_interval_restarts_the_cycle_and_charges_a_whole_period(plans):
    sub = plans.subscriber()
    start, end = period(sub)
    at = start + 86400
    changed = plans.change(sub, plans.elite, proration_date=at)
    credit = -prorate(2000, end - at, end - start)
    assert proration_lines(changed.latest_invoice) == [
        (credit, True, plans.basic.id, at, end),
        (50000, False, plans.elite.id, at, add_interval(at, "year", 1)),
    ]
    assert changed.latest_invoice.amount_paid == 50000 + credit
    assert period(changed) == (at, add_interval(at, "year", 1))
    assert changed.billing_cycle_anchor == at


# ------------------------------------------------------------ refusals


def test_what_stripe_refuses_changes_nothing(plans, emulator):
    sub = plans.subscriber()
    dollars = plans.price("Dollar", 5000, currency="usd")
    one_time = plans.client.v1.prices.create(
        params={"product": plans.basic.product, "currency": "eur", "unit_amount": 900}
    )
    events = len(emulator.events())
    with pytest.raises(stripe.InvalidRequestError) as currency:
        plans.change(sub, dollars)
    assert currency.value.param == "items[0][price]" and "`eur`" in currency.value.user_message
    with pytest.raises(stripe.InvalidRequestError) as kind:
        plans.change(sub, one_time)
    assert "type=one_time" in kind.value.user_message
    with pytest.raises(stripe.InvalidRequestError) as late:
        plans.change(sub, plans.premium, proration_date=period(sub)[1])
    assert late.value.param == "proration_date"
    with pytest.raises(stripe.InvalidRequestError) as metadata:
        plans.change(sub, plans.premium, metadata={"a": "1"})
    assert "pending_if_incomplete" in metadata.value.user_message
    with pytest.raises(stripe.InvalidRequestError) as behavior:
        plans.change(sub, plans.premium, proration_behavior="create_prorations")
    assert behavior.value.code == "parameter_not_emulated"
    with pytest.raises(stripe.InvalidRequestError) as later:
        plans.preview(sub, plans.premium, proration_behavior="create_prorations")
    assert (later.value.code, later.value.param) == (
        "parameter_not_emulated", "subscription_details[proration_behavior]"
    )
    with pytest.raises(stripe.InvalidRequestError) as upcoming:
        plans.client.v1.invoices.create_preview(params={"customer": sub.customer})
    assert upcoming.value.code == "parameter_not_emulated"
    assert len(emulator.events()) == events

    plans.client.v1.subscriptions.cancel(sub.id)
    with pytest.raises(stripe.InvalidRequestError) as ended:
        plans.change(sub, plans.premium)
    assert "canceled subscription" in ended.value.user_message


def test_the_same_price_changes_nothing(plans, emulator):
    sub = plans.subscriber()
    events = len(emulator.events())
    same = plans.change(sub, plans.basic)
    assert same.latest_invoice.id == sub.latest_invoice and len(emulator.events()) == events


def test_the_default_payment_method_can_be_replaced(plans, emulator):
    sub = plans.subscriber()
    updated = plans.client.v1.subscriptions.update(sub.id, params={"default_payment_method": "pm_card_chargeDeclined"})
    assert updated.default_payment_method != sub.default_payment_method
    changed = plans.change(updated, plans.premium)
    assert changed.pending_update is not None  # the new card declines the proration
