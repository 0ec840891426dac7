"""A subscription's plan: preview a change, change it, resume one set to cancel.

- Preview (``subscription_change_preview``) asks Stripe's invoice preview what the
  change would bill now; it writes nothing, here or at Stripe.
- Change (``change_subscription``) moves the subscription's single item to another
  recurring price of the same currency (another interval is allowed) with
  ``proration_behavior=always_invoice`` and ``payment_behavior=pending_if_incomplete``:
  the proration is charged at once to the card on file, and the customer keeps the
  old plan until it is paid. When the customer must confirm that payment (3-D
  Secure, a declined card), the answer carries the proration invoice's client
  secret. The plan our row shows is always the one Stripe's subscription object is
  on (``apply_subscription``): Stripe's answer here, then its webhooks.
- Resume (``resume_subscription``) undoes a cancel at period end while the period
  runs; an ended subscription, or one not set to cancel, is NOT_RESUMABLE.

Money safety: the change runs under the user's Customer and the Subscription row
locks (the order of services/subscriptions.py), and Stripe is asked under them
with a key of our PlanChange row, so two requests never bill two prorations for one
change, and a retry with the same idempotencyKey re-sends the same Stripe request,
which Stripe answers once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from django.db import transaction
from django.utils import timezone as dj_timezone

from payments import gateway
from payments.conf import get_config
from payments.errors import InvalidInput, NotFound, NotResumable
from payments.models import Customer, PlanChange, Price, Subscription
from payments.selectors import subscription_get_for_viewer
from payments.services.access import require_payments_enabled, require_user
from payments.services.catalog import price_ensure_at_stripe
from payments.services.idempotency import Scope, idempotent_request, stripe_key
from payments.services.subscription_sync import apply_invoice, apply_subscription, read_at
from payments.services.subscriptions import recurring_price

# Plans can change while these run; an INCOMPLETE start is paid first, a PAST_DUE
# renewal settled first (Stripe would put the proration behind the unpaid renewal).
CHANGEABLE = (Subscription.Status.ACTIVE, Subscription.Status.TRIALING)

PLAN_CHANGES = Scope(PlanChange, owner="user")


@dataclass(frozen=True)
class PlanChangeResult:
    subscription: Subscription
    client_secret: str | None
    publishable_key: str


def _owned(user, subscription_id: str) -> Subscription:
    subscription = subscription_get_for_viewer(user=user, subscription_id=subscription_id)
    if subscription is None or subscription.user_id != user.pk:
        raise NotFound("No such subscription.", field="subscriptionId")
    return subscription


def _new_price(subscription: Subscription, price_id: str) -> Price:
    """A recurring price the subscription may move to: same currency, not its own."""
    price = recurring_price(price_id)
    if price.pk == subscription.price_id:
        raise InvalidInput("The subscription is on this price already.", field="priceId")
    if price.currency != subscription.price.currency:
        raise InvalidInput(
            f"This price is in {price.currency.upper()}; the subscription is billed in"
            f" {subscription.price.currency.upper()}.", field="priceId",
        )
    return price


def _changeable(subscription: Subscription) -> None:
    if subscription.status not in CHANGEABLE or not subscription.stripe_subscription_id:
        raise InvalidInput(
            "Only an active subscription can change plan (pay its open invoice first).", field="subscriptionId"
        )


def _epoch(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


def _check_proration_date(subscription: Subscription, proration_date: datetime | None) -> int | None:
    """Within the current period and not in the future (a preview's date)."""
    if proration_date is None:
        return None
    at = _epoch(proration_date)
    start, end = _epoch(subscription.current_period_start), _epoch(subscription.current_period_end)
    if start is None or end is None or not start <= at < end or at > int(dj_timezone.now().timestamp()):
        raise InvalidInput("prorationDate must be within the current period, and not later than now.",
                           field="prorationDate")
    return at


# ================================================================ preview


def subscription_change_preview(*, user, subscription_id: str, price_id: str) -> gateway.InvoicePreviewData:
    """What moving to ``price_id`` would bill now (Stripe's invoice preview); changes nothing."""
    require_user(user)
    require_payments_enabled()
    subscription = _owned(user, subscription_id)
    _changeable(subscription)
    price = _new_price(subscription, price_id)
    stripe_price = price_ensure_at_stripe(price=price)
    current = gateway.retrieve_subscription(subscription.stripe_subscription_id)
    return gateway.preview_subscription_change(
        subscription_id=current.id, item_id=current.item_id, price_id=stripe_price
    )


# ================================================================ change


def change_subscription(
    *,
    user,
    subscription_id: str,
    price_id: str,
    proration_date: datetime | None = None,
    idempotency_key: str | None = None,
) -> PlanChangeResult:
    require_user(user)
    require_payments_enabled()
    request = idempotent_request(
        PLAN_CHANGES, user=user, key=idempotency_key, operation="changeSubscription",
        subscription=str(subscription_id), price=str(price_id), proration_date=_epoch(proration_date),
    )
    subscription = _owned(user, subscription_id)
    change = request.earlier()
    if change is not None and change.stripe_invoice_id:
        return _result(gateway.retrieve_subscription(subscription.stripe_subscription_id), change)
    if change is None:
        _changeable(subscription)
        price = _new_price(subscription, price_id)
        at = _check_proration_date(subscription, proration_date)
    else:  # Stripe's answer was lost: the same Stripe request again
        price, at = change.price, _epoch(change.proration_date)
    stripe_price = price_ensure_at_stripe(price=price)
    current = gateway.retrieve_subscription(subscription.stripe_subscription_id)
    with transaction.atomic():
        Customer.objects.select_for_update().filter(user=user).first()
        # of=self: the Subscription row only, not the Price it joins (see services/subscriptions.py).
        locked = Subscription.objects.select_for_update(of=("self",)).select_related("price").get(pk=subscription.pk)
        if change is None:
            change, _ = request.create(
                user=user, subscription=locked, price=price,
                proration_date=datetime.fromtimestamp(at, tz=timezone.utc) if at else None,
            )
            if change.stripe_invoice_id:  # a concurrent request with the same key did it
                return _result(gateway.retrieve_subscription(locked.stripe_subscription_id), change)
            _changeable(locked)
            _new_price(locked, price_id)
        # Stripe under the locks, kept: a second change of this subscription waits here
        # and is judged on the plan Stripe answers this one with, so two requests never
        # bill two prorations of one change.
        data = gateway.change_subscription_price(
            subscription_id=locked.stripe_subscription_id, item_id=current.item_id, price_id=stripe_price,
            proration_date=at, idempotency_key=stripe_key("plan-change", change.pk),
        )
        change.stripe_invoice_id = data.latest_invoice.id if data.latest_invoice else "-"
        change.save(update_fields=["stripe_invoice_id"])
        # Applied under the locks: a change waiting on them is judged on this plan (and no
        # re-read was requested while Stripe answered: the row was locked).
        apply_subscription(
            data=data, snapshot_at=read_at(data), authoritative=True, reread_seen=locked.stripe_reread_requested_at
        )
    if data.latest_invoice is not None:  # the proration's Payment, for paymentStatus (it may read the intent)
        apply_invoice(data=data.latest_invoice, snapshot_at=data.latest_invoice.created)
    return _result(data, change)


def _result(data: gateway.SubscriptionData, change: PlanChange) -> PlanChangeResult:
    """The subscription as we now have it, and the proration invoice's client secret
    while the change waits for the customer to pay it."""
    subscription = Subscription.objects.select_related("price", "tier").get(pk=change.subscription_id)
    invoice = data.latest_invoice
    waiting = (
        data.pending_price is not None and invoice is not None and invoice.id == change.stripe_invoice_id
        and invoice.status == "open"
    )
    return PlanChangeResult(subscription, invoice.client_secret if waiting else None, get_config().publishable_key)


# ================================================================ resume


def resume_subscription(*, user, subscription_id: str) -> Subscription:
    """Undo a cancel at period end (``cancel_at_period_end=false``) while the period runs."""
    require_user(user)
    require_payments_enabled()
    subscription = _owned(user, subscription_id)
    if subscription.status in Subscription.FINAL or not subscription.stripe_subscription_id:
        raise NotResumable("This subscription has ended: start a new one.", field="subscriptionId")
    if not subscription.cancel_at_period_end:
        raise NotResumable("This subscription is not set to cancel.", field="subscriptionId")
    data = gateway.set_cancel_at_period_end(
        subscription_id=subscription.stripe_subscription_id, cancel=False,
        # One resume per cancel request: each cancel gives Stripe's canceled_at anew.
        idempotency_key=f"subscription-{subscription.pk}-resume-{_epoch(subscription.canceled_at)}",
    )
    snapshot_at = max(data.created, subscription.stripe_snapshot_at)
    return apply_subscription(
        data=data, snapshot_at=snapshot_at, authoritative=True, reread_seen=subscription.stripe_reread_requested_at
    ) or subscription
