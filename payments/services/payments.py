"""One-time payments: create (idempotent), apply what Stripe says, refresh."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from payments import gateway, payables
from payments.conf import get_config
from payments.errors import (
    Forbidden,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    PayableNotPayable,
    PriceInactive,
    ProviderError,
    SecurityAlarm,
    WrongPriceType,
)
from payments.live import publish_payment_change
from payments.ids import int_id
from payments.models import Customer, Payment, PaymentStatus, Price
from payments.models.payment import LIVE, OPEN
from payments.selectors import parse_uuid, payment_get_for_viewer
from payments.services import fulfilment, ledger, notifications, refunds
from payments.services.access import CHANGE_PAYMENT, holds_any, require_payments_enabled, require_user
from payments.services.customers import customer_get_or_create
from payments.services.idempotency import IdempotentRequest, Scope, idempotent_request, stripe_key

logger = logging.getLogger(__name__)

# createPaymentIntent and createCheckoutSession (a ONE_TIME price) share their
# keys: a Payment is the attempt of either.
PAYMENT_ATTEMPTS = Scope(Payment, owner="user")


@dataclass(frozen=True)
class PayableRef:
    type: str
    id: str


@dataclass(frozen=True)
class PaymentIntentResult:
    payment: Payment
    client_secret: str
    publishable_key: str


class AmountMismatch(SecurityAlarm):
    """Stripe reports our PaymentIntent with an amount or currency other than the one we asked for."""


def price_for_payment(price_id: str) -> Price:
    """The ONE_TIME price a payment is for, or the typed error a client gets."""
    price = Price.objects.select_related("tier").filter(pk=pk).first() if (pk := int_id(price_id)) else None
    if price is None:
        raise NotFound("No such price.", field="priceId")
    if not (price.active and price.tier.active):
        raise PriceInactive("This price is no longer offered.", field="priceId")
    if price.is_recurring:
        raise WrongPriceType("This is a recurring price: use createSubscription.", field="priceId")
    return price


def check_payable(*, user, price: Price, payable: PayableRef | None) -> int:
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


def _reusable(attempt: Payment, *, flow: str, price: Price) -> bool:
    """An open payment of the same flow and price is paid on, not replaced: a
    declined card is retried on the same PaymentIntent, or on the same Checkout
    page, which stays open after a decline; a Checkout page whose delayed method
    failed is complete and cannot be paid again."""
    if attempt.flow != flow or attempt.price_id != price.pk or attempt.status not in OPEN:
        return False
    if flow == Payment.Flow.CHECKOUT and attempt.status == PaymentStatus.FAILED and attempt.stripe_checkout_session_id:
        return gateway.retrieve_checkout_session(attempt.stripe_checkout_session_id).status == "open"
    return True


def start_attempt(*, request: IdempotentRequest, price: Price, payable: PayableRef | None, flow: str) -> Payment:
    """The Payment a new createPaymentIntent / createCheckoutSession goes on.

    At most one of a user's payments for a payable (for a price, when there is
    no payable) is live at Stripe at a time, so the customer can never pay for
    the same thing twice on two pages: under the user's row lock (which
    serialises their attempts), an open payment of the same flow and price is
    reused; every other open one is closed at Stripe first (its PaymentIntent
    canceled, its Checkout page expired) and marked CANCELED. While one is
    PROCESSING (money on its way), or when closing one shows that it was paid
    meanwhile, nothing new is started: PAYABLE_NOT_PAYABLE. The request's key is
    looked up again under the lock: a concurrent request with it is replayed.
    """
    user = request.user
    amount = check_payable(user=user, price=price, payable=payable)
    scope = {"payable_type": payable.type, "payable_id": payable.id} if payable else {"price": price, "payable_type": ""}
    moving, conflict = False, None
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk").get()
        earlier = request.earlier()
        if earlier is not None:
            return earlier
        attempts = Payment.objects.select_for_update(of=("self",)).filter(user=user, status__in=LIVE, **scope)
        reuse = None
        for attempt in attempts.order_by("-created_at"):
            if reuse is None and _reusable(attempt, flow=flow, price=price):
                reuse = attempt
            elif attempt.status == PaymentStatus.PROCESSING or not _close(attempt):
                moving = True
                break
        if not moving:
            if reuse is not None:
                return reuse
            try:  # the unique key is the backstop of the lock: a winner is replayed
                payment, _ = request.create(
                    user=user,
                    price=price,
                    tier=price.tier,
                    amount=amount,
                    currency=price.currency,
                    payable_type=payable.type if payable else "",
                    payable_id=payable.id if payable else "",
                    flow=flow,
                )
            except IdempotencyConflict as exc:
                conflict = exc
            else:
                return payment
    # Committed: what closing the others learnt from Stripe is recorded.
    if conflict is not None:
        raise conflict
    raise PayableNotPayable("A payment for this is on its way: wait for its outcome.", field="payable")


def _close(payment: Payment) -> bool:
    """End an open attempt (locked by the caller) at Stripe, so it can no longer
    take money, and mark it CANCELED. False when Stripe says money moved on it
    (it was paid meanwhile): what Stripe says is applied instead."""
    # Stripe under lock, kept: closing the other open attempts at Stripe (under the
    # user's lock, start_attempt) is what guarantees one live page per payable:
    # a customer cannot pay twice on two pages. Only when an open attempt of
    # another flow or price exists.
    if payment.stripe_checkout_session_id:
        try:
            gateway.expire_checkout_session(payment.stripe_checkout_session_id)
        except ProviderError:  # not open any more: completed, or expired already
            session = gateway.retrieve_checkout_session(payment.stripe_checkout_session_id)
            if session.payment_intent and not payment.stripe_payment_intent_id:
                payment.stripe_payment_intent_id = session.payment_intent
                payment.save(update_fields=["stripe_payment_intent_id", "updated_at"])
    if payment.stripe_payment_intent_id:
        try:
            intent = gateway.cancel_payment_intent(
                payment.stripe_payment_intent_id, idempotency_key=stripe_key("payment", payment.pk, "close")
            )
        except ProviderError:  # not cancelable: processing, succeeded, or canceled already
            intent = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
        apply_payment_intent(intent=intent, snapshot_at=int(time.time()), authoritative=True)
        payment.refresh_from_db()
        return payment.status == PaymentStatus.CANCELED
    # Nothing at Stripe can take money for it any more.
    previous = payment.status
    payment.apply_intent_status("canceled", snapshot_at=int(time.time()), authoritative=True)
    payment.save()
    publish_payment_change(payment, previous_status=previous)
    return True


def create_payment_intent(
    *, user, price_id: str, payable: PayableRef | None = None, idempotency_key: str | None = None
) -> PaymentIntentResult:
    """Start paying ``price`` (ONE_TIME) for ``payable``.

    The amount is the price's (or the payable's app's). The same idempotency key
    with the same input answers the same Payment and client secret; a second
    call for the same payable and price while a payment is open reuses that
    payment (``start_attempt``). Stripe's PaymentIntent is created under the
    Payment row's lock with the Payment's id as Stripe idempotency key, so it
    exists at most once; when Stripe cannot be reached the Payment stays PENDING
    without an intent, and the retry finishes it with that same key.
    """
    require_user(user)
    require_payments_enabled()
    request = idempotent_request(
        PAYMENT_ATTEMPTS, user=user, key=idempotency_key, operation="createPaymentIntent",
        price=str(price_id), payable=[payable.type, payable.id] if payable else None,
    )
    earlier = request.earlier()
    if earlier is not None:
        return _with_intent(earlier)
    payment = start_attempt(request=request, price=price_for_payment(price_id), payable=payable, flow=Payment.Flow.INTENT)
    return _with_intent(payment)


def _with_intent(payment: Payment) -> PaymentIntentResult:
    """The payment with its PaymentIntent's client secret, creating the intent
    if the payment is still open and has none (a closed payment never gets one)."""
    config = get_config()
    if payment.stripe_payment_intent_id:
        intent = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
        return PaymentIntentResult(payment, intent.client_secret or "", config.publishable_key)

    customer = customer_get_or_create(user=payment.user)
    with transaction.atomic():
        payment = Payment.objects.select_for_update(of=("self",)).select_related("price", "tier").get(pk=payment.pk)
        if payment.stripe_payment_intent_id:
            intent = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
        elif not payment.is_open:
            raise PayableNotPayable("This payment was closed: start a new one.", field="idempotencyKey")
        else:
            # Stripe under lock, kept: the check that the payment is still open and the
            # creation of its (only) PaymentIntent must be one step: start_attempt
            # closes open payments under this lock, and an intent created after
            # that close could take money for a payment we marked CANCELED. The
            # idempotency key (the payment's id) makes a retry the same intent.
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
                idempotency_key=stripe_key("payment", payment.pk, "intent"),
            )
            payment.stripe_payment_intent_id = intent.id
            payment.save(update_fields=["stripe_payment_intent_id", "updated_at"])
    return PaymentIntentResult(payment, intent.client_secret or "", config.publishable_key)


def _lock_payment_for_intent(intent: gateway.PaymentIntentData) -> Payment | None:
    """Our Payment for ``intent``, locked: the one that stored its id, or (only for
    a Checkout payment whose intent we do not know yet) the one its metadata names
    when Stripe confirms it (``_foreign_reason``). An intent that names one of our
    payments but is not its own is logged at WARNING and ignored: anyone who can
    make a PaymentIntent on the account can write our payment's id in its metadata."""
    # The tier comes with the lock: fulfilling reads it.
    qs = Payment.objects.select_for_update(of=("self",)).select_related("tier")
    payment = qs.filter(stripe_payment_intent_id=intent.id).first()
    if payment is not None:
        return payment
    payment_id = parse_uuid(intent.metadata.get("payment_id", ""))
    if payment_id is None:
        return None
    # Locked by its id: a request storing this intent's id right now holds the
    # lock; once it commits, the stored id is read here.
    payment = qs.filter(pk=payment_id).first()
    if payment is None:
        logger.warning("PaymentIntent %s names payment %s, which does not exist; ignored", intent.id, payment_id)
        return None
    if payment.stripe_payment_intent_id == intent.id:
        return payment
    reason = _foreign_reason(payment, intent)
    if reason:
        logger.warning(
            "PaymentIntent %s (%s, %s %s, customer %s) names payment %s in its metadata but is not its intent: %s;"
            " ignored", intent.id, intent.status, intent.amount, intent.currency, intent.customer, payment.pk, reason,
        )
        return None
    payment.stripe_payment_intent_id = intent.id
    return payment


