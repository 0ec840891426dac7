"""Signals for host apps. All are sent after the transaction commits."""

from django.dispatch import Signal

# sender=Payment, payment=<Payment>, previous_status=<str>
payment_status_changed = Signal()

# sender=Refund, refund=<Refund>, previous_status=<str or None for a new refund>
refund_changed = Signal()

# sender=Subscription, user=<User>, previous_tier=<Tier or None>, tier=<Tier or None>
entitlement_changed = Signal()
