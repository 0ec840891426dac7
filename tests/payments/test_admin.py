"""The Django admin: every page renders, the ledger is read-only, search, filters,
a constant number of queries per list page, and the actions through the services."""

from __future__ import annotations

import re
import uuid
from contextlib import ExitStack
from datetime import datetime, timezone
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events.models import Event
from payments.models import (
    Customer,
    Invoice,
    Payment,
    PaymentStatus,
    Price,
    Refund,
    Subscription,
    Tier,
    Transaction,
    WebhookEvent,
)
from payments.services.payments import PayableRef, create_payment_intent
from payments.services.refunds import refund_payment
from payments.services.subscriptions import create_subscription
from payments.webhooks import processing

# The one-time payments' ledger (the ``ledger`` fixture), then the subscriptions' (``subscribed``).
PAYMENT_LEDGER = [Customer, Payment, Refund, Transaction, WebhookEvent]
LEDGER = [*PAYMENT_LEDGER, Subscription, Invoice]
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


def offered_actions(client: Client, model) -> list[str]:
    """The actions the changelist's action menu offers this user."""
    page = client.get(url(model, "changelist"))
    assert page.status_code == 200
    form = page.context["action_form"]
    return [] if form is None else [name for name, _ in form.fields["action"].choices if name]


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


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
def ledger(pay, admin_user, deliver, ledger_at_once):
    """A row in every ledger table: a paid payment refunded in part (€10.00), all events delivered
    (the ledger's rows completed, as after a commit: ledger_at_once)."""
    payment = pay()
    refund_payment(actor=admin_user, payment_id=str(payment.pk), amount=1000)
    deliver()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert all(m.objects.exists() for m in PAYMENT_LEDGER)
    return payment


@pytest.fixture
def subscribed(user, catalog, emulator, deliver):
    """An ACTIVE subscription with its paid first invoice (and that invoice's Payment)."""
    subscription = create_subscription(user=user, price_id=str(catalog["full_monthly"].pk)).subscription
    emulator.pay(Payment.objects.get(payable_type="subscription").stripe_payment_intent_id)
    assert all(code == 200 for _, code in deliver())
    subscription = Subscription.objects.get(pk=subscription.pk)
    assert subscription.status == "active" and Invoice.objects.filter(subscription=subscription, status="paid").exists()
    return subscription


@pytest.fixture
def full_ledger(ledger, subscribed):
    """A row in every ledger table, the subscriptions' included."""
    assert all(m.objects.exists() for m in LEDGER)
    return ledger


# ---------------------------------------------------------------- pages


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_changelist_and_change_page_render(admin_client, full_ledger, model):
    assert admin_client.get(url(model, "changelist")).status_code == 200
    for obj in model.objects.all():
        assert admin_client.get(url(model, "change", obj.pk)).status_code == 200


def djangos_own_list(stack: ExitStack) -> None:
    """The ledger lists as Django alone renders them: its result_list tag, its
    ChangeList.url_for_result, its action checkbox widget, its empty value and
    reverse() for every link of ours (inside ``stack``)."""
    from django.contrib.admin import ModelAdmin

    from payments.admin import base

    stack.enter_context(mock.patch.object(base.LedgerAdmin, "change_list_template", None))
    stack.enter_context(mock.patch.object(base.LedgerAdmin, "get_changelist", base.IndexedDates.get_changelist))
    stack.enter_context(mock.patch.object(base.LedgerAdmin, "get_empty_value_display", ModelAdmin.get_empty_value_display))
    stack.enter_context(mock.patch.object(base.PlainCheckbox, "action_checkbox", ModelAdmin.action_checkbox))
    stack.enter_context(mock.patch.object(base, "change_url", lambda opts, pk, current_app=None: reverse(
        f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk], current_app=current_app)))


