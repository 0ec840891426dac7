"""Subscriptions and invoices: subscribe, cancel, apply what Stripe says, entitlement."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from django.db import IntegrityError, transaction

from payments import gateway
from payments.payables import PayableAdapter
from payments.conf import get_config
from payments.errors import (
    AlreadySubscribed,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    PayableNotPayable,
    PriceInactive,
    WrongPriceType,
)
from payments.live import publish_entitlement_change
from payments.models import Customer, Invoice, Payment, Price, Subscription
from payments.selectors import subscription_get_for_viewer, user_active_tier
from payments.services.access import require_payments_enabled, require_user
from payments.services.catalog import price_ensure_at_stripe
from payments.services.customers import customer_get_or_create
from payments.services.payments import apply_payment_intent

logger = logging.getLogger(__name__)

SUBSCRIPTION_PAYABLE = "subscription"


@dataclass(frozen=True)
class SubscriptionResult:
    subscription: Subscription
    client_secret: str | None
    publishable_key: str


def _ts(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=timezone.utc) if value else None


def _recurring_price(price_id: str) -> Price:
    price = Price.objects.select_related("tier").filter(pk=price_id).first() if str(price_id).isdigit() else None
    if price is None:
        raise NotFound("No such price.", field="priceId")
    if not (price.active and price.tier.active):
        raise PriceInactive("This price is no longer offered.", field="priceId")
    if not price.is_recurring:
        raise WrongPriceType("This is a one-time price: use createPaymentIntent.", field="priceId")
    return price


def create_subscription(*, user, price_id: str, idempotency_key: str | None = None) -> SubscriptionResult:
    """Subscribe the viewer to a RECURRING price (payment_behavior=default_incomplete).

    ALREADY_SUBSCRIBED while an ACTIVE, TRIALING or PAST_DUE subscription exists;
    an INCOMPLETE one for the same price is reused. As for payments, the row is
    written first and Stripe is asked under its lock with the row's id as
    idempotency key, so a lost answer never makes a second subscription.
    """
    require_user(user)
    require_payments_enabled()
    if idempotency_key is not None and not (0 < len(idempotency_key) <= 255):
        raise InvalidInput("idempotencyKey must be 1 to 255 characters.", field="idempotencyKey")
    fingerprint = f"price={price_id}"
    if idempotency_key:
        existing = Subscription.objects.filter(user=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.request_fingerprint != fingerprint:
                raise IdempotencyConflict("This idempotencyKey was already used with different input.", field="idempotencyKey")
            return _with_stripe(existing)

    price = _recurring_price(price_id)
    if Subscription.objects.filter(user=user, status__in=Subscription.BLOCKING_NEW).exists():
        raise AlreadySubscribed("You already have a subscription: cancel it or wait for it to end.")
    incomplete = Subscription.objects.filter(user=user, price=price, status=Subscription.Status.INCOMPLETE).first()
    if incomplete is not None:
        return _with_stripe(incomplete)
    try:
        with transaction.atomic():
            subscription = Subscription.objects.create(
                user=user, price=price, tier=price.tier,
                idempotency_key=idempotency_key or None, request_fingerprint=fingerprint,
            )
    except IntegrityError:
        return _with_stripe(Subscription.objects.get(user=user, idempotency_key=idempotency_key))
    return _with_stripe(subscription)


def _with_stripe(subscription: Subscription) -> SubscriptionResult:
    """The subscription with its first invoice's client secret; created at Stripe if it is not yet."""
    config = get_config()
    if subscription.stripe_subscription_id:
        data = gateway.retrieve_subscription(subscription.stripe_subscription_id)
    else:
        customer = customer_get_or_create(user=subscription.user)
        stripe_price = price_ensure_at_stripe(price=subscription.price)
        with transaction.atomic():
            locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
            if locked.stripe_subscription_id:
                data = gateway.retrieve_subscription(locked.stripe_subscription_id)
            else:
                data = gateway.create_subscription(
                    customer_id=customer.stripe_customer_id,
                    price_id=stripe_price,
                    metadata={"subscription_id": str(locked.pk), "user_id": str(locked.user_id)},
                    idempotency_key=f"subscription-{locked.pk}-create",
                )
                locked.stripe_subscription_id = data.id
                locked.save(update_fields=["stripe_subscription_id", "updated_at"])
    subscription = apply_subscription(data=data, snapshot_at=data.created) or subscription
    secret = None
    if data.latest_invoice is not None:
        apply_invoice(data=data.latest_invoice, snapshot_at=data.latest_invoice.created)
        if data.latest_invoice.status == "open" and data.latest_invoice.amount_due > 0:
            secret = data.latest_invoice.client_secret
    subscription.refresh_from_db()
    return SubscriptionResult(subscription, secret, config.publishable_key)


def cancel_subscription(*, user, subscription_id: str, at_period_end: bool = True) -> Subscription:
    """At the period's end (default: access runs until then) or now."""
    require_user(user)
    require_payments_enabled()
    subscription = subscription_get_for_viewer(user=user, subscription_id=subscription_id)
    if subscription is None:
        raise NotFound("No such subscription.", field="subscriptionId")
    if subscription.status in Subscription.FINAL or not subscription.stripe_subscription_id:
        raise InvalidInput("This subscription has ended already.", field="subscriptionId")
    if at_period_end:
        data = gateway.set_cancel_at_period_end(
            subscription_id=subscription.stripe_subscription_id, cancel=True,
            idempotency_key=f"subscription-{subscription.pk}-cancel-at-period-end",
        )
    else:
        data = gateway.cancel_subscription_now(subscription_id=subscription.stripe_subscription_id)
    # Stripe's answer is the newest snapshot there is.
    return apply_subscription(data=data, snapshot_at=max(data.created, subscription.stripe_snapshot_at)) or subscription


