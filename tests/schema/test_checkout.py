"""Stripe Checkout, a second payable, the payments switch and admin notifications."""

import pytest
from django.core import mail
from django.core.management import call_command

from events.models import Event
from payments.models import Notification, Payment, PaymentStatus, Subscription
from tests.bookings.models import Booking

CHECKOUT = """mutation($input: CreateCheckoutSessionInput!) { createCheckoutSession(input: $input) {
  __typename
  ... on CreateCheckoutSessionPayload { checkoutSession { id url status expiresAt } payment { id status amount payable { type id } } }
  ... on OperationInfo { messages { code field } } } }"""
OK_URLS = {"successUrl": "http://localhost:3000/paid", "cancelUrl": "http://localhost:3000/cart"}


def checkout(gql, price, payable=None, **extra):
    data = {"priceId": str(price.pk), **OK_URLS, **extra}
    if payable is not None:
        data["payable"] = payable
    return gql(CHECKOUT, {"input": data})["data"]["createCheckoutSession"]


def codes(payload) -> list[str]:
    assert payload["__typename"] == "OperationInfo", payload
    return [m["code"] for m in payload["messages"]]


def ok_all(results):
    assert results and all(code == 200 for _, code in results), results


@pytest.fixture
def event(user):
    return Event.objects.create(user=user, title="Dentist")


def as_payable(event):
    return {"type": "event", "id": str(event.pk)}


# ------------------------------------------------------------------ checkout


def test_one_time_checkout_pays_the_payable(gql, catalog, event, emulator, deliver):
    payload = checkout(gql, catalog["full_eur"], as_payable(event))
    session = payload["checkoutSession"]
    assert session["status"] == "open" and session["url"] == f"http://127.0.0.1:8000/_emulator/checkout/{session['id']}"
    assert payload["payment"]["status"] == "PENDING" and payload["payment"]["amount"] == 2999
    stripe_session = emulator.retrieve(session["id"])
    assert stripe_session["client_reference_id"] == payload["payment"]["id"]
    assert stripe_session["metadata"]["payment_id"] == payload["payment"]["id"]
    assert stripe_session["mode"] == "payment"
    emulator.complete_checkout(session["id"])
    ok_all(deliver())
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.SUCCEEDED and payment.stripe_payment_intent_id
    event.refresh_from_db()
    assert event.is_active and event.tier == catalog["full"]


def test_one_open_session_per_payment(gql, catalog, event, emulator):
    first = checkout(gql, catalog["full_eur"], as_payable(event))
    again = checkout(gql, catalog["full_eur"], as_payable(event))
    assert again["checkoutSession"]["id"] == first["checkoutSession"]["id"]
    assert Payment.objects.count() == 1


def test_checkout_idempotency_key(gql, catalog, event, emulator):
    first = checkout(gql, catalog["full_eur"], as_payable(event), idempotencyKey="c-1")
    assert checkout(gql, catalog["full_eur"], as_payable(event), idempotencyKey="c-1") == first
    other = checkout(gql, catalog["full_eur"], as_payable(event), idempotencyKey="c-1", successUrl="http://localhost:3000/other")
    assert codes(other) == ["IDEMPOTENCY_CONFLICT"]


@pytest.mark.parametrize(
    ("field", "url"),
    [
        ("successUrl", "https://evil.example/steal"),
        ("cancelUrl", "//evil.example/x"),
        ("successUrl", "javascript:alert(1)"),
        ("successUrl", "http://localhost:3000.evil.example/paid"),
    ],
)
def test_open_redirects_are_refused(gql, catalog, event, emulator, field, url):
    payload = checkout(gql, catalog["full_eur"], as_payable(event), **{field: url})
    assert codes(payload) == ["INVALID_INPUT"]
    assert payload["messages"][0]["field"] == field
    assert not Payment.objects.exists() and emulator.events() == []


