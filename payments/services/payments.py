"""One-time payments: create (idempotent), apply what Stripe says, refresh."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from payments import gateway, payables
from payments.conf import get_config
from payments.errors import (
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    PriceInactive,
    WrongPriceType,
)
from payments.live import publish_payment_change
from payments.models import Payment, PaymentStatus, Price
from payments.models.payment import OPEN
from payments.selectors import parse_uuid, payment_get_for_viewer
from payments.services import fulfilment, ledger, notifications, refunds
from payments.services.access import require_payments_enabled, require_user
from payments.services.customers import customer_get_or_create

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PayableRef:
    type: str
    id: str


@dataclass(frozen=True)
class PaymentIntentResult:
    payment: Payment
    client_secret: str
    publishable_key: str


class AmountMismatch(Exception):
    """Stripe reports a succeeded amount other than the one we asked for."""


def _price_for_payment(price_id: str) -> Price:
    price = Price.objects.select_related("tier").filter(pk=price_id).first() if str(price_id).isdigit() else None
    if price is None:
        raise NotFound("No such price.", field="priceId")
    if not (price.active and price.tier.active):
        raise PriceInactive("This price is no longer offered.", field="priceId")
    if price.is_recurring:
        raise WrongPriceType("This is a recurring price: use createSubscription.", field="priceId")
    return price


def _check_payable(*, user, price: Price, payable: PayableRef | None) -> int:
    """Check the viewer may pay for ``payable`` at ``price``; returns the amount to take."""
    if payable is None:
        return price.unit_amount
    adapter = payables.get_adapter(payable.type)
    if adapter is None:
        raise InvalidInput(f"Unknown payable type {payable.type!r}.", field="payable.type")
    obj = adapter.get(payable.id)
    # Someone else's object is answered like a missing one: existence is not leaked.
    if obj is None or adapter.owner_id(obj) != user.pk:
        raise NotFound("No such payable.", field="payable.id")
    adapter.check_payable(obj, price)
    return adapter.amount(obj, price)


def _fingerprint(price_id: str, payable: PayableRef | None) -> str:
    return f"price={price_id};payable={payable.type}:{payable.id}" if payable else f"price={price_id};payable="


def create_payment_intent(
    *, user, price_id: str, payable: PayableRef | None = None, idempotency_key: str | None = None
) -> PaymentIntentResult:
    """Start paying ``price`` (ONE_TIME) for ``payable``.

    The amount is the price's. The same idempotency key with the same input
    answers the same Payment and client secret; a second call for the same
    payable and price while a payment is open reuses that payment. Stripe's
    PaymentIntent is created under the Payment row's lock with the Payment's id
    as Stripe idempotency key, so it exists at most once; when Stripe cannot be
    reached the Payment stays PENDING without an intent, and the retry finishes
    it with that same key.
    """
    require_user(user)
    require_payments_enabled()
    if idempotency_key is not None and not (0 < len(idempotency_key) <= 255):
        raise InvalidInput("idempotencyKey must be 1 to 255 characters.", field="idempotencyKey")
    fingerprint = _fingerprint(str(price_id), payable)

    if idempotency_key:
        existing = Payment.objects.filter(user=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _replay(existing, fingerprint)

    price = _price_for_payment(price_id)
    amount = _check_payable(user=user, price=price, payable=payable)

    open_payment = (
        Payment.objects.filter(
            user=user,
            price=price,
            payable_type=payable.type if payable else "",
            payable_id=payable.id if payable else "",
            status__in=OPEN,
        )
        .order_by("-created_at")
        .first()
    )
    if open_payment is not None:
        return _with_intent(open_payment)

    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                user=user,
                price=price,
                tier=price.tier,
                amount=amount,
                currency=price.currency,
                payable_type=payable.type if payable else "",
                payable_id=payable.id if payable else "",
                idempotency_key=idempotency_key or None,
                request_fingerprint=fingerprint,
            )
    except IntegrityError:
        # A concurrent request with the same key won the insert.
        return _replay(Payment.objects.get(user=user, idempotency_key=idempotency_key), fingerprint)
    return _with_intent(payment)


def _replay(payment: Payment, fingerprint: str) -> PaymentIntentResult:
    if payment.request_fingerprint != fingerprint:
        raise IdempotencyConflict(
            "This idempotencyKey was already used with different input.", field="idempotencyKey"
        )
    return _with_intent(payment)


def _with_intent(payment: Payment) -> PaymentIntentResult:
    """The payment with its PaymentIntent's client secret, creating the intent if it is missing."""
    config = get_config()
    if payment.stripe_payment_intent_id:
        intent = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
        return PaymentIntentResult(payment, intent.client_secret or "", config.publishable_key)

    customer = customer_get_or_create(user=payment.user)
    with transaction.atomic():
        payment = Payment.objects.select_for_update(of=("self",)).select_related("price", "tier").get(pk=payment.pk)
        if payment.stripe_payment_intent_id:
            intent = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
        else:
            intent = gateway.create_payment_intent(
                amount=payment.amount,
                currency=payment.currency,
                customer_id=customer.stripe_customer_id,
                metadata={
                    "payment_id": str(payment.pk),
                    "user_id": str(payment.user_id),
                    "price_id": str(payment.price_id or ""),
                    "payable_type": payment.payable_type,
                    "payable_id": payment.payable_id,
                },
                description=f"{payment.tier.name if payment.tier else 'Payment'} ({payment.price.display if payment.price else ''})".strip(),
                idempotency_key=f"payment-{payment.pk}-intent",
            )
            payment.stripe_payment_intent_id = intent.id
            payment.save(update_fields=["stripe_payment_intent_id", "updated_at"])
    return PaymentIntentResult(payment, intent.client_secret or "", config.publishable_key)