def without_csrf_token(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", content)


@pytest.mark.parametrize("query", ["", "?o=-2.3"], ids=["plain", "with-preserved-filters"])
@pytest.mark.parametrize("model", LEDGER, ids=lambda m: m.__name__)
def test_every_ledger_list_is_the_html_django_renders_byte_for_byte(admin_client, full_ledger, user, model, query):
    """The ledger lists' rows (payments/admin/results.py, LedgerChangeList's
    links, PlainCheckbox, change_url) are Django's HTML, escaping, empty values,
    choices, flags, dates and the filters a row link keeps included."""
    Customer.objects.create(user=admin_user_for(user), stripe_customer_id='cus_<b>&"\'x')
    Payment.objects.create(user=user, amount=500, currency="jpy", status="failed", stripe_payment_intent_id="")
    WebhookEvent.objects.create(stripe_event_id='evt_<i>&"', type="  ", status="nonsense", attempts=3, livemode=True,
                                payload={}, stripe_created=datetime(2026, 1, 1, tzinfo=timezone.utc))
    path = url(model, "changelist") + query
    ours = admin_client.get(path)
    assert "admin/payments/ledger_change_list.html" in [t.name for t in ours.templates]
    assert len(ours.context["cl"].result_list) >= 1
    with ExitStack() as stack:
        djangos_own_list(stack)
        theirs = admin_client.get(path)
    assert "admin/payments/ledger_change_list.html" not in [t.name for t in theirs.templates]
    assert without_csrf_token(ours.content).decode() == without_csrf_token(theirs.content).decode()


def admin_user_for(user):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(f"{user.username}-2", email="")


@pytest.mark.parametrize("pk", [7, uuid.UUID("0c0ffee0-0000-4000-8000-000000000001"), "a b/ü_<x>"], ids=["int", "uuid", "str"])
@pytest.mark.parametrize("prefix", ["/", "/mounted/"])
def test_change_url_is_reverse(pk, prefix):
    """change_url (one reverse() a page, then the pk put in) is reverse()'s
    answer under any script prefix; a str pk goes through reverse() itself."""
    from django.urls import get_script_prefix, set_script_prefix

    from payments.admin.base import change_url

    before = get_script_prefix()
    set_script_prefix(prefix)
    try:
        for model in (Payment, Customer):
            assert change_url(model._meta, pk) == reverse(
                f"admin:payments_{model._meta.model_name}_change", args=[pk])
            assert change_url(model._meta, pk).startswith(prefix)
    finally:
        set_script_prefix(before)


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
def test_ledger_rows_cannot_be_added_changed_or_deleted(admin_client, full_ledger, model):
    obj = model.objects.first()
    before = model.objects.filter(pk=obj.pk).values().get()
    count = model.objects.count()
    assert admin_client.get(url(model, "add")).status_code == 403
    assert admin_client.post(url(model, "add"), {"amount": 1}).status_code == 403
    tampered = {"status": "failed", "amount": 1, "currency": "usd", "stripe_customer_id": "cus_evil", "net": 0,
                "amount_due": 1, "amount_paid": 0, "cancel_at_period_end": "on", "stripe_subscription_id": "sub_evil"}
    assert admin_client.post(url(model, "change", obj.pk), tampered).status_code == 403
    assert admin_client.get(url(model, "delete", obj.pk)).status_code == 403
    assert admin_client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    page = admin_client.get(url(model, "change", obj.pk))
    assert page.context["has_change_permission"] is False and 'name="_save"' not in page.content.decode()
    assert page.context["has_delete_permission"] is False and url(model, "delete", obj.pk) not in page.content.decode()
    assert "delete_selected" not in offered_actions(admin_client, model)
    # The bulk delete, posted anyway (it is not offered): refused, nothing deleted.
    run_action(admin_client, model, "delete_selected", [obj], post="yes")
    assert model.objects.count() == count
    assert model.objects.filter(pk=obj.pk).values().get() == before


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


def test_money_is_formatted_on_the_subscription_and_invoice_lists(admin_client, subscribed):
    assert "€19.99 / month" in admin_client.get(url(Subscription, "changelist")).content.decode()
    content = admin_client.get(url(Invoice, "changelist")).content.decode()
    assert content.count("€19.99") >= 2  # due and paid


def test_the_subscription_page_links_its_user_price_tier_invoices_and_payments(admin_client, subscribed, user, catalog):
    content = admin_client.get(url(Subscription, "change", subscribed.pk)).content.decode()
    assert reverse("admin:auth_user_change", args=[user.pk]) in content
    assert url(Price, "change", catalog["full_monthly"].pk) in content
    assert url(Tier, "change", catalog["full"].pk) in content
    invoice = Invoice.objects.get(subscription=subscribed)
    assert url(Invoice, "change", invoice.pk) in content  # the inline's change link
    payments_link = re.search(rf'href="({re.escape(url(Payment, "changelist"))}\?[^"]+)">Payments of this subscription', content)
    assert payments_link, content
    assert results(admin_client.get(payments_link[1].replace("&amp;", "&"))) == [
        Payment.objects.get(payable_type="subscription", payable_id=str(subscribed.pk))
    ]
    events_link = re.search(rf'href="({re.escape(url(WebhookEvent, "changelist"))}\?[^"]+)">Events about', content)
    found = results(admin_client.get(events_link[1].replace("&amp;", "&")))
    assert found and {e.type for e in found} >= {"customer.subscription.created"}
    # The list links each row's user.
    listing = admin_client.get(url(Subscription, "changelist")).content.decode()
    assert reverse("admin:auth_user_change", args=[user.pk]) in listing


def test_the_invoice_page_links_its_user_subscription_and_payment(admin_client, subscribed, user):
    invoice = Invoice.objects.get(subscription=subscribed)
    payment = Payment.objects.get(stripe_payment_intent_id=invoice.stripe_payment_intent_id)
    content = admin_client.get(url(Invoice, "change", invoice.pk)).content.decode()
    assert reverse("admin:auth_user_change", args=[user.pk]) in content
    assert url(Subscription, "change", subscribed.pk) in content
    assert url(Payment, "change", payment.pk) in content
    listing = admin_client.get(url(Invoice, "changelist")).content.decode()
    assert url(Subscription, "change", subscribed.pk) in listing and reverse("admin:auth_user_change", args=[user.pk]) in listing


def test_subscription_and_invoice_search(admin_client, subscribed, user, other_user, catalog):
    invoice = Invoice.objects.get(subscription=subscribed)
    assert invoice.number and invoice.stripe_payment_intent_id
    # Someone else's rows, which no search term below may find.
    other_sub = Subscription.objects.create(user=other_user, price=catalog["full_monthly"], tier=catalog["full"],
                                            stripe_subscription_id="sub_other")
    Invoice.objects.create(user=other_user, subscription=other_sub, stripe_invoice_id="in_other", number="OTHER-0001",
                           currency="eur", amount_due=1999, created_at=invoice.created_at, stripe_payment_intent_id="pi_other")
    searches = {
        (Subscription, subscribed): [subscribed.stripe_subscription_id, user.email, user.username],
        (Invoice, invoice): [invoice.stripe_invoice_id, invoice.number, invoice.stripe_payment_intent_id,
                             subscribed.stripe_subscription_id, user.email, user.username],
    }
    for (model, obj), terms in searches.items():
        for term in terms:
            assert results(admin_client.get(url(model, "changelist"), {"q": term})) == [obj], (model.__name__, term)
        assert results(admin_client.get(url(model, "changelist"), {"q": "nobody@nowhere.test"})) == []


def test_subscription_and_invoice_filters(admin_client, subscribed, other_user, catalog):
    invoice = Invoice.objects.get(subscription=subscribed)
    ended = Subscription.objects.create(user=other_user, price=catalog["full_monthly"], tier=catalog["basic"],
                                        status="canceled", cancel_at_period_end=True, stripe_subscription_id="sub_ended",
                                        closed_reason="duplicate")
    Subscription.objects.filter(pk=ended.pk).update(created_at=datetime(2020, 5, 1, tzinfo=timezone.utc))
    old = Invoice.objects.create(user=other_user, subscription=ended, stripe_invoice_id="in_old", currency="usd",
                                 status="open", amount_due=500, billing_reason="subscription_cycle",
                                 created_at=datetime(2020, 6, 1, tzinfo=timezone.utc))
    subs = url(Subscription, "changelist")
    assert results(admin_client.get(subs, {"status__exact": "active"})) == [subscribed]
    assert results(admin_client.get(subs, {"status__exact": "canceled"})) == [ended]
    assert results(admin_client.get(subs, {"status__exact": "past_due"})) == []
    assert results(admin_client.get(subs, {"cancel_at_period_end__exact": 1})) == [ended]
    assert results(admin_client.get(subs, {"cancel_at_period_end__exact": 0})) == [subscribed]
    assert results(admin_client.get(subs, {"tier__id__exact": catalog["basic"].pk})) == [ended]
    assert results(admin_client.get(subs, {"closed_reason__exact": "duplicate"})) == [ended]
    assert "Duplicate of a running subscription" in admin_client.get(url(Subscription, "change", ended.pk)).content.decode()
    assert results(admin_client.get(subs, {"created_at__year": 2020})) == [ended]
    assert results(admin_client.get(subs, {"created_at__year": subscribed.created_at.year})) == [subscribed]
    Subscription.objects.filter(pk=ended.pk).update(stripe_reread_requested_at=datetime(2020, 7, 1, tzinfo=timezone.utc))
    assert results(admin_client.get(subs, {"reread_pending": "yes"})) == [ended]
    assert results(admin_client.get(subs, {"reread_pending": "no"})) == [subscribed]
    assert "re-read pending" in admin_client.get(subs).content.decode()

    invoices = url(Invoice, "changelist")
    assert results(admin_client.get(invoices, {"status__exact": "paid"})) == [invoice]
    assert results(admin_client.get(invoices, {"status__exact": "open"})) == [old]
    assert results(admin_client.get(invoices, {"status__exact": "void"})) == []
    assert results(admin_client.get(invoices, {"currency": "usd"})) == [old]
    assert results(admin_client.get(invoices, {"currency": "eur"})) == [invoice]
    assert results(admin_client.get(invoices, {"billing_reason": invoice.billing_reason})) == [invoice]
    assert results(admin_client.get(invoices, {"billing_reason": "subscription_cycle"})) == [old]
    assert results(admin_client.get(invoices, {"created_at__year": 2020})) == [old]


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
        subscription = Subscription.objects.create(
            user=user, price=catalog["full_monthly"], tier=catalog["full"], status="active", stripe_subscription_id=f"sub_{i}",
        )
        Invoice.objects.create(
            user=user, subscription=subscription, stripe_invoice_id=f"in_{i}", number=f"INV-{i}", status="paid",
            currency="eur", amount_due=1999, amount_paid=1999, billing_reason="subscription_create",
            stripe_payment_intent_id=f"pi_in_{i}", created_at=when,
        )


def count_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


# Every list page, some of its filter options and each level of its date navigation.
LIST_PARAMS = [
    {}, {"currency": "eur"}, {"created_at__year": 2026}, {"created_at__year": 2026, "created_at__month": 1},
    {"created_at__year": 2026, "created_at__month": 1, "created_at__day": 2},
]
# The most any list page may run (session, user, the page's count and rows, filter
# options, date navigation): a bound, whatever the number of rows.
MAX_LIST_QUERIES = 12


def list_paths() -> list[str]:
    from django.contrib import admin as django_admin

    paths = []
    for model in ALL_MODELS:
        model_admin = django_admin.site._registry[model]
        date_field = model_admin.date_hierarchy
        for params in LIST_PARAMS:
            if "currency" in params and "currency" not in {getattr(f, "parameter_name", f) for f in model_admin.list_filter}:
                continue
            if params and "currency" not in params and not date_field:
                continue
            query = {k.replace("created_at", date_field or "created_at"): v for k, v in params.items()}
            paths.append(url(model, "changelist") + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""))
    return paths