def test_an_expired_session_cancels_its_pending_payment(gql, catalog, event, emulator, deliver):
    session = checkout(gql, catalog["full_eur"], as_payable(event))["checkoutSession"]
    emulator.expire_checkout(session["id"])
    ok_all(deliver())
    assert Payment.objects.get().status == PaymentStatus.CANCELED
    # A new attempt is a new payment with a new session.
    again = checkout(gql, catalog["full_eur"], as_payable(event))
    assert again["checkoutSession"]["id"] != session["id"] and Payment.objects.count() == 2


@pytest.mark.parametrize(("succeed", "status", "active"), [(True, PaymentStatus.SUCCEEDED, True), (False, PaymentStatus.FAILED, False)])
def test_a_delayed_method_completes_unpaid_then_settles(gql, catalog, event, emulator, deliver, succeed, status, active):
    session = checkout(gql, catalog["full_eur"], as_payable(event))["checkoutSession"]
    emulator.complete_checkout(session["id"], delayed=True)
    ok_all(deliver())
    assert Payment.objects.get().status == PaymentStatus.PROCESSING
    emulator.settle_checkout(session["id"], succeed=succeed)
    ok_all(deliver())
    assert Payment.objects.get().status == status
    event.refresh_from_db()
    assert event.is_active is active


def test_recurring_checkout_makes_a_subscription(gql, catalog, emulator, deliver):
    payload = checkout(gql, catalog["full_monthly"])
    assert payload["payment"] is None
    assert emulator.retrieve(payload["checkoutSession"]["id"])["mode"] == "subscription"
    emulator.complete_checkout(payload["checkoutSession"]["id"])
    ok_all(deliver())
    assert Subscription.objects.get().status == "active"
    assert gql.ok("{ me { isPremium } }")["me"]["isPremium"] is True
    assert codes(checkout(gql, catalog["full_monthly"])) == ["ALREADY_SUBSCRIBED"]


# ------------------------------------------- one live attempt per payable

INTENT = """mutation($input: CreatePaymentIntentInput!) { createPaymentIntent(input: $input) {
  __typename ... on CreatePaymentIntentPayload { clientSecret payment { id status stripePaymentIntentId } }
  ... on OperationInfo { messages { code field } } } }"""


def pay_by_intent(gql, price, payable=None, **extra):
    data = {"priceId": str(price.pk), **extra}
    if payable is not None:
        data["payable"] = payable
    return gql(INTENT, {"input": data})["data"]["createPaymentIntent"]


def open_intents(emulator) -> list[str]:
    """The PaymentIntents at Stripe that could still take money."""
    ids = {e.event["data"]["object"]["id"] for e in emulator.events() if e.event["type"] == "payment_intent.created"}
    payable = {"requires_payment_method", "requires_confirmation", "requires_action"}
    return sorted(i for i in ids if emulator.retrieve(i)["status"] in payable)


def test_a_checkout_page_closes_the_open_payment_intent_of_the_same_payable(gql, catalog, event, emulator, deliver):
    first = pay_by_intent(gql, catalog["full_eur"], as_payable(event))["payment"]
    payload = checkout(gql, catalog["full_eur"], as_payable(event))
    assert payload["payment"]["id"] != first["id"]
    assert emulator.retrieve(first["stripePaymentIntentId"])["status"] == "canceled"
    assert Payment.objects.get(pk=first["id"]).status == PaymentStatus.CANCELED
    # The customer who still has the first card form open can no longer pay on it.
    refused = emulator.pay(first["stripePaymentIntentId"])
    assert refused["error"]["code"] == "payment_intent_unexpected_state"
    assert refused["payment_intent"]["status"] == "canceled" and refused["payment_intent"]["amount_received"] == 0
    emulator.complete_checkout(payload["checkoutSession"]["id"])
    ok_all(deliver())
    assert Payment.objects.get(pk=payload["payment"]["id"]).status == PaymentStatus.SUCCEEDED
    assert Payment.objects.get(pk=first["id"]).status == PaymentStatus.CANCELED


