"""The Django admin: every page renders, the ledger is read-only, search, filters,
a constant number of queries per list page, and the actions through the services."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events.models import Event
from payments.models import Customer, Payment, PaymentStatus, Price, Refund, Tier, Transaction, WebhookEvent
from payments.services.payments import PayableRef, create_payment_intent
from payments.services.refunds import refund_payment
from payments.webhooks import processing

LEDGER = [Customer, Payment, Refund, Transaction, WebhookEvent]
ALL_MODELS = [Tier, Price, *LEDGER, Event]


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def results(response) -> list:
    assert response.status_code == 200, response.status_code
    return list(response.context["cl"].result_list)


def grant(user, *codenames: str):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames, content_type__app_label="payments"))
    return user


def run_action(client: Client, model, action: str, objects, **extra):
    data = {"action": action, "index": 0, "_selected_action": [str(o.pk) for o in objects], **extra}
    return client.post(url(model, "changelist"), data, follow=True)


def shown_messages(response) -> list[str]:
    return [m.message for m in response.context["messages"]]


@pytest.fixture
def start(user, catalog):
    """A PaymentIntent for the user's event, not paid yet."""

    def make(price_key: str = "full_eur") -> Payment:
        event = Event.objects.create(user=user, title="Dentist")
        price = catalog[price_key]
        return create_payment_intent(user=user, price_id=str(price.pk), payable=PayableRef("event", str(event.pk))).payment

    return make


@pytest.fixture
def pay(start, emulator, deliver):
    """A payment of €29.99, paid with the emulator and confirmed by webhook."""

    def make(card: str = "4242424242424242") -> Payment:
        payment = start()
        emulator.pay(payment.stripe_payment_intent_id, card)
        assert all(code == 200 for _, code in deliver())
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.SUCCEEDED
        return payment

    return make


@pytest.fixture
def ledger(pay, admin_user, deliver):
    """A row in every ledger table: a paid payment refunded in part (€10.00), all events delivered."""
    payment = pay()
    refund_payment(actor=admin_user, payment_id=str(payment.pk), amount=1000)
    deliver()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert all(m.objects.exists() for m in LEDGER)
    return payment


