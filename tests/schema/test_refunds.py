"""Refunds through GraphQL and signed webhooks, against the emulator, and the ledger they leave."""

import itertools

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from events.models import Event
from payments.models import Payment, PaymentStatus, Refund, Transaction
from payments.services.ledger import ledger_totals
from payments.services.payments import PayableRef, create_payment_intent

# A db test never commits: the ledger's after-commit completion runs at once (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("ledger_at_once")

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
    # The ledger holds the refund's own money movement, with Stripe's figures.
    txn = Transaction.objects.get(refund=made)
    assert (txn.payment_id, txn.type, txn.currency, txn.gross, txn.fee, txn.net) == (
        payment.pk, Transaction.Type.REFUND, "eur", -500, 0, -500
    )
    assert txn.stripe_source_id == made.stripe_refund_id
    assert sorted(Transaction.objects.values_list("type", "net")) == [("charge", 2882), ("refund", -500)]


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


def send_only(emulator, event) -> int:
    """Deliver one stored event through the endpoint (the others stay undelivered)."""
    from django.test import Client

    from stripe_emulator.delivery import signed_request
    from tests.conftest import ClientSender

    return ClientSender(Client())(*signed_request(event, emulator.webhook_secret))


def test_a_long_description_is_accepted_and_replays(gql_as, refunder, pay, emulator):
    """The request's fingerprint is a hash, whatever the description's length
    (1000 characters, the limit, into a 255-character column: on PostgreSQL the
    plain-text fingerprint was a DataError, answered "Unexpected error.")."""
    payment, gql = pay(), gql_as(refunder)
    description = "Goodwill gesture after the double booking; " * 23  # 1012 characters
    description = description[:1000]
    first = refund(gql, payment, amount=400, reason="OTHER", description=description, idempotencyKey="long-1")
    assert "errors" not in first, first
    data = payload(first)
    assert (data["refund"]["status"], data["refund"]["description"]) == ("SUCCEEDED", description)
    stored = Refund.objects.get()
    assert len(stored.request_fingerprint) == 64
    again = payload(refund(gql, payment, amount=400, reason="OTHER", description=description, idempotencyKey="long-1"))
    assert again["refund"]["id"] == data["refund"]["id"]
    other = refund(gql, payment, amount=400, reason="OTHER", description=description[:-1] + "!", idempotencyKey="long-1")
    assert codes(other) == ["IDEMPOTENCY_CONFLICT"]
    assert codes(refund(gql, payment, amount=400, description="x" * 1001)) == ["INVALID_INPUT"]
    assert codes(refund(gql, payment, amount=400, idempotencyKey="k" * 256)) == ["INVALID_INPUT"]
    assert Refund.objects.count() == 1 and len(stripe_refunds(emulator)) == 1


def test_a_remainder_held_only_by_pending_refunds_exceeds_what_remains(gql_as, refunder, pay, emulator, deliver):
    """Everything is on its way back but nothing has come back yet: the payment is
    refundable (a pending refund may still fail), there is just nothing left now."""
    payment, gql = pay("4000000000007726"), gql_as(refunder)
    assert payload(refund(gql, payment))["refund"]["status"] == "PENDING"  # all 2999, pending
    assert codes(refund(gql, payment)) == ["REFUND_EXCEEDS_REMAINING"]
    assert codes(refund(gql, payment, amount=1)) == ["REFUND_EXCEEDS_REMAINING"]
    assert Refund.objects.count() == 1 and len(stripe_refunds(emulator)) == 1
    emulator.advance_refunds()
    assert all(code == 200 for _, code in deliver())
    assert codes(refund(gql, payment, amount=1)) == ["NOT_REFUNDABLE"]  # now it is all back