def test_list_pages_run_a_bounded_number_of_queries_the_same_for_2_and_50_rows(
    admin_client, catalog, django_assert_max_num_queries
):
    paths = list_paths()
    make_rows(2, 0, catalog)
    for path in paths:
        admin_client.get(path)  # warm caches (content types, sessions)
    two = {path: count_queries(admin_client, path) for path in paths}
    make_rows(48, 2, catalog)
    fifty = {}
    for path in paths:
        with django_assert_max_num_queries(MAX_LIST_QUERIES):
            fifty[path] = count_queries(admin_client, path)
    assert fifty == two
    assert len(results(admin_client.get(url(Transaction, "changelist")))) == 100
    assert len(results(admin_client.get(url(Subscription, "changelist")))) == 50
    assert len(results(admin_client.get(url(Invoice, "changelist")))) == 50


def test_no_list_page_counts_the_whole_table_again():
    from django.contrib import admin as django_admin

    for model in ALL_MODELS:
        assert django_admin.site._registry[model].show_full_result_count is False, model.__name__


def test_filter_options_never_read_distinct_values_of_a_ledger_table(admin_client, catalog):
    make_rows(3, 0, catalog)
    ledger_tables = {m._meta.db_table for m in LEDGER}
    for model in LEDGER:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url(model, "changelist")).status_code == 200
        for query in queries:
            sql = query["sql"]
            if "DISTINCT" in sql:
                assert not any(f'FROM "{table}"' in sql for table in ledger_tables), (model.__name__, sql)
    page = admin_client.get(url(Payment, "changelist")).content.decode()
    assert "?currency=jpy" in page and "?currency=eur" in page  # the currencies of the catalog's prices


