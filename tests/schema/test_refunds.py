"""Refunds through GraphQL and signed webhooks, against the emulator, and the ledger they leave."""

import itertools

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from events.models import Event
from payments.models import Payment, PaymentStatus, Refund, Transaction
from payments.services.ledger import ledger_totals
from payments.services.payments import PayableRef, create_payment_intent

REFUND = """mutation($input: RefundInput!) { refund(input: $input) {
  __typename
  ... on RefundPayload { refund { id amount currency status reason description stripeRefundId }
                         payment { id status amount amountRefunded refunds { id amount status } } }
  ... on OperationInfo { messages { code field message } } } }"""


def stripe_refunds(emulator) -> list[dict]:
    return [e.event["data"]["object"] for e in emulator.events() if e.event["type"] == "refund.created"]


def codes(result) -> list[str]:
    payload = result["data"]["refund"]
    assert payload["__typename"] == "OperationInfo", payload
    return [m["code"] for m in payload["messages"]]


def payload(result) -> dict:
    data = result["data"]["refund"]
    assert data["__typename"] == "RefundPayload", data
    return data


@pytest.fixture
def refunder(django_user_model):
    staff = django_user_model.objects.create_user("cashier", password="pw", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="add_refund", content_type__app_label="payments"))
    return staff


@pytest.fixture
def pay(user, catalog, emulator, deliver):
    """A payment of €29.99 for the user's event, paid with ``card`` and confirmed by webhook."""

    def make(card: str = "4242424242424242", price_key: str = "full_eur") -> Payment:
        event = Event.objects.create(user=user, title="Dentist")
        result = create_payment_intent(user=user, price_id=str(catalog[price_key].pk), payable=PayableRef("event", str(event.pk)))
        emulator.pay(result.payment.stripe_payment_intent_id, card)
        assert all(code == 200 for _, code in deliver())
        payment = Payment.objects.get(pk=result.payment.pk)
        assert payment.status == PaymentStatus.SUCCEEDED
        return payment

    return make


def refund(gql, payment, **fields):
    return gql(REFUND, {"input": {"paymentId": str(payment.pk), **fields}})


def test_partial_refund_then_webhooks_change_nothing_more(gql_as, refunder, pay, emulator, deliver):
    payment = pay()
    data = payload(refund(gql_as(refunder), payment, amount=1000, reason="REQUESTED_BY_CUSTOMER"))
    assert data["refund"]["amount"] == 1000 and data["refund"]["status"] == "SUCCEEDED"
    assert data["refund"]["reason"] == "REQUESTED_BY_CUSTOMER"
    assert data["payment"]["status"] == "PARTIALLY_REFUNDED" and data["payment"]["amountRefunded"] == 1000
    assert stripe_refunds(emulator)[0]["reason"] == "requested_by_customer"
    assert all(code == 200 for _, code in deliver())
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 1000)
    assert Refund.objects.count() == 1
    ledger = sorted(Transaction.objects.values_list("type", "gross", "fee", "net"))
    assert ledger == [("charge", 2999, 117, 2882), ("refund", -1000, 0, -1000)]


def test_several_partials_then_full_then_nothing_left(gql_as, refunder, pay, user, deliver):
    payment = pay()
    gql = gql_as(refunder)
    for amount in (1000, 999):
        payload(refund(gql, payment, amount=amount))
    last = payload(refund(gql, payment))  # null amount: everything not yet refunded
    assert last["refund"]["amount"] == 1000
    assert last["payment"]["status"] == "REFUNDED" and last["payment"]["amountRefunded"] == 2999
    assert codes(refund(gql, payment, amount=1)) == ["NOT_REFUNDABLE"]
    deliver()
    event = Event.objects.get(user=user)
    assert not event.is_active  # a full refund takes back what it bought


def test_over_refund_is_refused_and_changes_nothing(gql_as, refunder, pay, emulator):
    payment = pay()
    assert codes(refund(gql_as(refunder), payment, amount=3000)) == ["REFUND_EXCEEDS_REMAINING"]
    assert not Refund.objects.exists()
    assert stripe_refunds(emulator) == []


def test_other_reason_stays_here_with_its_description(gql_as, refunder, pay, emulator):
    data = payload(refund(gql_as(refunder), pay(), amount=100, reason="OTHER", description="goodwill"))
    assert (data["refund"]["reason"], data["refund"]["description"]) == ("OTHER", "goodwill")
    assert stripe_refunds(emulator)[0]["reason"] is None


def test_refund_idempotency(gql_as, refunder, pay, emulator):
    payment, gql = pay(), gql_as(refunder)
    first = payload(refund(gql, payment, amount=500, idempotencyKey="r-1"))
    again = payload(refund(gql, payment, amount=500, idempotencyKey="r-1"))
    assert first["refund"]["id"] == again["refund"]["id"]
    assert codes(refund(gql, payment, amount=600, idempotencyKey="r-1")) == ["IDEMPOTENCY_CONFLICT"]
    assert len(stripe_refunds(emulator)) == 1 and Refund.objects.count() == 1