def _foreign_reason(payment: Payment, intent: gateway.PaymentIntentData) -> str:
    """Why ``intent`` is not ``payment``'s ("" when it is). Ours by metadata only for
    a Checkout payment whose intent we do not know yet, made for its customer,
    amount and currency, and that Stripe says its Checkout session made. (A
    createPaymentIntent payment stores its intent's id before the client secret
    leaves us, so no one can pay an intent of ours whose id we do not have.)"""
    if payment.stripe_payment_intent_id:
        return f"the payment's intent is {payment.stripe_payment_intent_id}"
    if payment.flow != Payment.Flow.CHECKOUT or not payment.stripe_checkout_session_id:
        return "we never created it (the payment's own intent is stored before it can be paid)"
    customer = Customer.objects.filter(user_id=payment.user_id).values_list("stripe_customer_id", flat=True).first()
    if not customer or intent.customer != customer:
        return f"its customer is not the payment's ({customer})"
    if (intent.amount, intent.currency) != (payment.amount, payment.currency):
        return f"it is not for the payment's {payment.amount} {payment.currency}"
    # Stripe under lock, kept: once per Checkout payment (the first event of its intent,
    # before we store the intent's id): linking an intent to a payment by
    # metadata is only safe if no other request links one meanwhile.
    session = gateway.retrieve_checkout_session(payment.stripe_checkout_session_id)
    if session.payment_intent != intent.id:
        return f"the payment's Checkout session {session.id} has intent {session.payment_intent}"
    return ""