def refresh_subscription(*, subscription: Subscription) -> Subscription:
    data = gateway.retrieve_subscription(subscription.stripe_subscription_id)
    return apply_subscription(data=data, snapshot_at=max(data.created, subscription.stripe_snapshot_at)) or subscription


def _locked_subscription(data: gateway.SubscriptionData) -> Subscription | None:
    qs = Subscription.objects.select_for_update()
    subscription = qs.filter(stripe_subscription_id=data.id).first()
    if subscription is None and str(data.metadata.get("subscription_id", "")).isdigit():
        subscription = qs.filter(pk=int(data.metadata["subscription_id"]), stripe_subscription_id__isnull=True).first()
    if subscription is not None:
        return subscription
    # Made elsewhere (the Stripe Dashboard): adopt it when its customer and price are ours.
    customer = Customer.objects.filter(stripe_customer_id=data.customer).select_related("user").first() if data.customer else None
    price = Price.objects.filter(stripe_price_id=data.price).select_related("tier").first() if data.price else None
    if customer is None or price is None:
        return None
    subscription, _ = Subscription.objects.get_or_create(
        stripe_subscription_id=data.id, defaults={"user": customer.user, "price": price, "tier": price.tier}
    )
    return Subscription.objects.select_for_update().get(pk=subscription.pk)


def apply_subscription(*, data: gateway.SubscriptionData, snapshot_at: int) -> Subscription | None:
    """Apply a Subscription snapshot, order-proof, with the row locked; tell host apps
    after commit when the user's entitlement changed."""
    with transaction.atomic():
        subscription = _locked_subscription(data)
        if subscription is None:
            logger.info("subscription %s is not ours; ignored", data.id)
            return None
        before = user_active_tier(user=subscription.user)
        newly_linked = subscription.stripe_subscription_id != data.id
        subscription.stripe_subscription_id = data.id
        changed = subscription.apply_snapshot(
            {
                "status": data.status,
                "current_period_start": _ts(data.current_period_start),
                "current_period_end": _ts(data.current_period_end),
                "cancel_at_period_end": data.cancel_at_period_end,
                "canceled_at": _ts(data.canceled_at),
                "ended_at": _ts(data.ended_at),
            },
            snapshot_at=snapshot_at,
        )
        if changed or newly_linked:
            subscription.save()
        after = user_active_tier(user=subscription.user)
        if before != after:
            publish_entitlement_change(subscription, previous_tier=before, tier=after)
        return subscription


def apply_invoice(*, data: gateway.InvoiceData, snapshot_at: int) -> Invoice | None:
    """Apply an Invoice snapshot. Invoices of customers we do not know are not ours.
    The invoice's PaymentIntent becomes a Payment (payable: the subscription), so
    paymentStatus works for subscription payments as for any other."""
    customer = Customer.objects.filter(stripe_customer_id=data.customer).first() if data.customer else None
    if customer is None:
        logger.info("invoice %s is for a customer that is not ours; ignored", data.id)
        return None
    with transaction.atomic():
        subscription = (
            Subscription.objects.filter(stripe_subscription_id=data.subscription).first() if data.subscription else None
        )
        invoice = Invoice.objects.select_for_update().filter(stripe_invoice_id=data.id).first()
        if invoice is None:
            invoice, _ = Invoice.objects.get_or_create(
                stripe_invoice_id=data.id,
                defaults={"user_id": customer.user_id, "currency": data.currency, "created_at": _ts(data.created)},
            )
            invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        fields = {
            "status": data.status,
            "number": data.number,
            "amount_due": data.amount_due,
            "amount_paid": data.amount_paid,
            "currency": data.currency,
            "period_start": _ts(data.period_start),
            "period_end": _ts(data.period_end),
            "hosted_invoice_url": data.hosted_invoice_url,
            "invoice_pdf": data.invoice_pdf,
            "billing_reason": data.billing_reason,
        }
        if subscription is not None:
            fields["subscription"] = subscription
        if data.payment_intent:
            fields["stripe_payment_intent_id"] = data.payment_intent
        if invoice.apply_snapshot(fields, snapshot_at=snapshot_at):
            invoice.save()
        if data.payment_intent and subscription is not None and data.amount_due > 0:
            _payment_for_invoice(invoice=invoice, subscription=subscription, payment_intent_id=data.payment_intent)
        return invoice


def _payment_for_invoice(*, invoice: Invoice, subscription: Subscription, payment_intent_id: str) -> None:
    """The invoice's PaymentIntent as a Payment. When the invoice was paid before we
    heard of its intent (events in any order), read the intent and apply it."""
    if Payment.objects.filter(stripe_payment_intent_id=payment_intent_id).exists():
        return
    try:
        with transaction.atomic():  # a savepoint: a concurrent insert of the same intent is not an error
            Payment.objects.create(
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
        return
    if invoice.status == Invoice.Status.PAID:
        intent = gateway.retrieve_payment_intent(payment_intent_id)
        apply_payment_intent(intent=intent, snapshot_at=int(time.time()), authoritative=True)


class SubscriptionPayable(PayableAdapter):
    """A subscription's invoices are Payments too; the subscription's own events
    decide its status, so paying one fulfils nothing more, and a subscription
    cannot be bought with createPaymentIntent."""

    type = SUBSCRIPTION_PAYABLE

    def get(self, payable_id: str) -> Subscription | None:
        return Subscription.objects.filter(pk=payable_id).first() if str(payable_id).isdigit() else None

    def owner_id(self, obj: Subscription) -> int:
        return obj.user_id

    def check_payable(self, obj: Subscription, price) -> None:
        raise PayableNotPayable("A subscription is paid through its invoices.", field="payable")

    def fulfil(self, obj: Subscription, payment) -> None:
        pass
