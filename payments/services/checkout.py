"""Stripe Checkout: a hosted payment page for apps with no card form of their own."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.db import transaction

from payments import gateway
from payments.errors import PayableNotPayable
from payments.live import publish_payment_change
from payments.ids import int_id
from payments.models import Payment, Price
from payments.services.access import require_payments_enabled, require_user
from payments.services.catalog import price_ensure_at_stripe, tier_ensure_product
from payments.services.customers import customer_get_or_create
from payments.services.idempotency import check_idempotency_key, idempotent_request, stripe_key
from payments.services.redirects import check_redirect
from payments.services.payments import (
    PAYMENT_ATTEMPTS,
    PayableRef,
    apply_payment_intent,
    price_for_payment,
    start_attempt,
)
from payments.services.subscription_sync import apply_subscription
from payments.services.subscriptions import start_subscription_checkout

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckoutResult:
    session: gateway.CheckoutSessionData
    payment: Payment | None


def create_checkout_session(
    *,
    user,
    price_id: str,
    success_url: str,
    cancel_url: str,
    payable: PayableRef | None = None,
    idempotency_key: str | None = None,
) -> CheckoutResult:
    """ONE_TIME price: a mode=payment session for a PENDING Payment (linked by
    metadata and client_reference_id). RECURRING price: a mode=subscription
    session; the subscription is adopted from Stripe's events when it exists."""
    require_user(user)
    require_payments_enabled()
    check_redirect(success_url, "successUrl")
    check_redirect(cancel_url, "cancelUrl")
    check_idempotency_key(idempotency_key)
    price = Price.objects.select_related("tier").filter(pk=pk).first() if (pk := int_id(price_id)) else None
    if price is not None and price.is_recurring:
        session = start_subscription_checkout(
            user=user, price_id=price_id, success_url=success_url, cancel_url=cancel_url, idempotency_key=idempotency_key
        )
        return CheckoutResult(session, None)
    return _payment_session(
        user=user, price_id=price_id, payable=payable, success_url=success_url, cancel_url=cancel_url,
        idempotency_key=idempotency_key,
    )


def _payment_session(*, user, price_id, payable, success_url, cancel_url, idempotency_key) -> CheckoutResult:
    request = idempotent_request(
        PAYMENT_ATTEMPTS, user=user, key=idempotency_key, operation="createCheckoutSession",
        price=str(price_id), payable=[payable.type, payable.id] if payable else None,
        success_url=success_url, cancel_url=cancel_url,
    )
    earlier = request.earlier()
    if earlier is not None:
        return _with_session(earlier, success_url, cancel_url)
    payment = start_attempt(request=request, price=price_for_payment(price_id), payable=payable, flow=Payment.Flow.CHECKOUT)
    return _with_session(payment, success_url, cancel_url)


def _with_session(payment: Payment, success_url: str, cancel_url: str) -> CheckoutResult:
    """The payment's Checkout session, or a new one while the payment is open and
    has none that can still be paid: one payable session per payment, so the
    customer can never pay the same payment twice on two pages. A closed payment
    (paid, canceled) answers its last session as it is, never a new one."""
    customer = customer_get_or_create(user=payment.user)
    with transaction.atomic():
        payment = Payment.objects.select_for_update(of=("self",)).select_related("price__tier").get(pk=payment.pk)
        previous = payment.stripe_checkout_session_id
        if previous:
            session = gateway.retrieve_checkout_session(previous)
            if session.status != "expired" or not payment.is_open:
                return CheckoutResult(session, payment)
        elif not payment.is_open:
            raise PayableNotPayable("This payment was closed: start a new one.", field="idempotencyKey")
        # Stripe under lock, kept: as for a PaymentIntent (services/payments.py
        # _with_intent): open-check and page creation are one step, so no page
        # can take money for a payment closed meanwhile.
        session = gateway.create_checkout_session(
            mode="payment",
            customer_id=customer.stripe_customer_id,
            success_url=success_url,
            cancel_url=cancel_url,
            client_reference_id=str(payment.pk),
            metadata={"payment_id": str(payment.pk), "user_id": str(payment.user_id),
                      "payable_type": payment.payable_type, "payable_id": payment.payable_id},
            idempotency_key=stripe_key("payment", payment.pk, "checkout", "after", previous or "none"),
            **_line_item(payment),
        )
        payment.stripe_checkout_session_id = session.id
        payment.save(update_fields=["stripe_checkout_session_id", "updated_at"])
    return CheckoutResult(session, payment)


def _line_item(payment: Payment) -> dict:
    """The Stripe Price when the payment costs what the price says; else (an app
    computed its own amount, e.g. a deposit) that amount on the tier's product."""
    price = payment.price
    if payment.amount == price.unit_amount:
        return {"price_id": price_ensure_at_stripe(price=price)}
    return {"amount": payment.amount, "currency": payment.currency, "product_id": tier_ensure_product(tier=price.tier)}


def apply_checkout_session(*, data: gateway.CheckoutSessionData, snapshot_at: int) -> None:
    """checkout.session.completed / .async_payment_succeeded / .async_payment_failed / .expired."""
    if data.mode == "subscription":
        if data.subscription:
            subscription = gateway.retrieve_subscription(data.subscription)
            apply_subscription(data=subscription, snapshot_at=max(snapshot_at, subscription.created))
        return
    payment_id = data.metadata.get("payment_id") or data.client_reference_id
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(stripe_checkout_session_id=data.id).first()
        if payment is None:
            logger.info("checkout session %s (payment %s) is not ours; ignored", data.id, payment_id)
            return
        if data.status == "expired":
            # Stripe cancels the session's intent too; the payment ends here either way.
            previous = payment.status
            if payment.is_open and payment.apply_intent_status("canceled", snapshot_at=snapshot_at):
                payment.save()
                publish_payment_change(payment, previous_status=previous)
            return
        if data.payment_intent and payment.stripe_payment_intent_id is None:
            payment.stripe_payment_intent_id = data.payment_intent
            payment.save(update_fields=["stripe_payment_intent_id", "updated_at"])
    if data.payment_intent:
        # The session says how it went; the intent says it with our ledger's detail.
        apply_payment_intent(
            intent=gateway.retrieve_payment_intent(data.payment_intent), snapshot_at=int(time.time()), authoritative=True
        )
