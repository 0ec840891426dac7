"""refund_payment when Stripe's answer is not a plain yes: a 409 for a key in
flight, a refusal, a lost answer; and who sends a refund whose answer was lost."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.utils import timezone

from events.models import Event
from payments.errors import ProviderError, ProviderUnavailable
from payments.models import Payment, PaymentStatus, Refund, Transaction
from payments.services import refunds as refund_services
from payments.services.payments import PayableRef, create_payment_intent
from payments.services.refunds import refund_payment


@pytest.fixture
def refunder(django_user_model):
    staff = django_user_model.objects.create_user("cashier", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="add_refund", content_type__app_label="payments"))
    return staff


@pytest.fixture
def payment(user, catalog, emulator, deliver) -> Payment:
    """€29.99, paid and confirmed by webhook."""
    event = Event.objects.create(user=user, title="Dentist")
    result = create_payment_intent(user=user, price_id=str(catalog["full_eur"].pk), payable=PayableRef("event", str(event.pk)))
    emulator.pay(result.payment.stripe_payment_intent_id)
    assert all(code == 200 for _, code in deliver())
    return Payment.objects.get(pk=result.payment.pk)


def stripe_refunds(emulator) -> list[dict]:
    return [e.event["data"]["object"] for e in emulator.events() if e.event["type"] == "refund.created"]


IN_PROGRESS = (
    "There is currently another in-progress request using this Stripe API key and idempotency key."
    " Please try again later."
)


def answer(status: int, error: dict):
    return json.dumps({"error": error}), status, {"Request-Id": "req_test", "Content-Type": "application/json"}


class Stripe:
    """The emulator's HTTP entry, watched: records each refund request's
    idempotency key and, as real Stripe does, answers a request whose key is
    still in flight in another request with 409 (the emulator serializes them
    instead). ``during_first`` runs while the first refund request is in flight;
    ``answer_next`` makes Stripe do the next refund request but lose it behind
    the given answer."""

    def __init__(self, emulator, monkeypatch):
        self.real = emulator.handle_http
        self.keys: list[str] = []
        self.in_flight: set[str] = set()
        self.conflicts = 0  # 409s answered
        self.delay = 0.0  # seconds each refund request takes at Stripe
        self._lock = threading.Lock()
        self.during_first = None
        self.answer_next = None
        monkeypatch.setattr(emulator, "handle_http", self)

    def __call__(self, method, url, headers, post_data):
        key = {k.lower(): v for k, v in headers.items()}.get("idempotency-key")
        if method.upper() != "POST" or not url.endswith("/v1/refunds") or key is None:
            return self.real(method, url, headers, post_data)
        with self._lock:
            self.keys.append(key)
            if key in self.in_flight:
                self.conflicts += 1
                return answer(409, {"type": "idempotency_error", "code": "idempotency_key_in_use", "message": IN_PROGRESS})
            self.in_flight.add(key)
        try:
            if self.during_first is not None:
                during, self.during_first = self.during_first, None
                during()
            time.sleep(self.delay)
            result = self.real(method, url, headers, post_data)
            if self.answer_next is not None:
                result, self.answer_next = self.answer_next, None
            return result
        finally:
            with self._lock:
                self.in_flight.discard(key)


@pytest.fixture
def stripe(emulator, monkeypatch) -> Stripe:
    return Stripe(emulator, monkeypatch)


def test_a_refund_another_request_is_sending_is_not_sent_again(payment, refunder, stripe, emulator, deliver):
    """Request A's refund is in flight at Stripe when request B starts: B re-sends
    only unanswered refunds no one is sending, so Stripe never sees A's key twice
    at once (it would answer 409, and A's refund, which Stripe makes, was marked
    FAILED for good: amountRefunded understated, the money refundable twice)."""
    second = []
    stripe.during_first = lambda: second.append(refund_payment(actor=refunder, payment_id=str(payment.pk), amount=500))
    first = refund_payment(actor=refunder, payment_id=str(payment.pk), amount=1000)
    [b] = second
    assert stripe.keys == [f"refund-{first.refund.pk}", f"refund-{b.refund.pk}"]  # each key sent once
    assert (first.refund.status, b.refund.status) == (Refund.Status.SUCCEEDED, Refund.Status.SUCCEEDED)
    assert all(code == 200 for _, code in deliver())
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 1500)
    assert sorted(Refund.objects.values_list("amount", "status")) == [(500, "succeeded"), (1000, "succeeded")]
    assert len(stripe_refunds(emulator)) == 2


@pytest.mark.parametrize(
    "conflict",
    [
        answer(409, {"type": "idempotency_error", "code": "idempotency_key_in_use", "message": IN_PROGRESS}),
        answer(409, {"type": "invalid_request_error", "code": "lock_timeout", "message": "Could not acquire lock."}),
        answer(400, {"type": "idempotency_error", "message": "Keys for idempotent requests can only be used ..."}),
    ],
    ids=["409-in-progress", "409-lock-timeout", "400-idempotency-error"],
)
def test_a_conflict_from_stripe_leaves_the_refund_pending_until_stripe_says(payment, refunder, stripe, emulator, deliver, conflict):
    """Stripe made the refund (in another request with the key) and answered this
    one with a conflict: the outcome is unknown here, so the refund stays PENDING
    and reserved, and Stripe's word (the event, or the retry's answer) settles it."""
    stripe.answer_next = conflict
    with pytest.raises(ProviderUnavailable):
        refund_payment(actor=refunder, payment_id=str(payment.pk), amount=2000, idempotency_key="r-1")
    held = Refund.objects.get()
    assert (held.status, held.stripe_refund_id, held.sending_since) == (Refund.Status.PENDING, None, None)
    with pytest.raises(refund_services.RefundExceedsRemaining):  # still reserved: 999 remain
        refund_payment(actor=refunder, payment_id=str(payment.pk), amount=1000)
    assert all(code == 200 for _, code in deliver())  # refund.created, charge.refunded
    held.refresh_from_db()
    assert held.status == Refund.Status.SUCCEEDED and held.stripe_refund_id
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 2000)
    again = refund_payment(actor=refunder, payment_id=str(payment.pk), amount=2000, idempotency_key="r-1")
    assert again.refund.pk == held.pk and again.refund.status == Refund.Status.SUCCEEDED
    assert len(stripe_refunds(emulator)) == 1


def test_a_conflict_answered_to_the_retry_leaves_it_pending_then_the_next_retry_completes(payment, refunder, stripe, emulator):
    """Without any event: the conflict answer, then a retry with the key finishes it once."""
    stripe.answer_next = answer(409, {"type": "idempotency_error", "message": IN_PROGRESS})
    with pytest.raises(ProviderUnavailable):
        refund_payment(actor=refunder, payment_id=str(payment.pk), amount=700, idempotency_key="r-2")
    assert Refund.objects.get().status == Refund.Status.PENDING
    done = refund_payment(actor=refunder, payment_id=str(payment.pk), amount=700, idempotency_key="r-2")
    assert done.refund.status == Refund.Status.SUCCEEDED and done.payment.amount_refunded == 700
    assert len(stripe_refunds(emulator)) == 1 and stripe.keys == [f"refund-{done.refund.pk}"] * 2


@pytest.mark.parametrize("fault", ["connection_error", "timeout", "500", "429"])
def test_an_unknown_outcome_leaves_the_refund_pending_and_reserved(payment, refunder, emulator, fault):
    emulator.inject_fault(fault, path_prefix="/v1/refunds")
    with pytest.raises(ProviderUnavailable):
        refund_payment(actor=refunder, payment_id=str(payment.pk), amount=2500, idempotency_key="r")
    held = Refund.objects.get()
    assert (held.status, held.stripe_refund_id, held.sending_since) == (Refund.Status.PENDING, None, None)
    with pytest.raises(refund_services.RefundExceedsRemaining):
        refund_payment(actor=refunder, payment_id=str(payment.pk), amount=500)


def test_stripes_refusal_marks_the_refund_failed_and_frees_its_amount(payment, refunder, emulator):
    """A definitive no about the refund itself (here: the Dashboard refunded the
    charge in full, and its events have not arrived yet)."""
    emulator.dashboard_refund(payment.stripe_payment_intent_id)
    with pytest.raises(ProviderError):
        refund_payment(actor=refunder, payment_id=str(payment.pk), amount=1000)
    refused = Refund.objects.get()
    assert (refused.status, refused.failure_reason, refused.stripe_refund_id) == (
        Refund.Status.FAILED, "charge_already_refunded", None
    )
    assert refused.sending_since is None
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.SUCCEEDED, 0)


def test_a_refund_we_marked_failed_is_applied_when_stripe_reports_it_succeeded(payment, refunder, emulator, deliver,
                                                                             django_capture_on_commit_callbacks):
    """Stripe made the refund, its answer was lost, and we recorded it FAILED (as an
    answer taken for a refusal did, or a re-send after Stripe forgot the key): the
    refund.* event naming our refund id wins over our guess."""
    from payments.signals import refund_changed

    emulator.inject_fault("timeout", path_prefix="/v1/refunds")  # Stripe refunds, the answer is lost
    with pytest.raises(ProviderUnavailable):
        refund_payment(actor=refunder, payment_id=str(payment.pk), amount=700)
    Refund.objects.update(status=Refund.Status.FAILED, failure_reason="provider_error")  # our guess
    told = []
    receiver = lambda sender, refund, previous_status, **kw: told.append((refund.status, previous_status))  # noqa: E731
    refund_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert all(code == 200 for _, code in deliver())
    finally:
        refund_changed.disconnect(receiver)
    made = Refund.objects.get()
    assert (made.status, made.failure_reason) == (Refund.Status.SUCCEEDED, "")
    assert made.stripe_refund_id == stripe_refunds(emulator)[0]["id"]
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 700)
    assert Transaction.objects.get(refund=made).net == -700
    assert told == [("succeeded", None)]  # host apps hear of it once, as new
    with pytest.raises(refund_services.RefundExceedsRemaining):  # the 700 is not refundable twice
        refund_payment(actor=refunder, payment_id=str(payment.pk), amount=2300)


def test_an_older_refunds_refusal_on_re_send_does_not_fail_the_next_request(payment, refunder, emulator):
    """An unanswered refund that Stripe refuses when it is re-sent is marked FAILED,
    and the request that re-sent it goes on with its own refund."""
    emulator.inject_fault("connection_error", path_prefix="/v1/refunds")  # never reached Stripe
    with pytest.raises(ProviderUnavailable):
        refund_payment(actor=refunder, payment_id=str(payment.pk), amount=1000)
    emulator.dashboard_refund(payment.stripe_payment_intent_id, 2500)  # 499 left at Stripe
    result = refund_payment(actor=refunder, payment_id=str(payment.pk), amount=400)
    assert (result.refund.amount, result.refund.status) == (400, Refund.Status.SUCCEEDED)
    old = Refund.objects.get(amount=1000)
    assert (old.status, old.failure_reason) == (Refund.Status.FAILED, "amount_too_large")


def test_an_unanswered_refund_claimed_by_a_live_request_waits_for_its_lease(payment, refunder, emulator):
    """A claim younger than the lease is another request at work: not re-sent. An
    older one was left by a process that died mid-call: re-sent with the same key."""
    emulator.inject_fault("timeout", path_prefix="/v1/refunds")  # Stripe refunds, the answer is lost
    with pytest.raises(ProviderUnavailable):
        refund_payment(actor=refunder, payment_id=str(payment.pk), amount=2999, idempotency_key="all")
    Refund.objects.update(sending_since=timezone.now())  # as if a live request were sending it
    with pytest.raises(refund_services.RefundExceedsRemaining):
        refund_payment(actor=refunder, payment_id=str(payment.pk), amount=1)
    with pytest.raises(ProviderUnavailable, match="being sent"):  # the key's own retry waits too
        refund_payment(actor=refunder, payment_id=str(payment.pk), amount=2999, idempotency_key="all")
    assert Refund.objects.get().stripe_refund_id is None
    Refund.objects.update(sending_since=timezone.now() - refund_services.SEND_LEASE - timedelta(seconds=1))
    with pytest.raises(refund_services.NotRefundable):  # the re-send completed it: nothing is left
        refund_payment(actor=refunder, payment_id=str(payment.pk), amount=1)
    done = Refund.objects.get()
    assert (done.status, done.sending_since) == (Refund.Status.SUCCEEDED, None)
    assert len(stripe_refunds(emulator)) == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (DATABASE_URL): SQLite has no row locks and serializes every writer"
    " (test_a_refund_another_request_is_sending_is_not_sent_again shows the claim deterministically)",
)
@pytest.mark.parametrize("same_key", [True, False], ids=["one-key", "own-keys"])
def test_concurrent_refund_requests_never_send_one_refund_twice_at_once(transactional_db, payment, refunder, stripe, emulator,
                                                                        same_key):
    """8 requests at once, against a Stripe that answers 409 to a key still in
    flight: every refund key reaches Stripe once at a time, no refund Stripe made
    is recorded FAILED, and amountRefunded is what Stripe refunded."""
    from django.db import connections

    from tests.payments.services.test_concurrency import run_concurrently

    def attempt(i):
        try:
            key = "same" if same_key else None
            return refund_payment(actor=refunder, payment_id=str(payment.pk), amount=1000, idempotency_key=key).refund.pk
        except (ProviderUnavailable, refund_services.RefundExceedsRemaining, refund_services.NotRefundable) as exc:
            return exc.code
        finally:
            connections.close_all()

    stripe.delay = 0.1  # the requests overlap while Stripe works
    outcomes = run_concurrently(8, attempt)
    assert stripe.conflicts == 0  # no key was ever sent while in flight
    made = {r["metadata"]["refund_id"]: r for r in stripe_refunds(emulator)}
    assert len(made) == (1 if same_key else 2)  # 2999 holds two refunds of 1000
    assert not Refund.objects.filter(status=Refund.Status.FAILED).exists()
    for refund_id, stripe_refund in made.items():
        refund = Refund.objects.get(pk=refund_id)
        assert (refund.status, refund.stripe_refund_id) == (Refund.Status.SUCCEEDED, stripe_refund["id"])
    payment.refresh_from_db()
    assert payment.amount_refunded == 1000 * len(made)
    assert len([o for o in outcomes if isinstance(o, int)]) >= len(made)
