"""A subscription's Payments: each invoice's PaymentIntent becomes a Payment whose
payable is the subscription (so paymentStatus works for subscription payments as
for any other), a subscription we closed has every payment it took refunded in
full, and the payable adapter says a subscription is paid through its invoices.

Called with the locks of services/subscription_sync.py held (the user's Customer
row, then Subscription rows, then Invoice rows, then Payment rows).
"""

from __future__ import annotations

import logging
import time

from django.db import IntegrityError, transaction

from payments import gateway
from payments.errors import PayableNotPayable
from payments.ids import int_id
from payments.models import Invoice, Payment, PaymentStatus, Refund, Subscription
from payments.models.payment import SETTLED
from payments.payables import PayableAdapter
from payments.services.idempotency import stripe_key
from payments.services.payments import apply_payment_intent
from payments.services.refunds import apply_refund

logger = logging.getLogger(__name__)

SUBSCRIPTION_PAYABLE = "subscription"


def refund_if_closed(subscription: Subscription) -> None:
    """A subscription we closed gives nothing: every payment it took is refunded in full
    (once: the refund's Stripe idempotency key is tied to the payment)."""
    if not subscription.closed_reason:
        return
    taken = Payment.objects.filter(
        payable_type=SUBSCRIPTION_PAYABLE, payable_id=str(subscription.pk), status=PaymentStatus.SUCCEEDED,
        amount_refunded=0,
    ).exclude(stripe_payment_intent_id__isnull=True)
    for payment in taken:
        if payment.refunds.exists():
            continue
        data = gateway.create_refund(
            payment_intent_id=payment.stripe_payment_intent_id,
            amount=payment.amount,
            reason=Refund.Reason.DUPLICATE.value,
            metadata={"payment_id": str(payment.pk), "subscription_id": str(subscription.pk)},
            idempotency_key=stripe_key("subscription", subscription.pk, "closed-refund", payment.pk),
        )
        apply_refund(data=data)
        logger.warning(
            "payment %s of subscription %s (%s) refunded in full: the subscription was closed by us",
            payment.pk, subscription.pk, subscription.closed_reason,
        )


def payment_for_invoice(*, invoice: Invoice, subscription: Subscription, payment_intent_id: str) -> None:
    """The invoice's PaymentIntent as a Payment, made once. Once the invoice is paid,
    a Payment that has not heard so (its intent's events came before the Payment
    existed, or not yet) reads its intent and applies it."""
    payment = Payment.objects.filter(stripe_payment_intent_id=payment_intent_id).first()
    if payment is None:
        try:
            with transaction.atomic():  # a savepoint: a concurrent insert of the same intent is not an error
                payment = Payment.objects.create(
                    user_id=invoice.user_id,
                    price=subscription.price,
                    tier=subscription.tier,
                    amount=invoice.amount_due,
                    currency=invoice.currency,
                    payable_type=SUBSCRIPTION_PAYABLE,
                    payable_id=str(subscription.pk),
                    stripe_payment_intent_id=payment_intent_id,
                )
        except IntegrityError:
            payment = Payment.objects.filter(stripe_payment_intent_id=payment_intent_id).first()
    if payment is not None and invoice.status == Invoice.Status.PAID and payment.status not in SETTLED:
        intent = gateway.retrieve_payment_intent(payment_intent_id)
        apply_payment_intent(intent=intent, snapshot_at=int(time.time()), authoritative=True)


class SubscriptionPayable(PayableAdapter):
    """A subscription's invoices are Payments too; the subscription's own events
    decide its status, so paying one fulfils nothing more, and a subscription
    cannot be bought with createPaymentIntent."""

    type = SUBSCRIPTION_PAYABLE

    def get(self, payable_id: str) -> Subscription | None:
        return Subscription.objects.filter(pk=pk).first() if (pk := int_id(payable_id)) else None

    def owner_id(self, obj: Subscription) -> int:
        return obj.user_id

    def check_payable(self, obj: Subscription, price) -> None:
        raise PayableNotPayable("A subscription is paid through its invoices.", field="payable")

    def fulfil(self, obj: Subscription, payment) -> None:
        pass