def test_date_navigation_finds_the_dates_djangos_own_query_finds(admin_client, catalog, user):
    from django.db.models import QuerySet

    from payments.admin import _indexed_dates_class

    when = [datetime(2024, 12, 31, 23, 59, tzinfo=timezone.utc), datetime(2025, 1, 1, tzinfo=timezone.utc),
            datetime(2025, 3, 5, 12, tzinfo=timezone.utc), datetime(2025, 3, 31, 23, 59, 59, tzinfo=timezone.utc),
            datetime(2027, 7, 1, tzinfo=timezone.utc)]
    for i, moment in enumerate(when):
        WebhookEvent.objects.create(stripe_event_id=f"evt_d{i}", type="payment_intent.succeeded", payload={})
    for event, moment in zip(WebhookEvent.objects.order_by("pk"), when):
        WebhookEvent.objects.filter(pk=event.pk).update(received_at=moment)
    fast = _indexed_dates_class(QuerySet, "received_at")
    for queryset in (WebhookEvent.objects.all(), WebhookEvent.objects.filter(received_at__year=2025),
                     WebhookEvent.objects.filter(received_at__year=2025, received_at__month=3),
                     WebhookEvent.objects.none(), WebhookEvent.objects.filter(status="failed")):
        for kind in ("year", "month", "day"):
            indexed = queryset.all()
            indexed.__class__ = fast
            assert list(indexed.datetimes("received_at", kind)) == list(queryset.datetimes("received_at", kind)), kind
    page = admin_client.get(url(WebhookEvent, "changelist")).content.decode()
    assert all(f"received_at__year={year}" in page for year in (2024, 2025, 2027)) and "year=2026" not in page