def test_charge_refund_updated_alone_moves_the_refund(gql_as, refunder, pay, emulator):
    """The legacy event carries the refund too: when it is the only one to arrive, it is enough."""
    payment = pay("4000000000007726")
    pending = payload(refund(gql_as(refunder), payment, amount=1200))["refund"]
    assert pending["status"] == "PENDING"
    emulator.advance_refunds()
    [legacy] = [e.event for e in emulator.events() if e.event["type"] == "charge.refund.updated"]
    assert legacy["data"]["object"]["id"] == pending["stripeRefundId"]
    assert send_only(emulator, legacy) == 200
    made = Refund.objects.get()
    assert (made.status, made.stripe_refund_id) == (Refund.Status.SUCCEEDED, pending["stripeRefundId"])
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 1200)
    assert Transaction.objects.get(refund=made).net == -1200
    assert send_only(emulator, legacy) == 200  # its redelivery changes nothing
    assert Refund.objects.get().status == Refund.Status.SUCCEEDED and Transaction.objects.count() == 2


def test_a_canceled_refund_frees_its_amount(gql_as, refunder, pay, emulator, deliver):
    payment, gql = pay("4000000000007726"), gql_as(refunder)
    held = payload(refund(gql, payment, amount=2000))["refund"]
    assert codes(refund(gql, payment, amount=1000)) == ["REFUND_EXCEEDS_REMAINING"]
    # At Stripe the refund waits for the customer (no card refund does: set by hand), then is canceled.
    with emulator._store.transaction() as tx:
        tx.put({**tx.get(held["stripeRefundId"]), "status": "requires_action"})
    body, status, _ = emulator.handle_http(
        "POST", f"https://api.stripe.com/v1/refunds/{held['stripeRefundId']}/cancel", {}, ""
    )
    assert status == 200, body
    assert all(code == 200 for _, code in deliver())
    assert Refund.objects.get(stripe_refund_id=held["stripeRefundId"]).status == Refund.Status.CANCELED
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.SUCCEEDED, 0)
    # Its 2000 is refundable again: everything (2999) can be refunded now.
    assert payload(refund(gql, payment))["refund"]["amount"] == 2999


def test_a_payments_refunds_through_graphql(gql, gql_as, refunder, pay, emulator, deliver):
    payment = pay("4000000000007726")
    payload(refund(gql_as(refunder), payment, amount=500))
    emulator.advance_refunds()
    deliver()
    payload(refund(gql_as(refunder), payment, amount=700, reason="DUPLICATE"))
    query = "query($id: ID!) { payment(id: $id) { amountRefunded refunds { amount status reason stripeRefundId } } }"
    seen = gql.ok(query, {"id": str(payment.pk)})["payment"]
    assert seen["amountRefunded"] == 500
    assert [(r["amount"], r["status"], r["reason"]) for r in seen["refunds"]] == [
        (700, "PENDING", "DUPLICATE"), (500, "SUCCEEDED", None)
    ]
    assert all(r["stripeRefundId"].startswith("re_") for r in seen["refunds"])


# ------------------------------------------------------------ who may refund