def apply_payment_intent(
    *, intent: gateway.PaymentIntentData, snapshot_at: int, authoritative: bool = False
) -> Payment | None:
    """Apply a PaymentIntent snapshot (from a webhook or a read) to its Payment.

    Runs in one transaction with the Payment row locked: the caller's, when
    there is one (the webhook's: no savepoint of its own, so an error rolls the
    caller's transaction back with it). On the move to SUCCEEDED the payable is
    fulfilled in the same transaction; the change is published after commit.
    Returns None for an intent that is not ours.
    """
    with transaction.atomic(savepoint=False):
        payment = _lock_payment_for_intent(intent)
        if payment is None:
            logger.info("PaymentIntent %s is not one of our payments; ignored", intent.id)
            return None
        if not authoritative and payment.snapshot_is_ambiguous(
            intent.status, snapshot_at=snapshot_at, failure_code=intent.failure_code
        ):
            # Stripe under lock, kept: only for an ambiguous snapshot (two of one payment in
            # the same second, rare): whether it is ambiguous is read from the
            # locked row, and the answer must be applied to that same state.
            intent, authoritative = gateway.retrieve_payment_intent(intent.id), True
        if (intent.amount, intent.currency) != (payment.amount, payment.currency):
            # Our own intent (its id is the one we stored), for an amount we never asked for.
            raise AmountMismatch(
                f"PaymentIntent {intent.id} ({intent.status}) is for {intent.amount} {intent.currency}, "
                f"payment {payment.pk} expects {payment.amount} {payment.currency}",
                payment_id=payment.pk,
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
            # Published first: the commit's callbacks run in this order, and the ones
            # below make a Stripe call (the ledger's balance transaction) and send the
            # sale's notifications; the subscriber's push does not wait behind them.
            publish_payment_change(payment, previous_status=previous)
            if payment.status == PaymentStatus.SUCCEEDED and previous != PaymentStatus.SUCCEEDED:
                if intent.latest_charge:
                    ledger.record_charge(payment=payment, charge_id=intent.latest_charge)
                fulfilment.fulfil(payment)
                notifications.notify_sale(payment)
                # Refunds can be told before the success they refund (events come in any
                # order): a change here is published as a change of its own, after this one.
                refunds.sync_refunded_amount(payment)
        return payment


def refresh_payment(*, user, payment_id: str) -> Payment:
    """Re-read the payment's PaymentIntent from Stripe and apply it (a late webhook)."""
    require_user(user)
    require_payments_enabled()
    payment = payment_get_for_viewer(user=user, payment_id=payment_id)
    if payment is None:
        raise NotFound("No such payment.", field="id")
    if payment.user_id != user.pk and not holds_any(user, CHANGE_PAYMENT):
        raise Forbidden("You may not refresh this payment.")  # they may see it (payments.view_payment)
    if not payment.stripe_payment_intent_id:
        return payment
    intent = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
    return apply_payment_intent(intent=intent, snapshot_at=int(time.time()), authoritative=True) or payment
