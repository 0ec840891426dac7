"""Trials: a RECURRING price's ``trial_period_days`` gives a customer's first
subscription of that tier a free start (TRIALING, nothing charged, a card saved
with a SetupIntent for the first renewal), once per customer and tier.

Who gets one is decided when createSubscription writes the subscription's row,
under the user's Customer lock (services.subscriptions), and kept on the row
(``Subscription.trial_period_days``): the Stripe call made for that row, retried
with the same idempotency key, always asks for the same trial. A tier's trial is
used once any subscription of the user on that tier reached Stripe with a trial
asked for, or ever showed one (``trial_end``: one adopted from the Dashboard too).

``customer.subscription.trial_will_end`` is recorded on the subscription (the
trial it was for) and host apps get the ``trial_will_end`` signal after commit,
once per trial whatever Stripe's redeliveries.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Q

from payments.models import Price, Subscription
from payments.signals import trial_will_end

logger = logging.getLogger(__name__)


def trial_days_for(*, user, price: Price) -> int | None:
    """The trial a new subscription of ``user`` to ``price`` gets: the price's days, or
    None when it has none or the user had a trial on its tier already. The caller
    holds the user's Customer lock (the user's starts are serialised)."""
    if not price.trial_period_days:
        return None
    used = Subscription.objects.filter(user=user, tier_id=price.tier_id).filter(
        Q(trial_end__isnull=False) | Q(trial_period_days__isnull=False, stripe_subscription_id__isnull=False)
    )
    return None if used.exists() else price.trial_period_days


def record_trial_will_end(subscription: Subscription) -> bool:
    """Record the reminder for the (just applied) subscription's current trial, under
    its row lock; host apps are told after commit. False when it was recorded already,
    or the subscription is not trialing any more (a late event: the trial is over)."""
    with transaction.atomic():
        return _record(Subscription.objects.select_for_update().get(pk=subscription.pk))


def _record(subscription: Subscription) -> bool:
    if subscription.status != Subscription.Status.TRIALING or subscription.trial_end is None:
        logger.info("trial_will_end for subscription %s, which is %s: not recorded", subscription.pk, subscription.status)
        return False
    if subscription.trial_will_end_for == subscription.trial_end:
        return False
    subscription.trial_will_end_for = subscription.trial_end
    subscription.save(update_fields=["trial_will_end_for", "updated_at"])
    trial_end = subscription.trial_end
    transaction.on_commit(
        lambda: trial_will_end.send(sender=Subscription, subscription=subscription, trial_end=trial_end), robust=True
    )
    return True