def test_a_payment_intent_closes_the_open_checkout_page_of_the_same_payable(gql, catalog, event, emulator, deliver):
    payload = checkout(gql, catalog["full_eur"], as_payable(event))
    second = pay_by_intent(gql, catalog["full_eur"], as_payable(event))["payment"]
    assert second["id"] != payload["payment"]["id"]
    assert emulator.retrieve(payload["checkoutSession"]["id"])["status"] == "expired"
    assert Payment.objects.get(pk=payload["payment"]["id"]).status == PaymentStatus.CANCELED
    refused = emulator.complete_checkout(payload["checkoutSession"]["id"])
    assert refused["error"] is not None and "no longer open" in refused["error"]["message"]
    assert open_intents(emulator) == [second["stripePaymentIntentId"]]
    ok_all(deliver())  # the expiry's webhook changes nothing more
    assert Payment.objects.get(pk=payload["payment"]["id"]).status == PaymentStatus.CANCELED


def test_another_price_for_the_same_payable_closes_the_first(gql, catalog, event, emulator):
    basic = pay_by_intent(gql, catalog["basic_eur"], as_payable(event))["payment"]
    full = pay_by_intent(gql, catalog["full_eur"], as_payable(event))["payment"]
    assert full["id"] != basic["id"]
    assert emulator.retrieve(basic["stripePaymentIntentId"])["status"] == "canceled"
    assert open_intents(emulator) == [full["stripePaymentIntentId"]]


@pytest.mark.parametrize("start", ["intent", "checkout"])
def test_nothing_new_starts_while_a_payment_of_the_payable_is_processing(gql, catalog, event, emulator, deliver, start):
    if start == "intent":
        first = pay_by_intent(gql, catalog["full_eur"], as_payable(event))["payment"]
        emulator.pay(first["stripePaymentIntentId"], processing=True)
    else:
        first = checkout(gql, catalog["full_eur"], as_payable(event))
        emulator.complete_checkout(first["checkoutSession"]["id"], delayed=True)
    ok_all(deliver())
    assert Payment.objects.get().status == PaymentStatus.PROCESSING
    before = len(emulator.events())
    assert codes(pay_by_intent(gql, catalog["full_eur"], as_payable(event))) == ["PAYABLE_NOT_PAYABLE"]
    assert codes(checkout(gql, catalog["basic_eur"], as_payable(event))) == ["PAYABLE_NOT_PAYABLE"]
    assert Payment.objects.count() == 1 and len(emulator.events()) == before


def test_a_payment_paid_while_its_webhook_is_on_the_way_is_recorded_not_replaced(gql, catalog, event, emulator):
    first = pay_by_intent(gql, catalog["full_eur"], as_payable(event))["payment"]
    emulator.pay(first["stripePaymentIntentId"])  # paid at Stripe; its webhooks not delivered yet
    assert codes(checkout(gql, catalog["full_eur"], as_payable(event))) == ["PAYABLE_NOT_PAYABLE"]
    assert Payment.objects.get().status == PaymentStatus.SUCCEEDED
    event.refresh_from_db()
    assert event.is_active and event.tier == catalog["full"]
    assert emulator.retrieve(first["stripePaymentIntentId"])["status"] == "succeeded"


def test_a_declined_card_on_the_checkout_page_is_retried_on_the_same_page(gql, catalog, event, emulator, deliver):
    first = checkout(gql, catalog["full_eur"], as_payable(event))
    emulator.complete_checkout(first["checkoutSession"]["id"], "4000000000000002")
    ok_all(deliver())
    assert Payment.objects.get().status == PaymentStatus.FAILED
    again = checkout(gql, catalog["full_eur"], as_payable(event))
    assert again["checkoutSession"]["id"] == first["checkoutSession"]["id"] and Payment.objects.count() == 1