def test_webhook_events_are_found_by_indexed_ids_never_inside_the_payload(admin_client, db):
    from payments.admin import WebhookEventAdmin
    from payments.webhooks.processing import searchable_ids

    assert not any("payload" in field for field in WebhookEventAdmin.search_fields)
    payload = {"data": {"object": {"id": "re_1", "object": "refund", "payment_intent": "pi_1", "note": "findme"}}}
    WebhookEvent.objects.create(stripe_event_id="evt_1", type="refund.created", payload=payload,
                                **searchable_ids("refund.created", payload["data"]["object"]))
    events = url(WebhookEvent, "changelist")
    for term in ("evt_1", "re_1", "pi_1"):
        assert [e.stripe_event_id for e in results(admin_client.get(events, {"q": term}))] == ["evt_1"], term
    assert results(admin_client.get(events, {"q": "findme"})) == []
    assert results(admin_client.get(events, {"q": "pi_"})) == []  # identifiers match whole


def test_the_admins_orderings_and_date_navigation_are_indexed(db):
    from django.contrib import admin as django_admin

    for model in LEDGER:
        model_admin = django_admin.site._registry[model]
        field = model_admin.date_hierarchy
        indexed = {tuple(index.fields) for index in model._meta.indexes}
        assert (field, "id") in indexed or model._meta.get_field(field).db_index, model.__name__
    assert ("created_at", "id") in {tuple(i.fields) for i in Payment._meta.indexes}
    assert WebhookEvent._meta.get_field("object_id").db_index and WebhookEvent._meta.get_field("payment_intent_id").db_index
    if connection.vendor == "postgresql":  # the migration made them
        with connection.cursor() as cursor:
            for model in (Payment, WebhookEvent, Refund, Subscription, Invoice, Transaction):
                constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
                names = {name for name, c in constraints.items() if c["index"]}
                assert {i.name for i in model._meta.indexes} <= names, model.__name__


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
    client = logged_in(grant(staff_user, "view_payment"))
    assert "refund_in_full" not in offered_actions(client, Payment)
    run_action(client, Payment, "refund_in_full", [payment], confirm="yes")
    assert not Refund.objects.exists()
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SUCCEEDED