# ---------------------------------------------------------------- pages


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_changelist_and_change_page_render(admin_client, ledger, model):
    assert admin_client.get(url(model, "changelist")).status_code == 200
    for obj in model.objects.all():
        assert admin_client.get(url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", [Tier, Price, Event], ids=lambda m: m.__name__)
def test_catalog_and_events_can_be_added(admin_client, db, model):
    assert admin_client.get(url(model, "add")).status_code == 200


def test_a_tier_is_edited_with_its_prices(admin_client, catalog):
    tier = catalog["basic"]
    response = admin_client.get(url(Tier, "change", tier.pk))
    assert "€9.99" in response.content.decode() and "$10.99" in response.content.decode()
    form = response.context["adminform"].form
    data = {name: form.initial.get(name, "") for name in ("slug", "name", "description", "position")}
    data |= {"manifest": '{"email": ["-1d"]}', "active": "on"}
    prices = list(tier.prices.all())
    data |= {
        "prices-TOTAL_FORMS": len(prices) + 1, "prices-INITIAL_FORMS": len(prices),
        "prices-MIN_NUM_FORMS": 0, "prices-MAX_NUM_FORMS": 1000,
    }
    for i, price in enumerate(prices):
        data |= {f"prices-{i}-id": price.pk, f"prices-{i}-tier": tier.pk, f"prices-{i}-currency": price.currency,
                 f"prices-{i}-unit_amount": price.unit_amount, f"prices-{i}-type": price.type, f"prices-{i}-active": "on"}
    n = len(prices)
    data |= {f"prices-{n}-tier": tier.pk, f"prices-{n}-currency": "jpy", f"prices-{n}-unit_amount": 500,
             f"prices-{n}-type": "one_time", f"prices-{n}-active": "on"}
    response = admin_client.post(url(Tier, "change", tier.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    assert tier.prices.get(currency="jpy").display == "¥500"
    assert Tier.objects.get(pk=tier.pk).manifest == {"email": ["-1d"]}


# -------------------------------------------------------- the ledger is read-only


@pytest.mark.parametrize("model", LEDGER, ids=lambda m: m.__name__)
def test_ledger_rows_cannot_be_added_changed_or_deleted(admin_client, ledger, model):
    obj = model.objects.first()
    before = model.objects.filter(pk=obj.pk).values().get()
    assert admin_client.get(url(model, "add")).status_code == 403
    assert admin_client.post(url(model, "add"), {"amount": 1}).status_code == 403
    tampered = {"status": "failed", "amount": 1, "currency": "usd", "stripe_customer_id": "cus_evil", "net": 0}
    assert admin_client.post(url(model, "change", obj.pk), tampered).status_code == 403
    assert admin_client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).values().get() == before
    page = admin_client.get(url(model, "change", obj.pk))
    assert page.context["has_change_permission"] is False and 'name="_save"' not in page.content.decode()
    assert "delete_selected" not in admin_client.get(url(model, "changelist")).context["cl"].model_admin.get_actions(
        page.wsgi_request
    )


def test_staff_with_the_view_permission_may_look(ledger, staff_user):
    client = Client()
    client.force_login(staff_user)
    assert client.get(url(Payment, "changelist")).status_code == 403
    grant(staff_user, "view_payment", "view_refund", "view_transaction")
    assert [p.pk for p in results(client.get(url(Payment, "changelist")))] == [ledger.pk]
    page = client.get(url(Payment, "change", ledger.pk))
    assert page.status_code == 200 and "€29.99" in page.content.decode()
    assert client.post(url(Payment, "change", ledger.pk), {"status": "failed"}).status_code == 403


# ------------------------------------------------------------ list pages


def test_money_is_formatted_on_the_payment_list(admin_client, ledger):
    content = admin_client.get(url(Payment, "changelist")).content.decode()
    assert "€29.99" in content and "€10.00" in content  # amount, refunded


def test_the_payment_page_links_its_user_price_refunds_and_transactions(admin_client, ledger, user):
    content = admin_client.get(url(Payment, "change", ledger.pk)).content.decode()
    assert reverse("admin:auth_user_change", args=[user.pk]) in content
    assert url(Price, "change", ledger.price_id) in content
    assert url(Tier, "change", ledger.tier_id) in content
    assert url(Refund, "change", Refund.objects.get().pk) in content
    for txn in Transaction.objects.all():
        assert url(Transaction, "change", txn.pk) in content
    refund_page = admin_client.get(url(Refund, "change", Refund.objects.get().pk)).content.decode()
    assert url(Payment, "change", ledger.pk) in refund_page


def test_a_webhook_event_links_to_its_payment_on_its_page(admin_client, ledger):
    for type_ in ("payment_intent.succeeded", "refund.created"):
        event = WebhookEvent.objects.get(type=type_)
        content = admin_client.get(url(WebhookEvent, "change", event.pk)).content.decode()
        assert url(Payment, "change", ledger.pk) in content, type_


def test_search_by_stripe_ids_email_username_and_our_id(admin_client, ledger, user):
    pi = ledger.stripe_payment_intent_id
    refund = Refund.objects.get()
    charge = Transaction.objects.get(type="charge")
    customer = Customer.objects.get(user=user)
    searches = {
        Payment: [pi, user.email, user.username, customer.stripe_customer_id, str(ledger.pk)],
        Refund: [refund.stripe_refund_id, pi, user.email, str(ledger.pk)],
        Transaction: [charge.stripe_balance_transaction_id, user.username],
        Customer: [customer.stripe_customer_id, user.email, user.username],
        WebhookEvent: [WebhookEvent.objects.first().stripe_event_id, pi],
    }
    for model, terms in searches.items():
        for term in terms:
            found = results(admin_client.get(url(model, "changelist"), {"q": term}))
            assert found, (model.__name__, term)
        assert results(admin_client.get(url(model, "changelist"), {"q": "nobody@nowhere.test"})) == []
    assert results(admin_client.get(url(Payment, "changelist"), {"q": pi})) == [ledger]
    assert results(admin_client.get(url(Transaction, "changelist"), {"q": charge.stripe_balance_transaction_id})) == [charge]


def test_filters(admin_client, ledger, user, catalog):
    Payment.objects.create(user=user, price=catalog["basic_usd"], tier=catalog["basic"], amount=1099, currency="usd")
    payments = url(Payment, "changelist")
    assert results(admin_client.get(payments, {"status__exact": "partially_refunded"})) == [ledger]
    assert [p.currency for p in results(admin_client.get(payments, {"currency": "usd"}))] == ["usd"]
    assert len(results(admin_client.get(payments, {"tier__id__exact": catalog["full"].pk}))) == 1
    year = ledger.created_at.year
    assert len(results(admin_client.get(payments, {"created_at__year": year}))) == 2
    assert results(admin_client.get(payments, {"created_at__year": year - 1})) == []
    past = {"created_at__gte": "2000-01-01 00:00:00+00:00", "created_at__lt": "2001-01-01 00:00:00+00:00"}
    assert results(admin_client.get(payments, past)) == []

    assert len(results(admin_client.get(url(Refund, "changelist"), {"status__exact": "succeeded"}))) == 1
    assert results(admin_client.get(url(Refund, "changelist"), {"status__exact": "failed"})) == []
    assert [t.type for t in results(admin_client.get(url(Transaction, "changelist"), {"type__exact": "refund"}))] == ["refund"]
    assert len(results(admin_client.get(url(Transaction, "changelist"), {"currency": "eur"}))) == 2

    events = url(WebhookEvent, "changelist")
    total = WebhookEvent.objects.count()
    assert len(results(admin_client.get(events, {"livemode__exact": 0}))) == total
    assert results(admin_client.get(events, {"livemode__exact": 1})) == []
    assert len(results(admin_client.get(events, {"status__exact": "processed"}))) == WebhookEvent.objects.filter(
        status="processed"
    ).count()
    assert [e.type for e in results(admin_client.get(events, {"type": "refund.created"}))] == ["refund.created"]


# ----------------------------------------------------- constant queries


def make_rows(n: int, start: int, catalog) -> None:
    """``n`` rows of every model, each with its own user, written directly."""
    from django.contrib.auth import get_user_model

    price = catalog["full_eur"]
    for i in range(start, start + n):
        user = get_user_model().objects.create_user(f"user{i}", email=f"user{i}@example.com")
        Customer.objects.create(user=user, stripe_customer_id=f"cus_{i}")
        Event.objects.create(user=user, title=f"event {i}", tier=price.tier, is_active=True)
        tier = Tier.objects.create(slug=f"tier-{i}", name=f"Tier {i}")
        Price.objects.create(tier=tier, currency="jpy", unit_amount=500 + i)
        payment = Payment.objects.create(
            user=user, price=price, tier=price.tier, amount=2999, currency="eur",
            status=PaymentStatus.PARTIALLY_REFUNDED, amount_refunded=1000, stripe_payment_intent_id=f"pi_{i}",
        )
        refund = Refund.objects.create(
            payment=payment, amount=1000, currency="eur", status="succeeded", stripe_refund_id=f"re_{i}", requested_by=user
        )
        when = datetime(2026, 1, 1 + i % 28, tzinfo=timezone.utc)
        Transaction.objects.create(payment=payment, type="charge", currency="eur", gross=2999, fee=117, net=2882,
                                   stripe_balance_transaction_id=f"txn_c{i}", occurred_at=when)
        Transaction.objects.create(payment=payment, refund=refund, type="refund", currency="eur", gross=-1000, fee=0,
                                   net=-1000, stripe_balance_transaction_id=f"txn_r{i}", occurred_at=when)
        WebhookEvent.objects.create(
            stripe_event_id=f"evt_{i}", type="payment_intent.succeeded", stripe_created=when,
            payload={"id": f"evt_{i}", "data": {"object": {"id": f"pi_{i}", "object": "payment_intent"}}},
        )


def count_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_list_pages_run_the_same_number_of_queries_for_1_and_20_rows(admin_client, catalog):
    paths = [url(model, "changelist") for model in ALL_MODELS]
    make_rows(1, 0, catalog)
    for path in paths:
        admin_client.get(path)  # warm caches (content types, sessions)
    one = {path: count_queries(admin_client, path) for path in paths}
    make_rows(19, 1, catalog)
    twenty = {path: count_queries(admin_client, path) for path in paths}
    assert twenty == one
    assert len(results(admin_client.get(url(Transaction, "changelist")))) == 40


# ---------------------------------------------------------------- actions


def test_refresh_from_stripe_applies_a_webhook_that_never_came(admin_client, start, emulator):
    payment = start()
    emulator.pay(payment.stripe_payment_intent_id)  # Stripe took the money; no webhook delivered
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING
    response = run_action(admin_client, Payment, "refresh_from_stripe", [payment])
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SUCCEEDED
    assert shown_messages(response) == [f"Payment {payment.pk}: pending → succeeded"]


def test_refresh_shows_the_service_error_not_a_traceback(admin_client, start, emulator):
    payment = start()
    emulator.inject_fault("connection_error")
    response = run_action(admin_client, Payment, "refresh_from_stripe", [payment])
    assert response.status_code == 200
    [message] = shown_messages(response)
    assert message.startswith(f"Payment {payment.pk}: Stripe is unreachable right now")
    assert "Traceback" not in response.content.decode()


def test_reprocess_a_failed_event_once_its_cause_is_fixed(admin_client, start, emulator, deliver):
    payment = start()
    emulator.pay(payment.stripe_payment_intent_id)

    def broken(event):
        raise RuntimeError("database hiccup")

    with mock.patch.dict(processing.HANDLERS, {"payment_intent.succeeded": broken}):
        deliver()
        event = WebhookEvent.objects.get(type="payment_intent.succeeded")
        assert event.status == WebhookEvent.Status.FAILED
        again = run_action(admin_client, WebhookEvent, "reprocess", [event])
        assert shown_messages(again) == [f"{event.stripe_event_id}: failed again: RuntimeError: database hiccup"]
        assert "Traceback" not in again.content.decode()
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING

    processed = WebhookEvent.objects.exclude(pk=event.pk).first()
    response = run_action(admin_client, WebhookEvent, "reprocess", [event, processed])
    event.refresh_from_db()
    assert (event.status, event.attempts, event.last_error) == ("processed", 3, "")
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SUCCEEDED
    assert sorted(shown_messages(response)) == sorted([
        f"{event.stripe_event_id}: processed",
        f"{processed.stripe_event_id}: skipped, already {processed.status}",
    ])


@pytest.fixture
def refunder(staff_user):
    return grant(staff_user, "add_refund", "view_payment", "view_refund", "view_transaction")


def test_refund_in_full_after_confirmation(refunder, pay, emulator):
    payment = pay()
    client = Client()
    client.force_login(refunder)
    page = run_action(client, Payment, "refund_in_full", [payment])
    assert "Refund in full?" in page.content.decode() and "€29.99" in page.content.decode()
    assert not Refund.objects.exists()  # nothing before the confirmation

    # The confirmation page's own form posts the action back with confirm=yes.
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.content.decode()))
    assert form["confirm"] == "yes" and form["_selected_action"] == str(payment.pk)
    response = client.post(url(Payment, "changelist"), form, follow=True)
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.REFUNDED, 2999)
    refund = Refund.objects.get()
    assert (refund.amount, refund.requested_by, refund.status) == (2999, refunder, Refund.Status.SUCCEEDED)
    assert shown_messages(response) == [f"Payment {payment.pk}: refund of €29.99 succeeded; payment refunded"]

    # Again: nothing is left; the service's message is shown.
    response = run_action(client, Payment, "refund_in_full", [payment], confirm="yes")
    assert shown_messages(response) == [
        f"Payment {payment.pk}: Only a succeeded payment that is not fully refunded can be refunded."
    ]
    assert Refund.objects.count() == 1