def test_a_failed_delayed_checkout_payment_is_replaced_by_a_new_page(gql, catalog, event, emulator, deliver):
    first = checkout(gql, catalog["full_eur"], as_payable(event))
    emulator.complete_checkout(first["checkoutSession"]["id"], delayed=True)
    emulator.settle_checkout(first["checkoutSession"]["id"], succeed=False)
    ok_all(deliver())
    assert Payment.objects.get().status == PaymentStatus.FAILED
    again = checkout(gql, catalog["full_eur"], as_payable(event))
    assert again["checkoutSession"]["id"] != first["checkoutSession"]["id"]
    assert again["checkoutSession"]["status"] == "open"
    assert Payment.objects.get(pk=first["payment"]["id"]).status == PaymentStatus.CANCELED


def test_a_replay_of_a_closed_checkout_payment_never_opens_a_new_page(gql, catalog, event, emulator, deliver):
    first = checkout(gql, catalog["full_eur"], as_payable(event), idempotencyKey="c-1")
    emulator.expire_checkout(first["checkoutSession"]["id"])
    ok_all(deliver())
    assert Payment.objects.get().status == PaymentStatus.CANCELED
    replayed = checkout(gql, catalog["full_eur"], as_payable(event), idempotencyKey="c-1")
    assert replayed["checkoutSession"]["id"] == first["checkoutSession"]["id"]
    assert replayed["checkoutSession"]["status"] == "expired" and replayed["payment"]["status"] == "CANCELED"
    assert len({e.event["data"]["object"]["id"] for e in emulator.events() if e.event["type"].startswith("checkout.session.")}) == 1


def test_a_replay_of_a_closed_payment_never_gets_a_payment_intent(gql, catalog, event, emulator):
    emulator.inject_fault("connection_error", path_prefix="/v1/payment_intents")
    assert codes(pay_by_intent(gql, catalog["full_eur"], as_payable(event), idempotencyKey="k-1")) == ["PROVIDER_UNAVAILABLE"]
    session = checkout(gql, catalog["full_eur"], as_payable(event))["checkoutSession"]  # the customer went to Checkout
    assert codes(pay_by_intent(gql, catalog["full_eur"], as_payable(event), idempotencyKey="k-1")) == ["PAYABLE_NOT_PAYABLE"]
    assert open_intents(emulator) == [] and emulator.retrieve(session["id"])["status"] == "open"
    assert Payment.objects.filter(idempotency_key="k-1").get().status == PaymentStatus.CANCELED


def test_long_redirect_urls_and_replays(gql, catalog, event, emulator):
    long = {"successUrl": "http://localhost:3000/paid?" + "x" * 400, "cancelUrl": "http://localhost:3000/cart?" + "y" * 400}
    first = checkout(gql, catalog["full_eur"], as_payable(event), idempotencyKey="long", **long)
    assert first["__typename"] == "CreateCheckoutSessionPayload"
    assert checkout(gql, catalog["full_eur"], as_payable(event), idempotencyKey="long", **long) == first
    assert len(Payment.objects.get().request_fingerprint) == 64


# ------------------------------------------------------------ another payable


def test_a_booking_pays_the_deposit_its_app_computes(gql, user, catalog, emulator, deliver):
    booking = Booking.objects.create(user=user, room="12")
    result = gql("""mutation($input: CreatePaymentIntentInput!) { createPaymentIntent(input: $input) {
        ... on CreatePaymentIntentPayload { payment { amount stripePaymentIntentId payable { type id } } } } }""",
                 {"input": {"priceId": str(catalog["full_eur"].pk), "payable": {"type": "booking", "id": str(booking.pk)}}})
    payment = result["data"]["createPaymentIntent"]["payment"]
    assert payment["amount"] == 599 and payment["payable"] == {"type": "booking", "id": str(booking.pk)}
    assert emulator.retrieve(payment["stripePaymentIntentId"])["amount"] == 599
    emulator.pay(payment["stripePaymentIntentId"])
    ok_all(deliver())
    booking.refresh_from_db()
    assert booking.deposit_paid