def test_a_payment_that_did_not_succeed_is_not_refundable(gql_as, refunder, user, catalog):
    payment = Payment.objects.create(user=user, price=catalog["full_eur"], amount=2999, currency="eur")
    assert codes(refund(gql_as(refunder), payment)) == ["NOT_REFUNDABLE"]


def test_a_dashboard_refund_appears_in_the_ledger(pay, emulator, deliver, gql):
    payment = pay()
    emulator.dashboard_refund(payment.stripe_payment_intent_id, 500)
    assert all(code == 200 for _, code in deliver())
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 500)
    made = Refund.objects.get()
    assert (made.amount, made.requested_by, made.status) == (500, None, Refund.Status.SUCCEEDED)
    assert gql.ok("{ refunds { amount status payment { id } } }")["refunds"] == [
        {"amount": 500, "status": "SUCCEEDED", "payment": {"id": str(payment.pk)}}
    ]


def test_a_refund_that_fails_later_makes_its_amount_refundable_again(gql_as, refunder, pay, emulator, deliver, user):
    payment = pay("4000000000005126")
    assert payload(refund(gql_as(refunder), payment))["payment"]["status"] == "REFUNDED"
    deliver()
    assert not Event.objects.get(user=user).is_active
    emulator.advance_refunds()
    assert all(code == 200 for _, code in deliver())
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.SUCCEEDED, 0)
    assert Refund.objects.get().status == Refund.Status.FAILED
    assert Event.objects.get(user=user).is_active  # the failed refund gives it back
    assert sorted(Transaction.objects.values_list("type", "net")) == [
        ("charge", 2882), ("refund", -2999), ("refund_failure", 2999)
    ]
    assert payload(refund(gql_as(refunder), payment, amount=100))["refund"]["status"] == "SUCCEEDED"


def test_a_pending_refund_reserves_its_amount_until_it_succeeds(gql_as, refunder, pay, emulator, deliver):
    payment, gql = pay("4000000000007726"), gql_as(refunder)
    data = payload(refund(gql, payment, amount=2000))
    assert data["refund"]["status"] == "PENDING" and data["payment"]["amountRefunded"] == 0
    assert codes(refund(gql, payment, amount=1000)) == ["REFUND_EXCEEDS_REMAINING"]
    emulator.advance_refunds()
    deliver()
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 2000)


@pytest.mark.parametrize("fault", ["connection_error", "timeout", "500"])
def test_stripe_unreachable_then_the_retry_refunds_once(gql_as, refunder, pay, emulator, fault):
    payment, gql = pay(), gql_as(refunder)
    emulator.inject_fault(fault, path_prefix="/v1/refunds")
    assert codes(refund(gql, payment, amount=700, idempotencyKey="r")) == ["PROVIDER_UNAVAILABLE"]
    data = payload(refund(gql, payment, amount=700, idempotencyKey="r"))
    assert data["payment"]["amountRefunded"] == 700
    assert len(stripe_refunds(emulator)) == 1 and Refund.objects.count() == 1


def test_an_unanswered_refund_is_sent_again_before_the_next_one(gql_as, refunder, pay, emulator):
    payment, gql = pay(), gql_as(refunder)
    emulator.inject_fault("timeout", path_prefix="/v1/refunds")  # Stripe refunds, the answer is lost
    assert codes(refund(gql, payment, amount=2999)) == ["PROVIDER_UNAVAILABLE"]
    # A second request without a key: the first refund is completed, nothing remains.
    assert codes(refund(gql, payment, amount=2999)) == ["NOT_REFUNDABLE"]
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.REFUNDED, 2999)
    assert len(stripe_refunds(emulator)) == 1


# ------------------------------------------------------------ who may refund


@pytest.mark.parametrize(
    ("who", "customer_refunds", "outcome"),
    [
        ("anonymous", False, "UNAUTHENTICATED"),
        ("other user", False, "NOT_FOUND"),
        ("other user", True, "NOT_FOUND"),
        ("owner", False, "FORBIDDEN"),
        ("owner", True, "RefundPayload"),
        ("staff without permission", False, "FORBIDDEN"),
        ("staff with permission", False, "RefundPayload"),
    ],
)
def test_who_may_refund(who, customer_refunds, outcome, settings, pay, anon_gql, gql, gql_as, other_user, staff_user, refunder):
    settings.PAYMENTS_CUSTOMER_REFUNDS = customer_refunds
    client = {
        "anonymous": anon_gql, "other user": gql_as(other_user), "owner": gql,
        "staff without permission": gql_as(staff_user), "staff with permission": gql_as(refunder),
    }[who]
    payment = pay()
    result = refund(client, payment, amount=100)
    if outcome == "RefundPayload":
        assert payload(result)["refund"]["amount"] == 100
    else:
        assert codes(result) == [outcome]
        assert not Refund.objects.exists()