# ------------------------------------- refresh and reprocess need the change permission


@pytest.fixture
def missed(start, emulator, deliver, subscribed):
    """Per model, the row its action mends, Stripe having moved on without telling us:
    a paid payment, a subscription gone past due (no webhook delivered), and an event
    that failed. ``mended(row)``: whether the action was applied."""
    earlier = start()
    emulator.pay(earlier.stripe_payment_intent_id)
    with mock.patch.dict(processing.HANDLERS, {"payment_intent.succeeded": mock.Mock(side_effect=RuntimeError("hiccup"))}):
        deliver()
    failed = WebhookEvent.objects.get(type="payment_intent.succeeded", status=WebhookEvent.Status.FAILED)
    assert failed.payload["data"]["object"]["id"] == earlier.stripe_payment_intent_id
    payment = start()
    emulator.pay(payment.stripe_payment_intent_id)  # from here on, no webhook delivered
    emulator.advance_subscription(subscribed.stripe_subscription_id, succeed=False)
    return {
        Payment: (payment, "refresh_from_stripe", lambda: Payment.objects.get(pk=payment.pk).status == PaymentStatus.SUCCEEDED),
        Subscription: (subscribed, "refresh_from_stripe", lambda: Subscription.objects.get(pk=subscribed.pk).status == "past_due"),
        WebhookEvent: (failed, "reprocess", lambda: WebhookEvent.objects.get(pk=failed.pk).status == WebhookEvent.Status.PROCESSED),
    }


@pytest.mark.parametrize("model", [Payment, Subscription, WebhookEvent], ids=lambda m: m.__name__)
def test_a_view_only_staff_user_neither_sees_nor_can_post_refresh_or_reprocess(staff_user, missed, model):
    row, action, mended = missed[model]
    view, change = (f"{p}_{model._meta.model_name}" for p in ("view", "change"))
    client = logged_in(grant(staff_user, view))
    assert client.get(url(model, "change", row.pk)).status_code == 200  # may look
    assert action not in offered_actions(client, model)
    response = run_action(client, model, action, [row])
    assert response.status_code == 200 and not mended()
    names = {str(row.pk), getattr(row, "stripe_event_id", str(row.pk))}
    assert not [m for m in shown_messages(response) if any(name in m for name in names)]  # no row was acted on

    grant(staff_user, change)
    client = logged_in(staff_user)
    assert action in offered_actions(client, model)
    run_action(client, model, action, [row])
    assert mended()


def test_a_superuser_has_every_action(admin_client, db):
    assert offered_actions(admin_client, Payment) == ["refresh_from_stripe", "refund_in_full"]
    assert offered_actions(admin_client, Subscription) == ["refresh_from_stripe"]
    assert offered_actions(admin_client, WebhookEvent) == ["reprocess"]


