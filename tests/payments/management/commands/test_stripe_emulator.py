"""The stripe_emulator management command, delivering to a real local HTTP endpoint."""

from __future__ import annotations

import http.server
import json
import re
import threading
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from stripe_emulator import get_emulator


class WebhookEndpoint(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status = 200
        self.received: list[tuple[bytes, dict[str, str]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/payments/webhook/"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: WebhookEndpoint

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((body, dict(self.headers)))
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[WebhookEndpoint]:
    server = WebhookEndpoint()
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def configured(settings, tmp_path, endpoint):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = "whsec_command_test"
    settings.STRIPE_EMULATOR_DB = str(tmp_path / "emulator.sqlite3")
    settings.STRIPE_EMULATOR_WEBHOOK_URL = endpoint.url
    return get_emulator()


def run(*args: str) -> str:
    out = StringIO()
    call_command("stripe_emulator", *args, stdout=out)
    return out.getvalue()


def new_intent(emulator) -> str:
    body, status, _ = emulator.handle_http(
        "POST", "https://api.stripe.com/v1/payment_intents", {}, "amount=900&currency=eur"
    )
    assert status == 200
    return json.loads(body)["id"]


def test_get_emulator_follows_the_settings(configured, endpoint):
    assert (
        configured.webhook_url == endpoint.url and configured.webhook_secret == "whsec_command_test"
    )
    assert get_emulator() is configured


def test_pay_delivers_the_events(configured, endpoint):
    intent_id = new_intent(configured)
    output = run("pay", intent_id)
    assert f"PaymentIntent {intent_id}: succeeded" in output
    for event_type in ("payment_intent.created", "charge.succeeded", "payment_intent.succeeded"):
        assert f"{event_type} -> 200" in output
    assert len(endpoint.received) == 3
    assert all("Stripe-Signature" in headers for _, headers in endpoint.received)
    assert all(stored.delivered for stored in configured.events())


def test_pay_with_a_declined_card(configured, endpoint):
    output = run("pay", new_intent(configured), "--card", "4000000000009995")
    assert "requires_payment_method" in output and "insufficient_funds" in output
    assert "payment_intent.payment_failed -> 200" in output


def test_pay_with_an_invalid_number(configured):
    output = run("pay", new_intent(configured), "--card", "4242424242424241")
    assert "requires_payment_method" in output and "incorrect_number" in output


def test_three_d_secure_then_authenticate(configured):
    intent_id = new_intent(configured)
    assert "requires_action" in run("pay", intent_id, "--card", "4000002500003155")
    output = run("authenticate", intent_id, "--fail")
    assert "requires_payment_method" in output and "payment_intent_authentication_failure" in output


def test_processing_then_settle(configured):
    intent_id = new_intent(configured)
    assert "processing" in run("pay", intent_id, "--processing")
    assert f"{intent_id}: succeeded" in run("settle", intent_id)


def test_a_refused_delivery_fails_the_command_and_stays_pending(configured, endpoint):
    endpoint.status = 500
    with pytest.raises(CommandError, match="not accepted"):
        run("pay", new_intent(configured))
    assert not any(stored.delivered for stored in configured.events())
    endpoint.status = 204
    assert "-> 204" in run("deliver")
    assert "delivered" in run("events")


def test_unknown_payment_intent(configured):
    with pytest.raises(CommandError, match="No such payment_intent"):
        run("pay", "pi_unknown")


@pytest.mark.django_db
def test_pay_by_our_payment_id(configured, django_user_model):
    from payments.models import Payment

    intent_id = new_intent(configured)
    user = django_user_model.objects.create(username="payer")
    payment = Payment.objects.create(
        user=user, amount=900, currency="eur", stripe_payment_intent_id=intent_id
    )
    assert f"PaymentIntent {intent_id}: succeeded" in run("pay", str(payment.id))


@pytest.mark.django_db
@pytest.mark.parametrize("payment", ["6f1c1d9e-8d43-4a5e-9a43-1f1f1f1f1f1f", "not-a-uuid"])
def test_unknown_payment(configured, payment):
    with pytest.raises(CommandError, match="Unknown payment"):
        run("pay", payment)


def test_an_invalid_action_for_the_state_fails(configured):
    with pytest.raises(CommandError, match="status of requires_payment_method"):
        run("authenticate", new_intent(configured))


def test_refuses_a_real_stripe_account(configured, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_real_account"
    with pytest.raises(CommandError, match="emulator is not in use"):
        run("deliver")


# ------------------------------------------------------------- refunds


def test_refund_as_from_the_dashboard_delivers_its_events(configured, endpoint):
    intent_id = new_intent(configured)
    run("pay", intent_id)
    endpoint.received.clear()
    output = run("refund", intent_id, "--amount", "300", "--reason", "duplicate")
    delivered = [json.loads(body) for body, _ in endpoint.received]
    assert [event["type"] for event in delivered] == ["refund.created", "charge.refunded"]
    assert all(event["request"] == {"id": None, "idempotency_key": None} for event in delivered)
    refund = delivered[0]["data"]["object"]
    assert refund["reason"] == "duplicate"
    assert f"Refund {refund['id']} of {intent_id}, €3.00: succeeded" in output
    assert "refund.created -> 200" in output and "charge.refunded -> 200" in output
    assert "€6.00: succeeded" in run("refund", intent_id)


def test_refund_errors_fail_the_command(configured):
    intent_id = new_intent(configured)
    with pytest.raises(CommandError, match="does not have a successful charge to refund"):
        run("refund", intent_id)
    run("pay", intent_id)
    with pytest.raises(CommandError, match=r"Refund amount \(€10.00\) is greater"):
        run("refund", intent_id, "--amount", "1000")
    with pytest.raises(CommandError, match="Invalid reason"):
        run("refund", intent_id, "--reason", "bored")


@pytest.mark.django_db
def test_refund_by_our_payment_id(configured, django_user_model):
    from payments.models import Payment

    intent_id = new_intent(configured)
    run("pay", intent_id)
    user = django_user_model.objects.create(username="refunded")
    payment = Payment.objects.create(
        user=user, amount=900, currency="eur", stripe_payment_intent_id=intent_id
    )
    assert f"of {intent_id}, €9.00: succeeded" in run("refund", str(payment.id))


def test_refunds_advance(configured, endpoint):
    assert "No refund to advance." in run("refunds", "advance")
    pending_id, failing_id = new_intent(configured), new_intent(configured)
    run("pay", pending_id, "--card", "4000000000007726")
    run("pay", failing_id, "--card", "4000000000005126")
    assert ": pending" in run("refund", pending_id)
    assert ": succeeded" in run("refund", failing_id)
    output = run("refunds", "advance")
    assert f"of {failing_id}, €9.00: failed (expired_or_canceled_card)" in output
    assert f"of {pending_id}, €9.00: succeeded" in output
    for event_type in ("refund.failed", "refund.updated", "charge.refund.updated"):
        assert f"{event_type} -> 200" in output
    assert "charge.refunded -> 200" in output
    assert all(stored.delivered for stored in configured.events())
    assert "No refund to advance." in run("refunds", "advance")


# --------------------------------------------------------- subscriptions


def request(emulator, method: str, path: str, body: str | None = None) -> dict:
    text, status, _ = emulator.handle_http(method, f"https://api.stripe.com{path}", {}, body)
    assert status == 200, text
    return json.loads(text)


def post(emulator, path: str, body: str) -> dict:
    return request(emulator, "POST", path, body)


def new_subscription(emulator) -> tuple[str, str]:
    """A default_incomplete subscription's id and its first invoice's PaymentIntent id."""
    customer = post(emulator, "/v1/customers", "")
    product = post(emulator, "/v1/products", "name=Pro")
    price = post(
        emulator,
        "/v1/prices",
        f"product={product['id']}&currency=eur&unit_amount=900&recurring[interval]=month",
    )
    sub = post(
        emulator,
        "/v1/subscriptions",
        f"customer={customer['id']}&items[0][price]={price['id']}"
        "&payment_behavior=default_incomplete"
        "&payment_settings[save_default_payment_method]=on_subscription"
        "&expand[0]=latest_invoice.payments",
    )
    return sub["id"], sub["latest_invoice"]["payments"]["data"][0]["payment"]["payment_intent"]


def test_pay_a_subscription_then_advance_it(configured, endpoint):
    sub_id, intent_id = new_subscription(configured)
    output = run("pay", intent_id)
    assert "invoice.paid -> 200" in output and "customer.subscription.updated -> 200" in output
    endpoint.received.clear()
    output = run("subscription", "advance", sub_id)
    assert f"Subscription {sub_id}: active" in output
    assert re.search(r"Invoice in_\w+ \w+-0002, €9.00: paid", output)
    delivered = [json.loads(body)["type"] for body, _ in endpoint.received]
    assert delivered == [
        "invoice.created",
        "invoice.finalized",
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice.payment_succeeded",
        "invoice.paid",
        "customer.subscription.updated",
    ]
    assert all(stored.delivered for stored in configured.events())


def test_a_failed_renewal_then_pause_and_resume(configured, endpoint):
    sub_id, intent_id = new_subscription(configured)
    run("pay", intent_id)
    output = run("subscription", "advance", sub_id, "--fail")
    assert f"Subscription {sub_id}: past_due" in output and ": open" in output
    assert "payment failed: generic_decline" in output
    assert "invoice.payment_failed -> 200" in output
    with pytest.raises(CommandError, match="status of past_due"):
        run("subscription", "pause", sub_id)
    invoice_id = configured.retrieve(sub_id)["latest_invoice"]
    invoice = request(configured, "GET", f"/v1/invoices/{invoice_id}?expand[0]=payments")
    run("pay", invoice["payments"]["data"][0]["payment"]["payment_intent"])
    output = run("subscription", "pause", sub_id)
    assert f"Subscription {sub_id}: paused" in output
    assert "customer.subscription.paused -> 200" in output
    assert f"Subscription {sub_id}: active" in run("subscription", "resume", sub_id)
    with pytest.raises(CommandError, match="No such subscription"):
        run("subscription", "advance", "sub_unknown")


def test_a_pending_plan_change_expires(configured, endpoint):
    sub_id, intent_id = new_subscription(configured)
    run("pay", intent_id, "--card", "4000002500003155")
    run("authenticate", intent_id)
    sub = configured.retrieve(sub_id)
    premium = post(
        configured,
        "/v1/prices",
        f"product={sub['items']['data'][0]['price']['product']}&currency=eur&unit_amount=2900"
        "&recurring[interval]=month",
    )
    post(  # the 3-D Secure card: the change waits for the customer
        configured,
        f"/v1/subscriptions/{sub_id}",
        f"items[0][id]={sub['items']['data'][0]['id']}&items[0][price]={premium['id']}"
        "&proration_behavior=always_invoice&payment_behavior=pending_if_incomplete",
    )
    basic = sub["items"]["data"][0]["price"]["id"]
    output = run("subscription", "expire-update", sub_id)
    assert f"Subscription {sub_id}: active\n  price {basic}\n" in output
    assert "pending update" not in output
    assert "customer.subscription.pending_update_expired -> 200" in output
    sub = configured.retrieve(sub_id)
    assert sub["pending_update"] is None and sub["items"]["data"][0]["price"]["id"] != premium["id"]
    with pytest.raises(CommandError, match="no pending update"):
        run("subscription", "expire-update", sub_id)


# ------------------------------------------------------------- checkout


def new_checkout_session(emulator, mode: str = "payment") -> str:
    customer = post(emulator, "/v1/customers", "email=buyer%40example.com")
    product = post(emulator, "/v1/products", "name=Ticket")
    recurring = "&recurring[interval]=month" if mode == "subscription" else ""
    price = post(
        emulator,
        "/v1/prices",
        f"product={product['id']}&currency=eur&unit_amount=1500{recurring}",
    )
    data = "payment_intent_data" if mode == "payment" else "subscription_data"
    session = post(
        emulator,
        "/v1/checkout/sessions",
        f"mode={mode}&line_items[0][price]={price['id']}&line_items[0][quantity]=1"
        f"&customer={customer['id']}&success_url=https%3A%2F%2Fa.example%2Fok"
        f"&cancel_url=https%3A%2F%2Fa.example%2Fback&{data}[metadata][order_id]=42",
    )
    return session["id"]


def test_checkout_complete_delivers_the_events(configured, endpoint):
    session_id = new_checkout_session(configured)
    endpoint.received.clear()
    output = run("checkout", "complete", session_id)
    session = configured.retrieve(session_id)
    assert f"Checkout Session {session_id}: complete, paid" in output
    assert f"PaymentIntent {session['payment_intent']}: succeeded" in output
    delivered = [json.loads(body)["type"] for body, _ in endpoint.received]
    assert delivered[-4:] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.completed",
    ]
    assert "checkout.session.completed -> 200" in output
    assert all(stored.delivered for stored in configured.events())


def test_checkout_declined_then_retried_then_expire_refused(configured):
    session_id = new_checkout_session(configured)
    output = run("checkout", "complete", session_id, "--card", "4000000000000002")
    assert f"Checkout Session {session_id}: open, unpaid" in output
    assert "payment failed: generic_decline" in output
    assert "payment_intent.payment_failed -> 200" in output
    assert "complete, paid" in run("checkout", "complete", session_id)
    with pytest.raises(CommandError, match=r"status of `complete`"):
        run("checkout", "expire", session_id)


def test_checkout_delayed_then_settle(configured):
    session_id = new_checkout_session(configured)
    output = run("checkout", "complete", session_id, "--delayed")
    assert "complete, unpaid" in output and ": processing" in output
    output = run("checkout", "settle", session_id)
    assert "complete, paid" in output
    assert "checkout.session.async_payment_succeeded -> 200" in output
    with pytest.raises(CommandError, match="no payment to settle"):
        run("checkout", "settle", session_id)


def test_checkout_delayed_then_settle_fails(configured):
    session_id = new_checkout_session(configured)
    run("checkout", "complete", session_id, "--delayed")
    output = run("checkout", "settle", session_id, "--fail")
    assert "complete, unpaid" in output and "payment failed: generic_decline" in output
    assert "checkout.session.async_payment_failed -> 200" in output


def test_checkout_subscription_mode(configured):
    session_id = new_checkout_session(configured, "subscription")
    output = run("checkout", "complete", session_id)
    sub_id = configured.retrieve(session_id)["subscription"]
    assert f"Subscription {sub_id}: active" in output
    assert "invoice.paid -> 200" in output and "checkout.session.completed -> 200" in output


def test_checkout_expire(configured):
    session_id = new_checkout_session(configured)
    output = run("checkout", "expire", session_id)
    assert f"Checkout Session {session_id}: expired, unpaid" in output
    assert "checkout.session.expired -> 200" in output
    with pytest.raises(CommandError, match="no longer open"):
        run("checkout", "complete", session_id)
    with pytest.raises(CommandError, match="No such checkout.session"):
        run("checkout", "expire", "cs_test_unknown")


def new_trial(emulator):
    """A trialing subscription (14 days from the price) and its pending SetupIntent id."""
    customer = post(emulator, "/v1/customers", "")
    product = post(emulator, "/v1/products", "name=Premium")
    price = post(
        emulator,
        "/v1/prices",
        f"product={product['id']}&currency=eur&unit_amount=900&recurring[interval]=month"
        "&recurring[trial_period_days]=14",
    )
    sub = post(
        emulator,
        "/v1/subscriptions",
        f"customer={customer['id']}&items[0][price]={price['id']}&trial_from_plan=true"
        "&payment_behavior=default_incomplete"
        "&payment_settings[save_default_payment_method]=on_subscription",
    )
    return sub["id"], sub["pending_setup_intent"]


def test_a_trial_by_hand_save_a_card_hear_it_ends_then_the_first_renewal(configured, endpoint):
    sub_id, setup_id = new_trial(configured)
    output = run("setup", "confirm", sub_id)
    assert f"SetupIntent {setup_id}: succeeded" in output
    assert "setup_intent.succeeded -> 200" in output and "customer.subscription.updated -> 200" in output
    output = run("subscription", "upcoming", sub_id)
    assert f"Subscription {sub_id}: trialing" in output
    assert "customer.subscription.trial_will_end -> 200" in output and "invoice.upcoming -> 200" in output
    output = run("subscription", "advance", sub_id)
    assert f"Subscription {sub_id}: active" in output
    assert re.search(r"Invoice in_\w+ \w+-0002, €9.00: paid", output)
    assert "trial_will_end" not in output


def test_a_declined_card_fails_the_setup_and_a_trial_without_a_card_goes_past_due(configured):
    sub_id, setup_id = new_trial(configured)
    output = run("setup", "confirm", setup_id, "--card", "4000000000000002")
    assert f"SetupIntent {setup_id}: requires_payment_method" in output and "setup failed: generic_decline" in output
    output = run("subscription", "advance", sub_id)
    assert f"Subscription {sub_id}: past_due" in output and ": open" in output


def test_the_portal_by_hand_saves_a_card_and_cancels(configured, endpoint):
    sub_id, _ = new_trial(configured)
    customer = configured.retrieve(sub_id)["customer"]
    session = post(configured, "/v1/billing_portal/sessions", f"customer={customer}")
    run("deliver")
    endpoint.received.clear()
    output = run("portal", "card", session["id"], "--card", "5555555555554444")
    assert f"Customer {customer}: default card mastercard 4444" in output
    assert [json.loads(body)["type"] for body, _ in endpoint.received] == [
        "payment_method.attached", "customer.updated",
    ]  # the subscription had no default of its own yet: it falls back on the customer's
    output = run("portal", "cancel", session["url"], sub_id)  # the url the API answered names it too
    assert "cancels at period end" in output and "customer.subscription.updated -> 200" in output
    with pytest.raises(CommandError, match="No such billing portal session"):
        run("portal", "cancel", "bps_unknown", sub_id)
