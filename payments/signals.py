"""Signals for host apps. All are sent after the transaction commits."""

from django.dispatch import Signal

# sender=Payment, payment=<Payment>, previous_status=<str>
payment_status_changed = Signal()

# sender=Refund, refund=<Refund>, previous_status=<str or None for a new refund>
refund_changed = Signal()

# sender=Subscription, user=<User>, previous_tier=<Tier or None>, tier=<Tier or None>
entitlement_changed = Signal()

# Three days before a trial ends (Stripe's customer.subscription.trial_will_end),
# once per trial: remind the customer that the first renewal is coming.
# sender=Subscription, subscription=<Subscription>, trial_end=<datetime>
trial_will_end = Signal()