def test_refunds_query_shows_only_the_viewers(pay, gql, gql_as, refunder, other_user):
    payment = pay()
    payload(refund(gql_as(refunder), payment, amount=100))
    payload(refund(gql_as(refunder), payment, amount=200))
    assert [r["amount"] for r in gql.ok("{ refunds { amount } }")["refunds"]] == [200, 100]
    assert gql_as(other_user).ok("{ refunds { amount } }")["refunds"] == []


# -------------------------------------------------------------------- ledger


def test_ledger_net_per_currency_equals_stripes_balance_after_a_mixed_run(pay, gql_as, refunder, emulator, deliver, capsys):
    gql = gql_as(refunder)
    eur = pay()
    usd = pay(price_key="basic_usd")
    failing = pay("4000000000005126")
    payload(refund(gql, eur, amount=1234))
    payload(refund(gql, usd))
    payload(refund(gql, failing, amount=500))
    emulator.dashboard_refund(eur.stripe_payment_intent_id, 100)
    emulator.advance_refunds()
    deliver()
    nets = {line.currency: line.net for line in ledger_totals(by_day=False)}
    from payments import gateway

    assert nets == gateway.retrieve_balance()
    assert nets == {"eur": 2882 + 2882 - 1234 - 100 - 500 + 500, "usd": 1037 - 1099}
    call_command("payments_ledger", "--check-balance")
    out = capsys.readouterr().out
    assert "balance eur: ledger" in out and "DIFFERS" not in out


def snapshot(message):
    return message["snapshot"] if message else None


async def receive_within(layer, channel, seconds: float = 2.0):
    import asyncio

    try:
        return await asyncio.wait_for(layer.receive(channel), seconds)
    except TimeoutError:
        return None


def test_host_apps_and_subscribers_are_told_after_commit(gql_as, refunder, pay, emulator, deliver, django_capture_on_commit_callbacks):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from payments.live import payment_group
    from payments.signals import refund_changed

    payment = pay("4000000000007726")
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(payment_group(payment.pk), channel)
    told = []
    receiver = lambda sender, refund, previous_status, **kw: told.append((refund.status, previous_status))  # noqa: E731
    refund_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            payload(refund(gql_as(refunder), payment, amount=300))
        pending = async_to_sync(layer.receive)(channel)
        emulator.advance_refunds()
        with django_capture_on_commit_callbacks(execute=True):
            deliver()
    finally:
        refund_changed.disconnect(receiver)
    assert told == [("pending", None), ("succeeded", "pending")]
    # Subscribers saw the pending refund (nothing moved yet), then the money going back.
    assert (pending["payment_id"], pending["snapshot"]["amount_refunded"]) == (str(payment.pk), 0)
    # Later messages (duplicates allowed, as the subscription skips what it has shown) end with the money back.
    later = [snapshot(async_to_sync(receive_within)(layer, channel)) for _ in range(2)]
    assert 300 in [s["amount_refunded"] for s in later if s]


REFUNDED_LIFE = ["payment_intent.succeeded", "refund.created", "charge.refunded", "refund.updated"]


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(REFUNDED_LIFE)))))
def test_every_ordering_of_a_refunded_payments_events_ends_the_same(order, user, catalog, emulator, refunder):
    """A payment refunded in two parts, one of them pending first: whatever order
    Stripe's events arrive in, the ledger ends the same."""
    from django.test import Client

    from tests.conftest import ClientSender

    event = Event.objects.create(user=user, title="Dentist")
    payment = create_payment_intent(user=user, price_id=str(catalog["full_eur"].pk), payable=PayableRef("event", str(event.pk))).payment
    emulator.pay(payment.stripe_payment_intent_id, "4000000000007726")  # refunds start pending
    emulator.dashboard_refund(payment.stripe_payment_intent_id, 2999)
    emulator.advance_refunds()
    wanted = {}
    for stored in emulator.events():
        kind = stored.event["type"]
        if kind in REFUNDED_LIFE and kind not in wanted:
            wanted[kind] = stored.event
    events = [wanted[kind] for kind in REFUNDED_LIFE]
    from payments.emulator.delivery import signed_request

    sender = ClientSender(Client())
    for i in order:
        assert sender(*signed_request(events[i], emulator.webhook_secret)) == 200
    payment.refresh_from_db()
    event.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.REFUNDED, 2999)
    assert not event.is_active
    assert list(Refund.objects.values_list("status", "amount")) == [("succeeded", 2999)]
    assert sorted(Transaction.objects.values_list("type", "net")) == [("charge", 2882), ("refund", -2999)]
