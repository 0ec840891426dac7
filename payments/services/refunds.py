"""Refunds: ask for one (never more than what remains), apply what Stripe says."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from payments import gateway
from payments.errors import (
    CardDeclined,
    Forbidden,
    InvalidInput,
    NotFound,
    NotRefundable,
    PaymentsError,
    ProviderError,
    ProviderUnavailable,
    RefundExceedsRemaining,
    SecurityAlarm,
)
from payments.live import publish_payment_change, publish_refund_change
from payments.ids import int_id
from payments.money import amount_problem
from payments.models import Payment, PaymentStatus, Refund, Transaction
from payments.selectors import payment_get_for_viewer
from payments.services import fulfilment, ledger
from payments.services.access import REFUND_PAYMENT, VIEW_PAYMENT, may_refund, require_payments_enabled, require_user
from payments.services.idempotency import IdempotentRequest, Scope, idempotent_request, stripe_key

logger = logging.getLogger(__name__)

MAX_DESCRIPTION = 1000

# A key names a refund among those its requester asked for (staff refund others' payments).
REFUND_REQUESTS = Scope(Refund, owner="requested_by")

# How long one request's claim to send a refund lasts. While it holds, no other
# request sends that refund, so Stripe never gets its idempotency key twice at
# once (it would answer the second with 409). It outlasts one gateway call
# (the stripe library's 80 s timeout, times up to 3 attempts with
# STRIPE_MAX_NETWORK_RETRIES=2); a claim left by a process that died mid-call
# is taken over once it is older than this.
SEND_LEASE = timedelta(minutes=5)

# HTTP statuses of Stripe's definitive "no" to a refund request (an invalid
# request about the refund itself: amount too large, charge already refunded,
# no such PaymentIntent): the refund was not made and will not be under this key.
# Anything else (409 from a concurrent request with the same key, 401/403, 429,
# 5xx, a lost connection) leaves the outcome unknown.
_REFUSALS = frozenset({400, 402, 404})


@dataclass(frozen=True)
class RefundResult:
    refund: Refund
    payment: Payment


def refund_payment(
    *,
    actor,
    payment_id: str,
    amount: int | None = None,
    reason: str | None = None,
    description: str = "",
    idempotency_key: str | None = None,
) -> RefundResult:
    """Refund ``amount`` (None: everything not yet refunded) of a succeeded payment.

    The Refund is recorded PENDING under the Payment row's lock, after checking
    the amount against what remains (refunds still pending count), and only then
    is Stripe asked, with the Refund's id as idempotency key: concurrent requests
    can never together exceed the payment, and a lost answer is re-sent by the
    next request (Stripe makes it once). Only the request holding a refund's
    send claim sends it (see ``SEND_LEASE``).
    """
    require_user(actor)
    require_payments_enabled()
    # Found by its owner, by who may see it, and by who may refund it; refused
    # (FORBIDDEN) below to those of them who may not refund it.
    payment = payment_get_for_viewer(user=actor, payment_id=payment_id, any_with=(*VIEW_PAYMENT, *REFUND_PAYMENT))
    if payment is None:
        raise NotFound("No such payment.", field="paymentId")
    if not may_refund(actor, payment):
        raise Forbidden("You may not refund this payment.")
    if amount is not None and amount <= 0:
        raise InvalidInput("amount must be positive.", field="amount")
    if amount is not None and (problem := amount_problem(amount, payment.currency)):
        raise InvalidInput(problem, field="amount")
    if reason is not None and reason not in Refund.Reason.values:
        raise InvalidInput("Unknown refund reason.", field="reason")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description is limited to {MAX_DESCRIPTION} characters.", field="description")
    request = idempotent_request(
        REFUND_REQUESTS, user=actor, key=idempotency_key, operation="refund",
        payment=payment.pk, amount=amount, reason=reason, description=description,
    )
    earlier = request.earlier()
    if earlier is not None:
        return _replay(earlier)

    resend_unanswered(payment=payment)
    refund, created = _reserve(
        payment=payment, request=request, amount=amount, reason=reason, description=description
    )
    if not created:  # a concurrent request with the same key made it
        return _replay(refund)
    return _send(refund, claim=refund.sending_since)


def _replay(refund: Refund) -> RefundResult:
    """The refund this key made (the helper checked the input): sent again if its
    answer was lost and no other request is sending it."""
    if refund.stripe_refund_id is None and refund.status == Refund.Status.PENDING:
        claimed, claim = _claim_unanswered(payment_id=refund.payment_id, refund_id=refund.pk)
        if claimed:
            return _send(claimed[0], claim=claim)
        refund.refresh_from_db()
        if refund.stripe_refund_id is None and refund.status == Refund.Status.PENDING:
            # Another request (the first with this key) is sending it right now.
            raise ProviderUnavailable(
                "This refund is being sent to Stripe right now; retry with the same idempotencyKey."
            )
    refund.refresh_from_db()
    return RefundResult(refund, Payment.objects.get(pk=refund.payment_id))


@transaction.atomic
def _reserve(*, payment: Payment, request: IdempotentRequest, amount, reason, description) -> tuple[Refund, bool]:
    """(the new PENDING refund, True), or (the one this key made, False)."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    earlier = request.earlier()  # again, under the lock: a concurrent request with the same key
    if earlier is not None:
        return earlier, False
    if payment.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED):
        raise NotRefundable("Only a succeeded payment that is not fully refunded can be refunded.", field="paymentId")
    reserved = payment.refunds.filter(status__in=Refund.RESERVING).aggregate(total=Sum("amount"))["total"] or 0
    remaining = max(payment.amount - reserved, 0)
    if remaining == 0:
        # Not everything has come back (else the payment would be REFUNDED): the
        # rest is held by refunds still pending, and frees up if one fails.
        raise RefundExceedsRemaining(
            "Nothing can be refunded now: the rest is held by refunds still on their way back.", field="amount"
        )
    amount = remaining if amount is None else amount
    if amount > remaining:
        raise RefundExceedsRemaining(f"At most {remaining} can still be refunded.", field="amount")
    # The same key for another payment is not under this lock: the unique key
    # answers it (the winner, replayed).
    return request.create(
        payment=payment,
        amount=amount,
        currency=payment.currency,
        reason=reason,
        description=description,
        requested_by=request.user,
        sending_since=timezone.now(),  # claimed by this request, which sends it next
    )