@pytest.mark.parametrize(
    ("who", "customer_refunds", "outcome"),
    [
        ("anonymous", False, "UNAUTHENTICATED"),
        ("other user", False, "NOT_FOUND"),
        ("other user", True, "NOT_FOUND"),
        ("owner", False, "FORBIDDEN"),
        ("owner", True, "RefundPayload"),
        # Staff-ness alone does not even show someone else's payment: as for another user.
        ("staff without permission", False, "NOT_FOUND"),
        ("staff without permission", True, "NOT_FOUND"),  # customer refunds are for owners only
        ("staff with permission", False, "RefundPayload"),
        ("staff with permission", True, "RefundPayload"),
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


def test_host_apps_and_subscribers_are_told_after_commit(gql_as, refunder, pay, emulator, deliver, django_capture_on_commit_callbacks,
                                                         monkeypatch):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from payments.live import payment_group
    from payments.signals import refund_changed

    payment = pay("4000000000007726")
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(payment_group(payment.pk), channel)
    pushed = []  # what reaches the channel layer, as it is sent
    group_send = layer.group_send

    async def watched_group_send(group, message):
        pushed.append(message["snapshot"]["amount_refunded"])
        await group_send(group, message)

    monkeypatch.setattr(layer, "group_send", watched_group_send)
    told = []
    receiver = lambda sender, refund, previous_status, **kw: told.append((refund.status, previous_status))  # noqa: E731
    refund_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            payload(refund(gql_as(refunder), payment, amount=300))
        # The refund is recorded, but nothing is told before its transaction commits.
        assert Refund.objects.get().status == Refund.Status.PENDING
        assert (told, pushed) == ([], []) and callbacks
        for callback in callbacks:  # the commit
            callback()
        assert told == [("pending", None)] and pushed == [0]
        pending = async_to_sync(layer.receive)(channel)

        emulator.advance_refunds()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            assert all(code == 200 for _, code in deliver())
        assert Refund.objects.get().status == Refund.Status.SUCCEEDED
        assert (told, pushed) == ([("pending", None)], [0]) and callbacks
        for callback in callbacks:
            callback()
    finally:
        refund_changed.disconnect(receiver)
    assert told == [("pending", None), ("succeeded", "pending")]
    assert pushed[0] == 0 and pushed[-1] == 300
    # Subscribers saw the pending refund (nothing moved yet), then the money going back.
    assert (pending["payment_id"], pending["snapshot"]["amount_refunded"]) == (str(payment.pk), 0)
    # Later messages (duplicates allowed, as the subscription skips what it has shown) end with the money back.
    later = [snapshot(async_to_sync(receive_within)(layer, channel)) for _ in range(2)]
    assert 300 in [s["amount_refunded"] for s in later if s]


# The events a payment refunded in two parts leaves, see the test below.
REFUNDED_LIFE = ["payment_intent.succeeded", "refund.created", "refund.updated", "charge.refunded"]


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(REFUNDED_LIFE)))))
def test_every_ordering_of_a_refunded_payments_events_ends_the_same(order, user, catalog, emulator, refunder, gql_as):
    """A payment refunded in two parts, one of them pending first: on a card whose
    refunds start pending, staff refund 1000 through our API (recorded PENDING),
    then the remaining 1999 is refunded from the Dashboard; both then succeed.
    Whatever order Stripe's events arrive in (the payment's success late, after
    refresh_payment; the Dashboard part first seen pending or already succeeded;
    the first part's success; charge.refunded, which makes us read every refund),
    the ledger ends the same."""
    from django.test import Client

    from stripe_emulator.delivery import signed_request
    from payments.services.payments import refresh_payment
    from tests.conftest import ClientSender

    event = Event.objects.create(user=user, title="Dentist")
    payment = create_payment_intent(user=user, price_id=str(catalog["full_eur"].pk), payable=PayableRef("event", str(event.pk))).payment
    emulator.pay(payment.stripe_payment_intent_id, "4000000000007726")  # refunds start pending
    refresh_payment(user=user, payment_id=str(payment.pk))  # SUCCEEDED by reading the intent; its event comes later
    first = payload(refund(gql_as(refunder), payment, amount=1000))["refund"]
    assert (first["amount"], first["status"]) == (1000, "PENDING")
    second = emulator.dashboard_refund(payment.stripe_payment_intent_id, 1999)["refund"]
    assert second["status"] == "pending"  # the first is still pending too
    assert [r["id"] for r in emulator.advance_refunds()] == [first["stripeRefundId"], second["id"]]

    def the(kind, refund_id=None, last=False):
        found = [
            stored.event for stored in emulator.events()
            if stored.event["type"] == kind and refund_id in (None, stored.event["data"]["object"]["id"])
        ]
        return found[-1] if last else found[0]

    events = [
        the("payment_intent.succeeded"),
        the("refund.created", second["id"]),  # the Dashboard part, pending
        the("refund.updated", first["stripeRefundId"]),  # our part succeeds
        the("charge.refunded", last=True),  # after both succeeded: we read the refunds
    ]
    assert [e["type"] for e in events] == REFUNDED_LIFE
    assert events[1]["data"]["object"]["status"] == "pending" and events[2]["data"]["object"]["status"] == "succeeded"

    sender = ClientSender(Client())
    for i in order:
        assert sender(*signed_request(events[i], emulator.webhook_secret)) == 200
    payment.refresh_from_db()
    event.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.REFUNDED, 2999)
    assert not event.is_active
    assert sorted(Refund.objects.values_list("stripe_refund_id", "status", "amount")) == sorted(
        [(first["stripeRefundId"], "succeeded", 1000), (second["id"], "succeeded", 1999)]
    )
    assert sorted(Transaction.objects.values_list("type", "net")) == [("charge", 2882), ("refund", -1999), ("refund", -1000)]
