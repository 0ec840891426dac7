"""Signals for host apps. All are sent after the transaction commits."""

from django.dispatch import Signal

# sender=Payment, payment=<Payment>, previous_status=<str>
payment_status_changed = Signal()