def test_a_booking_deposit_through_checkout_and_revoked_on_full_refund(gql, user, catalog, emulator, deliver, settings):
    booking = Booking.objects.create(user=user, room="12", deposit_percent=50)
    payload = checkout(gql, catalog["basic_eur"], {"type": "booking", "id": str(booking.pk)})
    assert payload["payment"]["amount"] == 499
    assert emulator.retrieve(payload["checkoutSession"]["id"])["amount_total"] == 499
    emulator.complete_checkout(payload["checkoutSession"]["id"])
    ok_all(deliver())
    booking.refresh_from_db()
    assert booking.deposit_paid
    settings.PAYMENTS_CUSTOMER_REFUNDS = True
    refund = gql("""mutation($id: ID!) { refund(input: {paymentId: $id}) { __typename } }""", {"id": payload["payment"]["id"]})
    assert refund["data"]["refund"]["__typename"] == "RefundPayload"
    ok_all(deliver())
    booking.refresh_from_db()
    assert not booking.deposit_paid


def test_someone_elses_booking_is_not_found(gql, other_user, catalog):
    theirs = Booking.objects.create(user=other_user, room="1")
    assert codes(checkout(gql, catalog["full_eur"], {"type": "booking", "id": str(theirs.pk)})) == ["NOT_FOUND"]


# ---------------------------------------------------------- payments switched off


MONEY_MUTATIONS = {
    "createPaymentIntent": ("mutation($p: ID!) { createPaymentIntent(input: {priceId: $p}) { ... on OperationInfo { messages { code } } } }", "one_time"),
    "createCheckoutSession": ('mutation($p: ID!) { createCheckoutSession(input: {priceId: $p, successUrl: "http://localhost:3000/a", cancelUrl: "http://localhost:3000/b"}) { ... on OperationInfo { messages { code } } } }', "one_time"),
    "createSubscription": ("mutation($p: ID!) { createSubscription(input: {priceId: $p}) { ... on OperationInfo { messages { code } } } }", "recurring"),
    "cancelSubscription": ("mutation($s: ID!) { cancelSubscription(input: {subscriptionId: $s}) { ... on OperationInfo { messages { code } } } }", "subscription"),
    "refund": ("mutation($pay: ID!) { refund(input: {paymentId: $pay}) { ... on OperationInfo { messages { code } } } }", "payment"),
    "refreshPayment": ("mutation($pay: ID!) { refreshPayment(id: $pay) { ... on OperationInfo { messages { code } } } }", "payment"),
}


@pytest.mark.parametrize("name", sorted(MONEY_MUTATIONS))
def test_payments_switched_off_refuse_every_money_mutation_without_calling_stripe(name, settings, gql_as, staff_user, catalog, emulator, user):
    settings.PAYMENTS_ENABLED = False
    settings.PAYMENTS_CUSTOMER_REFUNDS = True
    subscription = Subscription.objects.create(user=user, price=catalog["full_monthly"], tier=catalog["full"], stripe_subscription_id="sub_1", status="active")
    payment = Payment.objects.create(user=user, price=catalog["full_eur"], amount=2999, currency="eur", status="succeeded", stripe_payment_intent_id="pi_1")
    query, _ = MONEY_MUTATIONS[name]
    variables = {"p": str(catalog["full_monthly" if name == "createSubscription" else "full_eur"].pk), "s": str(subscription.pk), "pay": str(payment.pk)}
    used = {k: v for k, v in variables.items() if f"${k}" in query}
    result = gql_as(user).ok(query, used)[name]
    assert [m["code"] for m in result["messages"]] == ["PAYMENTS_DISABLED"]
    assert emulator.events() == []


