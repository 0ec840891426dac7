"""What Stripe says of subscriptions and invoices, applied: ``apply_subscription`` and
``apply_invoice`` (the webhook handlers, our own calls' answers, the plan changes,
payments_reconcile), order-proof, under the row locks of services/subscriptions.py
(the user's Customer row, then Subscription rows, then Invoice rows, then Payment
rows), whatever order Stripe's events come in: an invoice is linked to its
subscription and its Payment made exactly once (services.subscription_payments).

What still slips through the starts' rules (a subscription made by our own flows
at Stripe while the user already has a running one, e.g. a Checkout page
completed in a race, or an old open page): it is canceled at Stripe at once and
every payment it took refunded in full (``closed_reason``). One made in the
Stripe Dashboard is a person's decision: adopted, never canceled, and logged as
an error for the team to look at.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from django.db import IntegrityError, transaction
from django.utils import timezone as dj_timezone

from payments import gateway
from payments.errors import PaymentsError, ProviderError
from payments.ids import int_id
from payments.live import publish_entitlement_change
from payments.models import Customer, Invoice, Payment, Price, Subscription
from payments.selectors import user_active_tier
from payments.services.subscription_payments import SUBSCRIPTION_PAYABLE, payment_for_invoice, refund_if_closed

logger = logging.getLogger(__name__)


def _ts(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=timezone.utc) if value else None


def read_at(data: gateway.SubscriptionData) -> int:
    """The snapshot time of a subscription just read from Stripe: as new as anything applied."""
    applied = Subscription.objects.filter(stripe_subscription_id=data.id).values_list("stripe_snapshot_at", flat=True)
    return max([data.created, *applied])


def cancel_at_stripe(subscription: Subscription) -> gateway.SubscriptionData:
    try:
        return gateway.cancel_subscription_now(subscription_id=subscription.stripe_subscription_id)
    except ProviderError:  # ended already
        return gateway.retrieve_subscription(subscription.stripe_subscription_id)


def refresh_subscription(*, subscription: Subscription) -> Subscription:
    """Read the subscription from Stripe and apply it (authoritative); the re-read that
    ``subscription`` (as loaded, before Stripe is asked) shows pending is done."""
    seen = subscription.stripe_reread_requested_at
    data = gateway.retrieve_subscription(subscription.stripe_subscription_id)
    snapshot_at = max(data.created, subscription.stripe_snapshot_at)
    return apply_subscription(data=data, snapshot_at=snapshot_at, authoritative=True, reread_seen=seen) or subscription


def _reread(stripe_subscription_id: str) -> None:
    """After the commit of an event whose snapshot shows another plan or cancel request
    than ours: read the subscription from Stripe and take them (plan changes, pending
    updates, a cancel at period end undone), whatever order their events came in."""
    subscription = Subscription.objects.filter(stripe_subscription_id=stripe_subscription_id).first()
    if subscription is None:
        return
    try:
        refresh_subscription(subscription=subscription)
    except PaymentsError as exc:  # stripe_reread_requested_at stays: the next read (payments_reconcile) does it
        logger.warning("subscription %s: could not re-read it from Stripe (left pending): %s", subscription.pk, exc)


def _request_reread(subscription: Subscription) -> None:
    """Record on the locked row, with the event, that Stripe is to be read: later than
    any request before it, so that a read begun before this one cannot clear it."""
    now, pending = dj_timezone.now(), subscription.stripe_reread_requested_at
    subscription.stripe_reread_requested_at = max(now, pending + timedelta(microseconds=1)) if pending else now
    subscription.save(update_fields=["stripe_reread_requested_at"])


def _reread_done(subscription: Subscription, seen: datetime | None) -> None:
    """An authoritative snapshot asked of Stripe after ``seen`` was read from the row:
    that pending re-read is done; a newer one (recorded while Stripe answered) stays."""
    if seen is not None and subscription.stripe_reread_requested_at == seen:
        subscription.stripe_reread_requested_at = None
        subscription.save(update_fields=["stripe_reread_requested_at"])


def _locked_subscription(data: gateway.SubscriptionData, customer: Customer | None) -> Subscription | None:
    qs = Subscription.objects.select_for_update(of=("self",))  # not the Price select_related joins below
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
    from payments.services.catalog_pull import import_stripe_price

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
    *, data: gateway.SubscriptionData, snapshot_at: int, authoritative: bool = False,
    reread_seen: datetime | None = None,
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
    neither has a clock of its own in Stripe's object. That need is recorded on the
    row with the event (``stripe_reread_requested_at``), so that a read that fails
    is done by payments_reconcile; an authoritative snapshot given with the
    ``reread_seen`` its caller loaded before asking Stripe clears it, if still that."""
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
            _reread_done(subscription, reread_seen)
        elif other_plan or other_cancel:
            _request_reread(subscription)
            stripe_id = data.id
            transaction.on_commit(lambda: _reread(stripe_id), robust=True)
        _link_orphan_invoices(subscription)
        if subscription.closed_reason:
            if data.status not in Subscription.FINAL:
                # We closed it, but Stripe still runs it (an answer lost on the way): end it there.
                stripe_now = cancel_at_stripe(subscription)
                _apply(subscription, stripe_now, max(stripe_now.created, subscription.stripe_snapshot_at))
        elif not was_running and subscription.status in Subscription.BLOCKING_NEW:
            _end_if_duplicate(subscription, data)
        refund_if_closed(subscription)
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
            payment_for_invoice(
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
    stripe_now = cancel_at_stripe(subscription)
    _apply(subscription, stripe_now, max(stripe_now.created, subscription.stripe_snapshot_at))


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
            payment_for_invoice(invoice=invoice, subscription=linked, payment_intent_id=invoice.stripe_payment_intent_id)
            if invoice.status == Invoice.Status.PAID:
                refund_if_closed(linked)
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
