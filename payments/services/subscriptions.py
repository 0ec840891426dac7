"""Subscriptions and invoices: subscribe, cancel, apply what Stripe says, entitlement.

Row locks, always taken in this order: the user's Customer row, then
Subscription rows, then Invoice rows, then Payment rows. The Customer row
serialises a user's subscription starts (createSubscription, a subscription
Checkout page) and makes the events of a customer's subscriptions and
invoices wait for each other, so that whatever order Stripe's events come in,
an invoice is linked to its subscription and its Payment made exactly once.

What may never happen, and how:
- two subscriptions started at once: every start runs under the Customer lock
  and re-checks ALREADY_SUBSCRIBED there;
- two ways to pay for a plan at once: a start closes the user's other open
  starts first (an INCOMPLETE subscription is canceled at Stripe, the open
  Checkout page expired), so at most one can take money;
- what still slips through (a subscription made by our own flows at Stripe
  while the user already has a running one, e.g. a Checkout page completed in a
  race, or an old open page): it is canceled at Stripe at once and every
  payment it took refunded in full (``closed_reason``). One made in the
  Stripe Dashboard is a person's decision: adopted, never canceled, and
  logged as an error for the team to look at.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from django.db import IntegrityError, transaction
from django.utils import timezone as dj_timezone

from payments import gateway
from payments.conf import get_config
from payments.errors import (
    AlreadySubscribed,
    InvalidInput,
    NotFound,
    PayableNotPayable,
    PaymentsError,
    PriceInactive,
    ProviderError,
    WrongPriceType,
)
from payments.live import publish_entitlement_change
from payments.ids import int_id
from payments.models import (
    Customer,
    Invoice,
    Payment,
    PaymentStatus,
    Price,
    Refund,
    Subscription,
    SubscriptionCheckoutAttempt,
)
from payments.models.payment import SETTLED
from payments.payables import PayableAdapter
from payments.selectors import subscription_get_for_viewer, user_active_tier
from payments.services.access import require_payments_enabled, require_user
from payments.services.catalog import price_ensure_at_stripe
from payments.services.customers import customer_get_or_create
from payments.services.idempotency import (
    IdempotentRequest,
    Scope,
    idempotent_request,
    stripe_key,
)
from payments.services.payments import apply_payment_intent
from payments.services.refunds import apply_refund
from payments.services.trials import trial_days_for

logger = logging.getLogger(__name__)

SUBSCRIPTION_PAYABLE = "subscription"

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


def _ts(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=timezone.utc) if value else None


def _recurring_price(price_id: str) -> Price:
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
    price = _recurring_price(price_id)
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
    price = _recurring_price(price_id)
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
    data = _cancel_at_stripe(subscription)
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
        applied = apply_subscription(data=data, snapshot_at=_read_at(data))
        if applied is not None and applied.status in Subscription.BLOCKING_NEW:
            return ALREADY_SUBSCRIBED
        if applied is not None and applied.status == Subscription.Status.INCOMPLETE:
            # Paid on the page with a delayed method: on its way, or failed (then closed).
            return _close_incomplete(Subscription.objects.select_for_update().get(pk=applied.pk))
    # The page stays recorded (closed): the next one's Stripe idempotency key names it.
    return None


def _read_at(data: gateway.SubscriptionData) -> int:
    """The snapshot time of a subscription just read from Stripe: as new as anything applied."""
    applied = Subscription.objects.filter(stripe_subscription_id=data.id).values_list("stripe_snapshot_at", flat=True)
    return max([data.created, *applied])


def _cancel_at_stripe(subscription: Subscription) -> gateway.SubscriptionData:
    try:
        return gateway.cancel_subscription_now(subscription_id=subscription.stripe_subscription_id)
    except ProviderError:  # ended already
        return gateway.retrieve_subscription(subscription.stripe_subscription_id)


# ================================================================ cancel, refresh


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
    # Stripe's answer is the newest snapshot there is.
    snapshot_at = max(data.created, subscription.stripe_snapshot_at)
    return apply_subscription(data=data, snapshot_at=snapshot_at, authoritative=True) or subscription


def refresh_subscription(*, subscription: Subscription) -> Subscription:
    data = gateway.retrieve_subscription(subscription.stripe_subscription_id)
    snapshot_at = max(data.created, subscription.stripe_snapshot_at)
    return apply_subscription(data=data, snapshot_at=snapshot_at, authoritative=True) or subscription


def _reread(stripe_subscription_id: str) -> None:
    """After the commit of an event whose snapshot shows another plan or cancel request
    than ours: read the subscription from Stripe and take them (plan changes, pending
    updates, a cancel at period end undone), whatever order their events came in."""
    subscription = Subscription.objects.filter(stripe_subscription_id=stripe_subscription_id).first()
    if subscription is None:
        return
    try:
        refresh_subscription(subscription=subscription)
    except PaymentsError as exc:  # the next event, or payments_reconcile, reads it again
        logger.warning("subscription %s: could not re-read it from Stripe: %s", subscription.pk, exc)


# ================================================================ what Stripe says


def _locked_subscription(data: gateway.SubscriptionData, customer: Customer | None) -> Subscription | None:
    qs = Subscription.objects.select_for_update()
    subscription = qs.filter(stripe_subscription_id=data.id).first()
    if subscription is None and (named_pk := int_id(data.metadata.get("subscription_id"))):
        named = qs.filter(pk=named_pk).select_related("price").first()
        reason = _foreign_subscription_reason(named, data, customer)
        if reason:
            # Anyone who can make a subscription on the account can write our row's id in its metadata.
            logger.warning(
                "subscription %s (customer %s, price %s) names our subscription %s in its metadata but %s; ignored",
                data.id, data.customer, data.price, data.metadata["subscription_id"], reason,
            )
            return None
        subscription = named
    if subscription is not None:
        return subscription
    # Made elsewhere (the Stripe Dashboard, a Checkout page): adopted when its customer is ours.
    if customer is None:
        return None
    price = _price_for_stripe_price(data.price)
    if price is None:
        logger.warning(
            "subscription %s of our customer %s (user %s) is on Stripe price %s, which is not in our catalog and"
            " cannot be imported (see above); not adopted", data.id, customer.stripe_customer_id, customer.user_id,
            data.price,
        )
        return None
    subscription, _ = Subscription.objects.get_or_create(
        stripe_subscription_id=data.id, defaults={"user_id": customer.user_id, "price": price, "tier": price.tier}
    )
    return qs.get(pk=subscription.pk)


def _foreign_subscription_reason(
    named: Subscription | None, data: gateway.SubscriptionData, customer: Customer | None
) -> str:
    """Why ``data`` is not the subscription we started as ``named`` ("" when it is):
    only a row still waiting for its Stripe id, for its own customer and price."""
    if named is None:
        return "there is no such subscription"
    if named.stripe_subscription_id:
        return f"that one is {named.stripe_subscription_id}"
    if customer is None or customer.user_id != named.user_id:
        return "its customer is not that subscription's"
    if not named.price.stripe_price_id or data.price != named.price.stripe_price_id:
        return f"it is not on that subscription's price ({named.price.stripe_price_id})"
    return ""


def _price_for_stripe_price(stripe_price_id: str | None) -> Price | None:
    """Our Price for a Stripe Price; one we do not have is read from Stripe and linked
    or created as ``payments_sync_catalog --pull`` does (its own code)."""
    if not stripe_price_id:
        return None
    price = Price.objects.select_related("tier").filter(stripe_price_id=stripe_price_id).first()
    if price is not None:
        return price
    from payments.services.catalog_sync import import_stripe_price

    try:
        with transaction.atomic():  # a savepoint: a concurrent import of the same price is not an error
            return import_stripe_price(stripe_price_id)
    except IntegrityError:
        return Price.objects.select_related("tier").filter(stripe_price_id=stripe_price_id).first()


def _snapshot_fields(data: gateway.SubscriptionData) -> dict:
    return {
        "status": data.status,
        "current_period_start": _ts(data.current_period_start),
        "current_period_end": _ts(data.current_period_end),
        "cancel_at_period_end": data.cancel_at_period_end,
        "canceled_at": _ts(data.canceled_at),
        "ended_at": _ts(data.ended_at),
        "trial_start": _ts(data.trial_start),
        "trial_end": _ts(data.trial_end),
    }


def _apply(subscription: Subscription, data: gateway.SubscriptionData, snapshot_at: int) -> None:
    """Apply a snapshot to the locked row and save it when anything changed."""
    newly_linked = subscription.stripe_subscription_id != data.id
    subscription.stripe_subscription_id = data.id
    if subscription.apply_snapshot(_snapshot_fields(data), snapshot_at=snapshot_at) or newly_linked:
        subscription.save()


def apply_subscription(
    *, data: gateway.SubscriptionData, snapshot_at: int, authoritative: bool = False
) -> Subscription | None:
    """Apply a Subscription snapshot, order-proof, with the customer's and the
    subscription's rows locked; link the invoices that came before it; end what
    must not run (see the module's docstring); tell host apps after commit when
    the user's entitlement changed.

    The plan (price, tier) and the cancel request follow Stripe's current
    subscription only: an ``authoritative`` snapshot (Stripe's answer to our own
    call, or a read) sets them; an event's snapshot showing another price or
    cancel request than ours makes us read the subscription from Stripe after the
    commit (``_reread``), since the events of one plan change (updated with a
    pending update, pending_update_applied or _expired, updated), or of a cancel
    and its resume, often share their second and may come in any order, and
    neither has a clock of its own in Stripe's object."""
    with transaction.atomic():
        customer = (
            Customer.objects.select_for_update().filter(stripe_customer_id=data.customer).first() if data.customer else None
        )
        subscription = _locked_subscription(data, customer)
        if subscription is None:
            logger.info("subscription %s is not ours; ignored", data.id)
            return None
        before = user_active_tier(user=subscription.user)
        was_running = subscription.status in Subscription.BLOCKING_NEW
        other_plan = bool(data.price) and data.price != subscription.price.stripe_price_id
        other_cancel = data.cancel_at_period_end != subscription.cancel_at_period_end
        _apply(subscription, data, snapshot_at)
        if authoritative:
            if other_plan:
                _take_plan(subscription, data)
            _take_cancel_request(subscription, data)
        elif other_plan or other_cancel:
            stripe_id = data.id
            transaction.on_commit(lambda: _reread(stripe_id), robust=True)
        _link_orphan_invoices(subscription)
        if subscription.closed_reason:
            if data.status not in Subscription.FINAL:
                # We closed it, but Stripe still runs it (an answer lost on the way): end it there.
                stripe_now = _cancel_at_stripe(subscription)
                _apply(subscription, stripe_now, max(stripe_now.created, subscription.stripe_snapshot_at))
        elif not was_running and subscription.status in Subscription.BLOCKING_NEW:
            _end_if_duplicate(subscription, data)
        _refund_if_closed(subscription)
        after = user_active_tier(user=subscription.user)
        if before != after:
            publish_entitlement_change(subscription, previous_tier=before, tier=after)
        return subscription


def _take_plan(subscription: Subscription, data: gateway.SubscriptionData) -> None:
    """The plan Stripe says the subscription is on (the customer keeps the old one until
    Stripe applies a change: a pending update is not the plan)."""
    if subscription.status in Subscription.FINAL:
        return
    price = _price_for_stripe_price(data.price)
    if price is None:
        logger.warning("subscription %s moved to Stripe price %s, which we cannot import; plan kept",
                       subscription.pk, data.price)
        return
    subscription.price, subscription.tier = price, price.tier
    subscription.save(update_fields=["price", "tier", "updated_at"])


def _take_cancel_request(subscription: Subscription, data: gateway.SubscriptionData) -> None:
    """Whether Stripe's subscription is set to cancel, as it says now: a resume clears
    ``canceled_at``, which the order-proof snapshot takes for an older clock."""
    if subscription.status in Subscription.FINAL:
        return
    fields = {"cancel_at_period_end": data.cancel_at_period_end, "canceled_at": _ts(data.canceled_at)}
    if any(getattr(subscription, name) != value for name, value in fields.items()):
        for name, value in fields.items():
            setattr(subscription, name, value)
        subscription.save(update_fields=[*fields, "updated_at"])


def _link_orphan_invoices(subscription: Subscription) -> None:
    """Invoices that arrived before their subscription: linked now, their Payments made."""
    orphans = Invoice.objects.select_for_update().filter(
        stripe_subscription_id=subscription.stripe_subscription_id, subscription__isnull=True
    )
    for invoice in orphans.order_by("created_at", "id"):
        invoice.subscription = subscription
        invoice.save(update_fields=["subscription", "updated_at"])
        if invoice.stripe_payment_intent_id and invoice.amount_due > 0:
            _payment_for_invoice(
                invoice=invoice, subscription=subscription, payment_intent_id=invoice.stripe_payment_intent_id
            )


def _end_if_duplicate(subscription: Subscription, data: gateway.SubscriptionData) -> None:
    """``subscription`` just started running while the user already has a running one."""
    others = list(
        Subscription.objects.filter(user_id=subscription.user_id, status__in=Subscription.BLOCKING_NEW)
        .exclude(pk=subscription.pk)
        .values_list("pk", flat=True)
    )
    if not others:
        return
    if "user_id" not in data.metadata:
        # Not from our API nor our Checkout pages: someone made it in the Stripe Dashboard
        # on purpose (e.g. an upgrade by support); a person decides what to do with it.
        logger.error(
            "user %s has %d running subscriptions: %s (made outside our API, e.g. in the Stripe Dashboard) besides"
            " %s; left running for a person to decide", subscription.user_id, len(others) + 1, subscription.pk, others,
        )
        return
    logger.error(
        "subscription %s (%s) of user %s started while %s already runs: canceled at Stripe, its payments refunded",
        subscription.pk, subscription.stripe_subscription_id, subscription.user_id, others,
    )
    subscription.closed_reason = Subscription.ClosedReason.DUPLICATE
    subscription.save(update_fields=["closed_reason", "updated_at"])
    stripe_now = _cancel_at_stripe(subscription)
    _apply(subscription, stripe_now, max(stripe_now.created, subscription.stripe_snapshot_at))


def _refund_if_closed(subscription: Subscription) -> None:
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


def apply_invoice(*, data: gateway.InvoiceData, snapshot_at: int) -> Invoice | None:
    """Apply an Invoice snapshot. Invoices of customers we do not know are not ours.

    The invoice keeps its Stripe subscription id; it is linked to our row as soon
    as we have it, here or when the subscription arrives (``apply_subscription``),
    whatever the order: what identifies it is set once, outside the order-proof
    snapshot (a paid invoice takes no later snapshot). The invoice's PaymentIntent
    becomes a Payment (payable: the subscription), so paymentStatus works for
    subscription payments as for any other."""
    with transaction.atomic():
        customer = (
            Customer.objects.select_for_update().filter(stripe_customer_id=data.customer).first() if data.customer else None
        )
        if customer is None:
            logger.info("invoice %s is for a customer that is not ours; ignored", data.id)
            return None
        subscription = (
            Subscription.objects.filter(stripe_subscription_id=data.subscription).first() if data.subscription else None
        )
        reason = _foreign_invoice_reason(data, customer, subscription)
        if reason:
            logger.warning("invoice %s (customer %s) %s; ignored", data.id, data.customer, reason)
            return None
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
        changed = invoice.apply_snapshot(fields, snapshot_at=snapshot_at)
        if data.subscription and not invoice.stripe_subscription_id:
            invoice.stripe_subscription_id, changed = data.subscription, True
        if subscription is not None and invoice.subscription_id is None:
            invoice.subscription, changed = subscription, True
        if data.payment_intent and not invoice.stripe_payment_intent_id:
            invoice.stripe_payment_intent_id, changed = data.payment_intent, True
        if changed:
            invoice.save()
        linked = invoice.subscription
        if linked is not None and invoice.stripe_payment_intent_id and invoice.amount_due > 0:
            _payment_for_invoice(invoice=invoice, subscription=linked, payment_intent_id=invoice.stripe_payment_intent_id)
            if invoice.status == Invoice.Status.PAID:
                _refund_if_closed(linked)
        return invoice


def _foreign_invoice_reason(data: gateway.InvoiceData, customer: Customer, subscription: Subscription | None) -> str:
    """Why an invoice of our customer does not belong with the rows it points at
    ("" when it does): another user's subscription, a stored invoice whose
    PaymentIntent is another, or a PaymentIntent that is one of our other payments."""
    if subscription is not None and subscription.user_id != customer.user_id:
        return f"is for subscription {subscription.pk} of another user (its subscription {data.subscription})"
    stored = Invoice.objects.filter(stripe_invoice_id=data.id).values_list("user_id", "stripe_payment_intent_id").first()
    if stored is not None and stored[0] != customer.user_id:
        return "was stored for another user"
    if data.payment_intent:
        if stored is not None and stored[1] and stored[1] != data.payment_intent:
            return f"names PaymentIntent {data.payment_intent}, but its stored one is {stored[1]}"
        payment = Payment.objects.filter(stripe_payment_intent_id=data.payment_intent).values_list(
            "payable_type", "payable_id").first()
        if payment is not None and (
            payment[0] != SUBSCRIPTION_PAYABLE or (subscription is not None and payment[1] != str(subscription.pk))
        ):
            return f"names PaymentIntent {data.payment_intent}, which is one of our payments for something else"
    return ""


def _payment_for_invoice(*, invoice: Invoice, subscription: Subscription, payment_intent_id: str) -> None:
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
