"""Refunds: ask for one (never more than what remains), apply what Stripe says."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Sum

from payments import gateway
from payments.errors import (
    Forbidden,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    NotRefundable,
    PaymentsError,
    ProviderUnavailable,
    RefundExceedsRemaining,
)
from payments.live import publish_payment_change, publish_refund_change
from payments.models import Payment, PaymentStatus, Refund
from payments.selectors import payment_get_for_viewer
from payments.services import fulfilment, ledger
from payments.services.access import may_refund, require_payments_enabled, require_user

logger = logging.getLogger(__name__)

MAX_DESCRIPTION = 1000


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
    next request (Stripe makes it once).
    """
    require_user(actor)
    require_payments_enabled()
    payment = payment_get_for_viewer(user=actor, payment_id=payment_id)
    if payment is None:
        raise NotFound("No such payment.", field="paymentId")
    if not may_refund(actor, payment):
        raise Forbidden("You may not refund this payment.")
    if amount is not None and amount <= 0:
        raise InvalidInput("amount must be positive.", field="amount")
    if reason is not None and reason not in Refund.Reason.values:
        raise InvalidInput("Unknown refund reason.", field="reason")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description is limited to {MAX_DESCRIPTION} characters.", field="description")
    if idempotency_key is not None and not (0 < len(idempotency_key) <= 255):
        raise InvalidInput("idempotencyKey must be 1 to 255 characters.", field="idempotencyKey")
    fingerprint = f"payment={payment.pk};amount={amount};reason={reason};description={description}"

    if idempotency_key:
        existing = Refund.objects.filter(requested_by=actor, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _replay(existing, fingerprint)

    resend_unanswered(payment=payment)
    try:
        refund = _reserve(
            payment=payment, actor=actor, amount=amount, reason=reason, description=description,
            idempotency_key=idempotency_key, fingerprint=fingerprint,
        )
    except IntegrityError:
        # A concurrent request with the same key won the insert.
        return _replay(Refund.objects.get(requested_by=actor, idempotency_key=idempotency_key), fingerprint)
    return _send(refund)


def _replay(refund: Refund, fingerprint: str) -> RefundResult:
    if refund.request_fingerprint != fingerprint:
        raise IdempotencyConflict("This idempotencyKey was already used with different input.", field="idempotencyKey")
    if refund.stripe_refund_id is None and refund.status == Refund.Status.PENDING:
        return _send(refund)
    refund.refresh_from_db()
    return RefundResult(refund, Payment.objects.get(pk=refund.payment_id))


@transaction.atomic
def _reserve(*, payment: Payment, actor, amount, reason, description, idempotency_key, fingerprint) -> Refund:
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED):
        raise NotRefundable("Only a succeeded payment that is not fully refunded can be refunded.", field="paymentId")
    reserved = payment.refunds.filter(status__in=Refund.RESERVING).aggregate(total=Sum("amount"))["total"] or 0
    remaining = payment.amount - reserved
    if remaining <= 0:
        raise NotRefundable("Everything has been refunded already (or is on its way back).", field="paymentId")
    amount = remaining if amount is None else amount
    if amount > remaining:
        raise RefundExceedsRemaining(f"At most {remaining} can still be refunded.", field="amount")
    with transaction.atomic():  # a savepoint: a duplicate key must not abort the lock's transaction
        return Refund.objects.create(
            payment=payment,
            amount=amount,
            currency=payment.currency,
            reason=reason,
            description=description,
            requested_by=actor,
            idempotency_key=idempotency_key or None,
            request_fingerprint=fingerprint,
        )


def _send(refund: Refund) -> RefundResult:
    payment = refund.payment
    try:
        data = gateway.create_refund(
            payment_intent_id=payment.stripe_payment_intent_id,
            amount=refund.amount,
            # OTHER is ours only: Stripe gets no reason, the description stays here.
            reason=None if refund.reason in (None, Refund.Reason.OTHER) else refund.reason,
            metadata={"refund_id": str(refund.pk), "payment_id": str(payment.pk)},
            idempotency_key=f"refund-{refund.pk}",
        )
    except ProviderUnavailable:
        raise  # unknown outcome: stays PENDING and reserved; the next request re-sends it
    except PaymentsError as exc:
        # Stripe refused it: nothing was refunded, release the reservation.
        Refund.objects.filter(pk=refund.pk, stripe_refund_id__isnull=True).update(
            status=Refund.Status.FAILED, failure_reason=exc.code.name.lower()
        )
        raise
    refund = apply_refund(data=data) or refund
    return RefundResult(refund, Payment.objects.get(pk=payment.pk))


def resend_unanswered(*, payment: Payment) -> None:
    """Refunds recorded but whose Stripe answer was lost: ask again with the same key."""
    for refund in payment.refunds.filter(stripe_refund_id__isnull=True, status=Refund.Status.PENDING):
        _send(refund)


def apply_refund(*, data: gateway.RefundData) -> Refund | None:
    """Apply a Stripe Refund (API answer or event) to our ledger, in one transaction
    with the Payment row locked. A refund made in the Dashboard is adopted."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(stripe_payment_intent_id=data.payment_intent).first()
        if payment is None:
            logger.info("refund %s is for a PaymentIntent that is not ours; ignored", data.id)
            return None
        refund = payment.refunds.filter(stripe_refund_id=data.id).first()
        if refund is None and str(data.metadata.get("refund_id", "")).isdigit():
            refund = payment.refunds.filter(pk=int(data.metadata["refund_id"]), stripe_refund_id__isnull=True).first()
        # New to host apps until Stripe has it: made in the Dashboard, or our reservation just sent.
        previous = refund.status if refund is not None and refund.stripe_refund_id else None
        if refund is None:
            refund = Refund(
                payment=payment,
                amount=data.amount,
                currency=data.currency,
                reason=data.reason if data.reason in Refund.Reason.values else None,
            )
        refund.stripe_refund_id = data.id
        changed = refund.apply_stripe_status(data.status, failure_reason=data.failure_reason) or previous is None
        if changed:
            refund.save()
            publish_refund_change(refund, previous_status=previous)
        if data.balance_transaction and refund.status in (Refund.Status.SUCCEEDED, Refund.Status.FAILED):
            ledger.record_balance_transaction(payment=payment, refund=refund, balance_transaction_id=data.balance_transaction)
        if data.failure_balance_transaction and refund.status == Refund.Status.FAILED:
            ledger.record_balance_transaction(
                payment=payment, refund=refund, balance_transaction_id=data.failure_balance_transaction
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