def _claim_unanswered(*, payment_id, refund_id: int | None = None) -> tuple[list[Refund], datetime]:
    """Claim, under the Payment row's lock, the refunds recorded but not known
    to Stripe (PENDING, no Stripe id) that no other request is sending: unclaimed,
    or claimed longer than ``SEND_LEASE`` ago. Each claim is a conditional
    UPDATE, so it holds even where the row lock is a no-op (SQLite)."""
    with transaction.atomic():
        Payment.objects.select_for_update().filter(pk=payment_id).first()
        now = timezone.now()
        sendable = Refund.objects.filter(
            payment_id=payment_id, stripe_refund_id__isnull=True, status=Refund.Status.PENDING
        ).filter(Q(sending_since__isnull=True) | Q(sending_since__lt=now - SEND_LEASE))
        if refund_id is not None:
            sendable = sendable.filter(pk=refund_id)
        claimed = []
        for refund in sendable.select_related("payment").order_by("created_at", "id"):
            if sendable.filter(pk=refund.pk).update(sending_since=now):
                refund.sending_since = now
                claimed.append(refund)
    return claimed, now


def _release(refund: Refund, claim: datetime | None) -> None:
    """Give up this request's claim: the refund may be sent again by the next request."""
    Refund.objects.filter(pk=refund.pk, sending_since=claim).update(sending_since=None)