def _lock_payment_for_intent(intent: gateway.PaymentIntentData) -> Payment | None:
    qs = Payment.objects.select_for_update()
    payment = qs.filter(stripe_payment_intent_id=intent.id).first()
    if payment is None:
        # The webhook can overtake the request that stores the intent's id.
        payment_id = parse_uuid(intent.metadata.get("payment_id", ""))
        if payment_id is None:
            return None
        payment = qs.filter(pk=payment_id, stripe_payment_intent_id__isnull=True).first()
        if payment is not None:
            payment.stripe_payment_intent_id = intent.id
    return payment


def apply_payment_intent(
    *, intent: gateway.PaymentIntentData, snapshot_at: int, authoritative: bool = False
) -> Payment | None:
    """Apply a PaymentIntent snapshot (from a webhook or a read) to its Payment.

    Runs in one transaction with the Payment row locked. On the move to
    SUCCEEDED the payable is fulfilled in the same transaction; the change is
    published after commit. Returns None for an intent that is not ours.
    """
    with transaction.atomic():
        payment = _lock_payment_for_intent(intent)
        if payment is None:
            logger.info("PaymentIntent %s is not one of our payments; ignored", intent.id)
            return None
        if not authoritative and payment.snapshot_is_ambiguous(
            intent.status, snapshot_at=snapshot_at, failure_code=intent.failure_code
        ):
            intent, authoritative = gateway.retrieve_payment_intent(intent.id), True
        if intent.status == "succeeded" and (intent.amount, intent.currency) != (payment.amount, payment.currency):
            raise AmountMismatch(
                f"PaymentIntent {intent.id} succeeded for {intent.amount} {intent.currency}, "
                f"payment {payment.pk} expects {payment.amount} {payment.currency}"
            )
        previous = payment.status
        changed = payment.apply_intent_status(
            intent.status,
            snapshot_at=snapshot_at,
            failure_code=intent.failure_code,
            failure_message=intent.failure_message,
            authoritative=authoritative,
        )
        if changed or payment.stripe_payment_intent_id != intent.id:
            payment.save()
        if changed:
            if payment.status == PaymentStatus.SUCCEEDED and previous != PaymentStatus.SUCCEEDED:
                if intent.latest_charge:
                    ledger.record_charge(payment=payment, charge_id=intent.latest_charge)
                fulfilment.fulfil(payment)
                notifications.notify_sale(payment)
                # Refunds can be told before the success they refund (events come in any order).
                refunds.sync_refunded_amount(payment)
            publish_payment_change(payment, previous_status=previous)
        return payment


def refresh_payment(*, user, payment_id: str) -> Payment:
    """Re-read the payment's PaymentIntent from Stripe and apply it (a late webhook)."""
    require_user(user)
    require_payments_enabled()
    payment = payment_get_for_viewer(user=user, payment_id=payment_id)
    if payment is None:
        raise NotFound("No such payment.", field="id")
    if not payment.stripe_payment_intent_id:
        return payment
    intent = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
    return apply_payment_intent(intent=intent, snapshot_at=int(time.time()), authoritative=True) or payment