ACTIVATE = """mutation($e: ID!, $t: ID!) { activateEvent(input: {eventId: $e, tierId: $t}) {
  __typename ... on CreateEventPayload { event { isActive tier { slug } } } ... on OperationInfo { messages { code } } } }"""


def test_host_apps_activate_for_free_only_while_payments_are_off(gql, settings, event, catalog):
    variables = {"e": str(event.pk), "t": str(catalog["full"].pk)}
    assert codes(gql.ok(ACTIVATE, variables)["activateEvent"]) == ["FORBIDDEN"]
    settings.PAYMENTS_ENABLED = False
    assert gql.ok(ACTIVATE, variables)["activateEvent"]["event"] == {"isActive": True, "tier": {"slug": "full"}}


# ------------------------------------------------------------- notifications


@pytest.fixture
def notify(settings, monkeypatch):
    settings.ADMIN_NOTIFY_EMAILS = ["boss@example.com"]
    settings.ADMIN_NOTIFY_PHONES = ["+15550001111"]
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_FROM_NUMBER = "AC123", "token", "+15550009999"
    sms = []

    class FakeTwilio:  # Twilio's API is not reachable from here: this is the one mock
        def __init__(self, sid, token):
            assert (sid, token) == ("AC123", "token")
            self.messages = self

        def create(self, *, to, from_, body):
            sms.append((to, from_, body))

    monkeypatch.setattr("twilio.rest.Client", FakeTwilio)
    return sms


def test_admins_are_told_once_per_sale_however_often_the_webhook_comes(gql, catalog, event, emulator, deliver, notify,
                                                                       django_capture_on_commit_callbacks):
    from django.test import Client

    from tests.conftest import ClientSender

    payload = checkout(gql, catalog["full_eur"], as_payable(event))
    emulator.complete_checkout(payload["checkoutSession"]["id"])
    with django_capture_on_commit_callbacks(execute=True):
        ok_all(deliver())
        # Stripe delivers everything again (a retry storm): nothing more is sent.
        sender = ClientSender(Client())
        for stored in emulator.events():
            from stripe_emulator.delivery import signed_request

            body, headers = signed_request(stored.event, emulator.webhook_secret)
            assert sender(body, headers) == 200
    assert len(mail.outbox) == 1 and "€29.99" in mail.outbox[0].body and mail.outbox[0].to == ["boss@example.com"]
    assert len(notify) == 1 and notify[0][0] == "+15550001111"
    assert Notification.objects.filter(status="sent").count() == 2


def test_no_notification_for_a_failed_payment(gql, catalog, event, emulator, deliver, notify, django_capture_on_commit_callbacks):
    payload = checkout(gql, catalog["full_eur"], as_payable(event))
    emulator.complete_checkout(payload["checkoutSession"]["id"], "4000000000000002")
    with django_capture_on_commit_callbacks(execute=True):
        ok_all(deliver())
    assert Payment.objects.get().status == PaymentStatus.FAILED
    assert mail.outbox == [] and notify == [] and not Notification.objects.exists()


def test_a_failing_mail_provider_never_fails_the_webhook_and_is_retried(gql, catalog, event, emulator, deliver, notify, monkeypatch,
                                                                        django_capture_on_commit_callbacks):
    def broken(*args, **kwargs):
        raise ConnectionError("mail provider down")

    monkeypatch.setattr("payments.services.notifications.send_mail", broken)
    payload = checkout(gql, catalog["full_eur"], as_payable(event))
    emulator.complete_checkout(payload["checkoutSession"]["id"])
    with django_capture_on_commit_callbacks(execute=True):
        ok_all(deliver())
    assert Payment.objects.get().status == PaymentStatus.SUCCEEDED
    failed = Notification.objects.get(channel="email")
    assert (failed.status, failed.attempts) == ("failed", 1) and "mail provider down" in failed.last_error
    monkeypatch.undo()
    call_command("payments_send_notifications")
    assert Notification.objects.get(channel="email").status == "sent" and len(mail.outbox) == 1