def _refused(exc: PaymentsError) -> bool:
    """Whether Stripe definitively refused this refund (it was not made). A
    conflict (409: the same key in flight elsewhere; an idempotency error) or
    an unreachable Stripe leaves the outcome unknown."""
    if isinstance(exc, CardDeclined):
        return True
    if not isinstance(exc, ProviderError):
        return False  # ProviderUnavailable (409 too), IdempotencyConflict
    return exc.http_status is None or exc.http_status in _REFUSALS


def _mark_refused(refund: Refund, exc: PaymentsError) -> None:
    """Stripe said no: nothing was refunded, release the reservation (under the
    payment's lock). Should Stripe ever report this refund made after all
    (a refund.* event naming it), apply_refund takes Stripe's word."""
    code = getattr(exc, "stripe_code", None) or getattr(exc, "decline_code", None) or exc.code.name.lower()
    with transaction.atomic():
        Payment.objects.select_for_update().filter(pk=refund.payment_id).first()
        Refund.objects.filter(pk=refund.pk, stripe_refund_id__isnull=True, status=Refund.Status.PENDING).update(
            status=Refund.Status.FAILED, failure_reason=str(code)[:100], sending_since=None
        )


def _send(refund: Refund, *, claim: datetime | None) -> RefundResult:
    """Ask Stripe for ``refund``, which this request has claimed (``claim``);
    the claim is given up however it ends."""
    payment = refund.payment
    try:
        try:
            data = gateway.create_refund(
                payment_intent_id=payment.stripe_payment_intent_id,
                amount=refund.amount,
                # OTHER is ours only: Stripe gets no reason, the description stays here.
                reason=None if refund.reason in (None, Refund.Reason.OTHER) else refund.reason,
                metadata={"refund_id": str(refund.pk), "payment_id": str(payment.pk)},
                idempotency_key=stripe_key("refund", refund.pk),
            )
        except PaymentsError as exc:
            if _refused(exc):
                _mark_refused(refund, exc)
                raise
            if isinstance(exc, ProviderUnavailable):
                raise  # unknown outcome: stays PENDING and reserved; the next request re-sends it
            # A conflict (Stripe is still working on this key elsewhere) or another
            # answer that is not a refusal: the outcome is unknown too, and it stays
            # PENDING and reserved until Stripe's answer (or event) says what happened.
            raise ProviderUnavailable(
                "Stripe has not settled this refund yet; retry with the same idempotencyKey."
            ) from exc
        refund = apply_refund(data=data) or refund
    finally:
        _release(refund, claim)
    return RefundResult(refund, Payment.objects.get(pk=payment.pk))


def resend_unanswered(*, payment: Payment) -> None:
    """Refunds recorded but whose Stripe answer was lost: ask again with the same
    key. Only those no other request is sending (claimed here first); their
    outcome is not this request's, so their errors are logged, not raised."""
    claimed, claim = _claim_unanswered(payment_id=payment.pk)
    for index, refund in enumerate(claimed):
        try:
            _send(refund, claim=claim)
        except PaymentsError as exc:
            logger.warning("refund %s re-sent to Stripe: %s (%s)", refund.pk, exc.code.name, exc.message)
            if isinstance(exc, ProviderUnavailable):
                for unsent in claimed[index + 1 :]:  # Stripe is not answering: leave the rest for later
                    _release(unsent, claim)
                return


def resend_refund(*, refund: Refund) -> Refund | None:
    """Send one refund recorded but not known to Stripe (PENDING, no Stripe id)
    again with its own key (``payments_reconcile``): None when another request
    holds its send claim or it is settled meanwhile. Errors are the caller's."""
    claimed, claim = _claim_unanswered(payment_id=refund.payment_id, refund_id=refund.pk)
    if not claimed:
        return None
    return _send(claimed[0], claim=claim).refund