# ------------------------------------------------------- subscriptions


def test_refresh_a_subscription_from_stripe(admin_client, subscribed, emulator):
    emulator.advance_subscription(subscribed.stripe_subscription_id, succeed=False)  # no webhook delivered
    response = run_action(admin_client, Subscription, "refresh_from_stripe", [subscribed])
    assert Subscription.objects.get(pk=subscribed.pk).status == "past_due"
    assert shown_messages(response) == [f"Subscription {subscribed.pk}: active → past_due"]
    again = run_action(admin_client, Subscription, "refresh_from_stripe", [subscribed])
    assert shown_messages(again) == [f"Subscription {subscribed.pk}: past_due (unchanged)"]


@pytest.fixture
def two_subscriptions(subscribed, django_user_model, catalog, emulator, deliver):
    """``subscribed`` and a second user's, both active, both gone past due at Stripe unseen."""
    other = django_user_model.objects.create_user("bob", email="bob@example.com")
    second = create_subscription(user=other, price_id=str(catalog["full_monthly"].pk)).subscription
    emulator.pay(Payment.objects.get(payable_type="subscription", payable_id=str(second.pk)).stripe_payment_intent_id)
    deliver()
    rows = [subscribed, Subscription.objects.get(pk=second.pk)]
    assert [r.status for r in rows] == ["active", "active"]
    for row in rows:
        emulator.advance_subscription(row.stripe_subscription_id, succeed=False)
    return sorted(rows, key=lambda r: r.pk)


def test_refresh_a_subscription_shows_stripes_error_and_goes_on(admin_client, two_subscriptions, emulator):
    first, second = two_subscriptions
    emulator.inject_fault("connection_error", path_prefix="/v1/subscriptions", times=1)
    response = run_action(admin_client, Subscription, "refresh_from_stripe", [first, second])
    assert response.status_code == 200 and "Traceback" not in response.content.decode()
    messages = shown_messages(response)
    assert len(messages) == 2, messages
    failed = next(m for m in messages if "Stripe is unreachable right now" in m)
    done = next(m for m in messages if m.endswith("active → past_due"))
    failed_row = first if failed.startswith(f"Subscription {first.pk}:") else second
    done_row = second if failed_row is first else first
    assert done.startswith(f"Subscription {done_row.pk}:")
    assert Subscription.objects.get(pk=failed_row.pk).status == "active"
    assert Subscription.objects.get(pk=done_row.pk).status == "past_due"


def test_refresh_a_subscription_shows_any_other_error_without_a_traceback(admin_client, two_subscriptions):
    """Not only a PaymentsError: any failure of one row is its message (class and
    first line), never a 500 with a traceback; the other rows are still refreshed."""
    from payments.admin import subscriptions as payments_admin

    first, second = two_subscriptions
    real = payments_admin.refresh_subscription

    def breaks_on_first(*, subscription):
        if subscription.pk == first.pk:
            raise KeyError("current_period_end")  # e.g. a Stripe object we cannot read
        return real(subscription=subscription)

    with mock.patch.object(payments_admin, "refresh_subscription", breaks_on_first):
        response = run_action(admin_client, Subscription, "refresh_from_stripe", [first, second])
    assert response.status_code == 200 and "Traceback" not in response.content.decode()
    assert sorted(shown_messages(response)) == sorted([
        f"Subscription {first.pk}: KeyError: 'current_period_end'",
        f"Subscription {second.pk}: active → past_due",
    ])
    assert Subscription.objects.get(pk=first.pk).status == "active"


def test_refresh_skips_a_subscription_never_created_at_stripe(admin_client, user, catalog):
    pending = Subscription.objects.create(user=user, price=catalog["full_monthly"], tier=catalog["full"])
    response = run_action(admin_client, Subscription, "refresh_from_stripe", [pending])
    assert shown_messages(response) == [f"Subscription {pending.pk}: skipped, not created at Stripe"]
