"""Subscriptions, the customer's use cases: subscribe (createSubscription, a
subscription Checkout page) and cancel. What Stripe then says of them is applied
by services.subscription_sync, their Payments made by services.subscription_payments.

Row locks, always taken in this order (the one list): a webhook's claim of
its WebhookEvent row (first in its transaction; nothing else locks it), the
user's row (payments' start_attempt), the user's Customer row, Subscription
rows, Invoice rows, Payment rows (then their Refunds and ledger rows). The
Customer row serialises a user's subscription starts and plan changes, and
makes the events of a customer's subscriptions and invoices wait for each
other, so that whatever order Stripe's events come in, an invoice is linked to
its subscription and its Payment made exactly once. A lock takes its own rows
only: a ``select_for_update`` that joins says ``of=("self",)`` (PostgreSQL
locks joined rows too: a Subscription's Price, shared by its subscribers, so
two users changing plans P to Q and Q to P at once each waited, at COMMIT's
foreign key check, for the other's price: 40P01). Tier and Price rows are
locked only by the catalog (services/catalog.py), alone or last.

What may never happen, and how:
- two subscriptions started at once: every start runs under the Customer lock
  and re-checks ALREADY_SUBSCRIBED there;
- two ways to pay for a plan at once: a start closes the user's other open
  starts first (an INCOMPLETE subscription is canceled at Stripe, the open
  Checkout page expired), so at most one can take money;
- what still slips through is ended by services.subscription_sync.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone as dj_timezone

from payments import gateway
from payments.conf import get_config
from payments.errors import (
    AlreadySubscribed,
    InvalidInput,
    NotFound,
    PaymentsError,
    PriceInactive,
    ProviderError,
    WrongPriceType,
)
from payments.ids import int_id
from payments.models import Customer, Payment, PaymentStatus, Price, Subscription, SubscriptionCheckoutAttempt
from payments.selectors import subscription_get_for_viewer
from payments.services.access import require_payments_enabled, require_user
from payments.services.catalog import price_ensure_at_stripe
from payments.services.customers import customer_get_or_create
from payments.services.idempotency import IdempotentRequest, Scope, idempotent_request, stripe_key
from payments.services.payments import apply_payment_intent
from payments.services.subscription_payments import SUBSCRIPTION_PAYABLE
from payments.services.subscription_sync import (
    apply_invoice,
    apply_subscription,
    cancel_at_stripe,
    read_at,
)
from payments.services.trials import trial_days_for

logger = logging.getLogger(__name__)

ALREADY_SUBSCRIBED = "You already have a subscription: cancel it or wait for it to end."
FIRST_PAYMENT_ON_ITS_WAY = "The first payment of your subscription is on its way: wait for its outcome."

SUBSCRIPTION_STARTS = Scope(Subscription, owner="user")
# A RECURRING price's createCheckoutSession keeps its keys apart from the payments'.
SUBSCRIPTION_CHECKOUTS = Scope(SubscriptionCheckoutAttempt, owner="customer__user")


@dataclass(frozen=True)
class SubscriptionResult:
    subscription: Subscription
    client_secret: str | None
    publishable_key: str
    setup_client_secret: str | None = None  # a trial's SetupIntent (services.trials)


def recurring_price(price_id: str) -> Price:
    price = Price.objects.select_related("tier").filter(pk=pk).first() if (pk := int_id(price_id)) else None
    if price is None:
        raise NotFound("No such price.", field="priceId")
    if not (price.active and price.tier.active):
        raise PriceInactive("This price is no longer offered.", field="priceId")
    if not price.is_recurring:
        raise WrongPriceType("This is a one-time price: use createPaymentIntent.", field="priceId")
    return price


def _lock_customer(pk: int) -> Customer:
    return Customer.objects.select_for_update().get(pk=pk)


# ================================================================ starting


def create_subscription(*, user, price_id: str, idempotency_key: str | None = None) -> SubscriptionResult:
    """Subscribe the viewer to a RECURRING price (payment_behavior=default_incomplete).

    Under the user's Customer row lock: ALREADY_SUBSCRIBED while an ACTIVE,
    TRIALING or PAST_DUE subscription exists; an INCOMPLETE one for the same
    price is reused; the user's other open starts (INCOMPLETE subscriptions for
    other prices, an open subscription Checkout page) are closed at Stripe
    first, so that only one can ever be paid. As for payments, the row is
    written first and Stripe is asked under its lock with the row's id as
    idempotency key, so a lost answer never makes a second subscription.
    A price with ``trial_period_days`` gives the user's first subscription of its
    tier a trial (services.trials): TRIALING at once, nothing due, and the pending
    SetupIntent's secret to save a card with.
    """
    require_user(user)
    require_payments_enabled()
    request = idempotent_request(
        SUBSCRIPTION_STARTS, user=user, key=idempotency_key, operation="createSubscription", price=str(price_id)
    )
    earlier = request.earlier()
    if earlier is not None:
        return _with_stripe(earlier)
    price = recurring_price(price_id)
    customer = customer_get_or_create(user=user)
    with transaction.atomic():
        customer = _lock_customer(customer.pk)
        subscription, refusal = _start(customer=customer, request=request, price=price)
    if refusal:  # raised after commit: what closing the other starts learnt from Stripe is kept
        raise AlreadySubscribed(refusal)
    return _with_stripe(subscription)


def _start(*, customer: Customer, request: IdempotentRequest, price: Price):
    """(subscription, None) or (None, refusal); the caller holds the Customer lock."""
    earlier = request.earlier()  # again, under the lock: a concurrent request with the same key
    if earlier is not None:
        return earlier, None
    user = request.user
    if _has_running(user):
        return None, ALREADY_SUBSCRIBED
    reuse = (
        Subscription.objects.filter(user=user, price=price, status=Subscription.Status.INCOMPLETE, closed_reason="")
        .order_by("-created_at", "-id")
        .first()
    )
    refusal = _close_other_starts(customer=customer, user=user, keep=reuse)
    if refusal:
        return None, refusal
    if reuse is not None:
        return reuse, None
    subscription, _ = request.create(
        user=user, price=price, tier=price.tier,
        trial_period_days=trial_days_for(user=user, price=price),  # decided once, under the Customer lock
    )
    return subscription, None


def _has_running(user) -> bool:
    return Subscription.objects.filter(user=user, status__in=Subscription.BLOCKING_NEW).exists()


def _with_stripe(subscription: Subscription) -> SubscriptionResult:
    """The subscription with its first invoice's client secret; created at Stripe if it
    is not yet (unless a newer start closed it meanwhile)."""
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
            elif locked.status in Subscription.FINAL:
                # A newer start of this user closed it before it reached Stripe.
                return SubscriptionResult(locked, None, config.publishable_key)
            else:
                # Stripe under lock, kept: a newer start closes INCOMPLETE subscriptions
                # under this lock (FINAL above): created outside it, a Stripe
                # subscription could start billing one we closed.
                data = gateway.create_subscription(
                    customer_id=customer.stripe_customer_id,
                    price_id=stripe_price,
                    metadata={"subscription_id": str(locked.pk), "user_id": str(locked.user_id)},
                    idempotency_key=stripe_key("subscription", locked.pk, "create"),
                    trial_period_days=locked.trial_period_days,
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
    setup_secret = data.setup_client_secret if subscription.status == Subscription.Status.TRIALING else None
    if subscription.status in Subscription.FINAL or subscription.closed_reason:
        secret = setup_secret = None  # nothing to pay for any more: its invoice must not be paid
    return SubscriptionResult(subscription, secret, config.publishable_key, setup_secret)


def start_subscription_checkout(
    *, user, price_id: str, success_url: str, cancel_url: str, idempotency_key: str | None
) -> gateway.CheckoutSessionData:
    """A mode=subscription Checkout page (createCheckoutSession with a RECURRING price);
    the subscription is adopted from Stripe's events once the customer pays.

    At most one such page is open per user: under the Customer row lock, the
    open page is reused for the same request (price and URLs), else expired at
    Stripe (and the user's INCOMPLETE subscriptions closed) before a new one is
    opened. ALREADY_SUBSCRIBED is checked there too. Each request with a key
    that opens or reuses a page is a SubscriptionCheckoutAttempt: the same key
    answers the same page; with other input it is IDEMPOTENCY_CONFLICT.
    """
    require_user(user)
    require_payments_enabled()
    request = idempotent_request(
        SUBSCRIPTION_CHECKOUTS, user=user, key=idempotency_key, operation="createCheckoutSession",
        price=str(price_id), success_url=success_url, cancel_url=cancel_url,
    )
    earlier = request.earlier()
    if earlier is not None:
        return gateway.retrieve_checkout_session(earlier.stripe_checkout_session_id)
    price = recurring_price(price_id)
    customer = customer_get_or_create(user=user)
    stripe_price = price_ensure_at_stripe(price=price)
    failure: PaymentsError | None = None
    with transaction.atomic():
        customer = _lock_customer(customer.pk)
        earlier = request.earlier()  # again, under the lock: a concurrent request with the same key
        if earlier is not None:
            return gateway.retrieve_checkout_session(earlier.stripe_checkout_session_id)
        if _has_running(user):
            failure = AlreadySubscribed(ALREADY_SUBSCRIBED)
        else:
            latest = _latest_page(customer)
            if latest is not None and latest.request_fingerprint == request.fingerprint:
                session = _read_page(latest)
                if session is not None and session.status == "open":
                    if request.key is not None:
                        request.create(customer=customer, stripe_checkout_session_id=session.id)
                    return session
            refusal = _close_other_starts(customer=customer, user=user)
            if refusal:
                failure = AlreadySubscribed(refusal)
            else:
                current = latest.stripe_checkout_session_id if latest is not None else None
                try:
                    # Stripe under lock, kept: the customer's lock makes "not subscribed yet"
                    # and "one open subscription page" one step (ALREADY_SUBSCRIBED).
                    session = gateway.create_checkout_session(
                        mode="subscription",
                        price_id=stripe_price,
                        customer_id=customer.stripe_customer_id,
                        success_url=success_url,
                        cancel_url=cancel_url,
                        client_reference_id=str(user.pk),
                        metadata={"user_id": str(user.pk), "price_id": str(price.pk)},
                        # Tied to the page it follows: a lost answer, retried, gives the same page.
                        idempotency_key=stripe_key(
                            "customer", customer.pk, "subscription-checkout", request.fingerprint[:20],
                            "after", current or "none",
                        ),
                    )
                except PaymentsError as exc:
                    failure = exc  # raised after commit: the pages and subscriptions closed stay closed
                else:
                    request.create(customer=customer, stripe_checkout_session_id=session.id)
                    return session
    raise failure


def _latest_page(customer: Customer) -> SubscriptionCheckoutAttempt | None:
    """The user's latest subscription Checkout page: the one that may be open."""
    return customer.subscription_checkout_attempts.order_by("-created_at", "-id").first()


def _read_page(attempt: SubscriptionCheckoutAttempt) -> gateway.CheckoutSessionData | None:
    """The page as Stripe has it now; None for one already seen expired (it stays so)."""
    if attempt.status == SubscriptionCheckoutAttempt.Status.EXPIRED:
        return None
    return _record_page(attempt, gateway.retrieve_checkout_session(attempt.stripe_checkout_session_id))


def _record_page(attempt: SubscriptionCheckoutAttempt, session: gateway.CheckoutSessionData):
    """Remember what Stripe said of the page (every attempt that names it)."""
    if session.status in SubscriptionCheckoutAttempt.Status.values and session.status != attempt.status:
        SubscriptionCheckoutAttempt.objects.filter(
            customer_id=attempt.customer_id, stripe_checkout_session_id=attempt.stripe_checkout_session_id
        ).update(status=session.status)
        attempt.status = session.status
    return session


def _close_other_starts(*, customer: Customer, user, keep: Subscription | None = None) -> str | None:
    """Close the user's open starts but ``keep``: INCOMPLETE subscriptions are canceled
    at Stripe (``superseded``), the open subscription Checkout page is expired. The
    caller holds the Customer lock. Returns why nothing new may start (a start that
    turned out to be paid, or whose payment is on its way), else None."""
    others = Subscription.objects.select_for_update().filter(user=user, status=Subscription.Status.INCOMPLETE)
    if keep is not None:
        others = others.exclude(pk=keep.pk)
    for subscription in others.order_by("created_at", "id"):
        refusal = _close_incomplete(subscription)
        if refusal:
            return refusal
    return _close_checkout_page(customer)


def _close_incomplete(subscription: Subscription) -> str | None:
    """End a (locked) INCOMPLETE subscription so that its first invoice is never paid for
    nothing; should it be paid all the same (its PaymentIntent cannot be canceled, and
    Stripe leaves a canceled subscription's invoice open), the payment is refunded."""
    on_its_way = Payment.objects.filter(
        payable_type=SUBSCRIPTION_PAYABLE, payable_id=str(subscription.pk), status=PaymentStatus.PROCESSING
    )
    if on_its_way.exists():
        return FIRST_PAYMENT_ON_ITS_WAY
    if not subscription.stripe_subscription_id:
        # Never reached Stripe, as far as we know; if it did (an answer lost), its
        # events name this row and apply_subscription cancels it there.
        now = dj_timezone.now()
        subscription.closed_reason = Subscription.ClosedReason.SUPERSEDED
        subscription.status = Subscription.Status.CANCELED
        subscription.canceled_at = subscription.ended_at = now
        subscription.save()
        return None
    data = gateway.retrieve_subscription(subscription.stripe_subscription_id)
    if data.status != Subscription.Status.INCOMPLETE:
        # Paid (or ended) meanwhile: not ours to close; what Stripe says is applied.
        applied = apply_subscription(data=data, snapshot_at=max(data.created, subscription.stripe_snapshot_at))
        return ALREADY_SUBSCRIBED if applied is not None and applied.status in Subscription.BLOCKING_NEW else None
    intent_id = data.latest_invoice.payment_intent if data.latest_invoice is not None else None
    if intent_id:
        intent = gateway.retrieve_payment_intent(intent_id)
        if intent.status == "processing":  # a delayed method: the money is on its way
            apply_payment_intent(intent=intent, snapshot_at=int(time.time()), authoritative=True)
            return FIRST_PAYMENT_ON_ITS_WAY
    subscription.closed_reason = Subscription.ClosedReason.SUPERSEDED
    subscription.save(update_fields=["closed_reason", "updated_at"])
    data = cancel_at_stripe(subscription)
    apply_subscription(data=data, snapshot_at=max(data.created, subscription.stripe_snapshot_at))
    return None


def _close_checkout_page(customer: Customer) -> str | None:
    """Expire the user's open subscription Checkout page (the caller holds the Customer
    lock). A page completed meanwhile made a subscription: it is applied, and refuses a
    new start while it runs or its payment is on its way."""
    latest = _latest_page(customer)
    session = _read_page(latest) if latest is not None else None
    if session is None:
        return None  # none, or seen expired already: nothing can come of it
    if session.status == "open":
        try:
            session = gateway.expire_checkout_session(session.id)
        except ProviderError:  # completed (or expired) meanwhile
            session = gateway.retrieve_checkout_session(session.id)
        _record_page(latest, session)
    if session.status == "complete" and session.subscription:
        data = gateway.retrieve_subscription(session.subscription)
        applied = apply_subscription(data=data, snapshot_at=read_at(data))
        if applied is not None and applied.status in Subscription.BLOCKING_NEW:
            return ALREADY_SUBSCRIBED
        if applied is not None and applied.status == Subscription.Status.INCOMPLETE:
            # Paid on the page with a delayed method: on its way, or failed (then closed).
            return _close_incomplete(Subscription.objects.select_for_update().get(pk=applied.pk))
    # The page stays recorded (closed): the next one's Stripe idempotency key names it.
    return None


# ================================================================ cancel


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
            # Per state of the row: a double click is one request, a cancel after a resume another.
            idempotency_key=stripe_key(
                "subscription", subscription.pk, "cancel-at-period-end", int(subscription.updated_at.timestamp() * 1000)
            ),
        )
    else:
        data = gateway.cancel_subscription_now(subscription_id=subscription.stripe_subscription_id)
    # Stripe's answer is the newest snapshot there is (a re-read the row showed pending before it: done).
    snapshot_at = max(data.created, subscription.stripe_snapshot_at)
    return apply_subscription(
        data=data, snapshot_at=snapshot_at, authoritative=True, reread_seen=subscription.stripe_reread_requested_at
    ) or subscription