def apply_refund(*, data: gateway.RefundData) -> Refund | None:
    """Apply a Stripe Refund (API answer or event) to our ledger, in one transaction
    with the Payment row locked. A refund made in the Dashboard is adopted."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update().filter(stripe_payment_intent_id=data.payment_intent).first()
            if data.payment_intent else None
        )
        if payment is None:
            if data.metadata.get("payment_id") or data.metadata.get("refund_id"):
                logger.warning(
                    "refund %s (PaymentIntent %s) names our payment %s / refund %s in its metadata, but its"
                    " PaymentIntent is not that of any payment of ours; ignored",
                    data.id, data.payment_intent, data.metadata.get("payment_id"), data.metadata.get("refund_id"),
                )
            else:
                logger.info("refund %s is for a PaymentIntent that is not ours; ignored", data.id)
            return None
        if data.currency != payment.currency:
            raise SecurityAlarm(
                f"refund {data.id} of PaymentIntent {data.payment_intent} is in {data.currency}, "
                f"payment {payment.pk} was paid in {payment.currency}", payment_id=payment.pk,
            )
        refund = payment.refunds.filter(stripe_refund_id=data.id).first()
        if refund is None and (named_pk := int_id(data.metadata.get("refund_id"))):
            # Ours, first heard of from Stripe: still PENDING, or FAILED by us
            # after an answer we took as a refusal. Either way Stripe's word wins,
            # if it is the refund we asked for (its amount); else it is a refund
            # of our payment made elsewhere, adopted as such below.
            named = payment.refunds.filter(pk=named_pk, stripe_refund_id__isnull=True).first()
            if named is not None and named.amount != data.amount:
                logger.warning(
                    "refund %s names our refund %s in its metadata but is for %s, not %s: not linked to it",
                    data.id, named.pk, data.amount, named.amount,
                )
                named = None
            refund = named
        # New to host apps until Stripe has it: made in the Dashboard, or our reservation just sent.
        previous = refund.status if refund is not None and refund.stripe_refund_id else None
        first_word = refund is not None and refund.stripe_refund_id is None
        if refund is None:
            refund = Refund(
                payment=payment,
                amount=data.amount,
                currency=data.currency,
                reason=data.reason if data.reason in Refund.Reason.values else None,
            )
        refund.stripe_refund_id = data.id
        changed = (
            refund.apply_stripe_status(data.status, failure_reason=data.failure_reason, first_word=first_word)
            or previous is None
        )
        if changed:
            refund.save()
            publish_refund_change(refund, previous_status=previous)
        if data.balance_transaction and refund.status in (Refund.Status.SUCCEEDED, Refund.Status.FAILED):
            ledger.record_balance_transaction(payment=payment, refund=refund, balance_transaction_id=data.balance_transaction)
        if data.failure_balance_transaction and refund.status == Refund.Status.FAILED:
            ledger.record_balance_transaction(
                payment=payment, refund=refund, balance_transaction_id=data.failure_balance_transaction,
                kind=Transaction.Type.REFUND_FAILURE,
            )
        sync_refunded_amount(payment, refunds_changed=changed)
        return refund


def sync_refunded_amount(payment: Payment, *, refunds_changed: bool = False) -> None:
    """Make the (locked) payment's amountRefunded and status follow its succeeded
    refunds; revoke the payable on a full refund, give it back if that is undone.
    Subscribers are told of any change of the payment or of its refunds."""
    total = payment.refunds.filter(status=Refund.Status.SUCCEEDED).aggregate(total=Sum("amount"))["total"] or 0
    previous = payment.status
    if not (payment.apply_refunded_amount(total) or refunds_changed):
        return
    payment.save(update_fields=["status", "amount_refunded", "updated_at"])
    if payment.status == PaymentStatus.REFUNDED:
        fulfilment.revoke(payment)
    elif previous == PaymentStatus.REFUNDED:
        fulfilment.fulfil(payment)
    publish_payment_change(payment, previous_status=previous)


def sync_refunds_from_stripe(*, payment_intent_id: str) -> None:
    """charge.refunded carries the charge, not its refunds: read them and apply each."""
    for data in gateway.list_refunds(payment_intent_id=payment_intent_id):
        apply_refund(data=data)