def test_refund_in_full_is_absent_without_the_permission(staff_user, pay):
    payment = pay()
    grant(staff_user, "view_payment")
    client = Client()
    client.force_login(staff_user)
    page = client.get(url(Payment, "changelist"))
    actions = [name for name, _ in page.context["action_form"].fields["action"].choices]
    assert "refresh_from_stripe" in actions and "refund_in_full" not in actions
    run_action(client, Payment, "refund_in_full", [payment], confirm="yes")
    assert not Refund.objects.exists()
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SUCCEEDED


# ------------------------------------------------------- subscriptions, invoices


@pytest.fixture
def subscribed(user, catalog, emulator, deliver):
    """An ACTIVE subscription with its paid first invoice."""
    from payments.models import Subscription
    from payments.services.subscriptions import create_subscription

    subscription = create_subscription(user=user, price_id=str(catalog["full_monthly"].pk)).subscription
    emulator.pay(Payment.objects.get(payable_type="subscription").stripe_payment_intent_id)
    assert all(code == 200 for _, code in deliver())
    return Subscription.objects.get(pk=subscription.pk)


def test_subscription_and_invoice_pages_are_read_only_and_list_in_fixed_queries(admin_client, subscribed, django_user_model, catalog):
    from payments.models import Invoice, Subscription

    assert subscribed.status == "active"
    for model in (Subscription, Invoice):
        assert admin_client.get(url(model, "add")).status_code == 403
        for obj in model.objects.all():
            assert admin_client.get(url(model, "change", obj.pk)).status_code == 200
    assert "€19.99" in admin_client.get(url(Invoice, "changelist")).content.decode()
    paths = [url(Subscription, "changelist"), url(Invoice, "changelist")]
    one = {path: count_queries(admin_client, path) for path in paths}
    for i in range(19):
        other = django_user_model.objects.create_user(f"u{i}")
        sub = Subscription.objects.create(user=other, price=catalog["full_monthly"], tier=catalog["full"], stripe_subscription_id=f"sub_{i}")
        Invoice.objects.create(user=other, subscription=sub, stripe_invoice_id=f"in_{i}", currency="eur",
                               amount_due=1999, created_at=subscribed.created_at)
    assert {path: count_queries(admin_client, path) for path in paths} == one


def test_refresh_a_subscription_from_stripe(admin_client, subscribed, emulator):
    from payments.models import Subscription

    emulator.advance_subscription(subscribed.stripe_subscription_id, succeed=False)  # no webhook delivered
    response = run_action(admin_client, Subscription, "refresh_from_stripe", [subscribed])
    assert Subscription.objects.get(pk=subscribed.pk).status == "past_due"
    assert shown_messages(response) == [f"Subscription {subscribed.pk}: active → past_due"]
