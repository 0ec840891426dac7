"""Who may do what: shared by the use cases.

Staff-ness alone grants nothing over someone else's money or data: a staff
user without permissions reads and does what any customer may (their own
things and the public catalog). Power over another customer's objects comes
from a Django permission, held by an active staff user:

- read a payment (query ``payment``, subscription ``paymentStatus``):
  ``payments.view_payment`` or ``payments.change_payment`` (change implies
  view, as in the admin);
- refresh it from Stripe: ``payments.change_payment``;
- refund it: ``payments.add_refund``;
- cancel a subscription: ``payments.change_subscription``.

Lists (payments, refunds, subscriptions, invoices, events) are the viewer's
own for everyone.
"""

from __future__ import annotations

from payments.conf import get_config
from payments.errors import PaymentsDisabled, Unauthenticated

VIEW_PAYMENT = ("payments.view_payment", "payments.change_payment")
CHANGE_PAYMENT = ("payments.change_payment",)
REFUND_PAYMENT = ("payments.add_refund",)
CHANGE_SUBSCRIPTION = ("payments.change_subscription",)


def require_user(user) -> None:
    if user is None or not user.is_authenticated:
        raise Unauthenticated("Log in first.")


def require_payments_enabled() -> None:
    if not get_config().enabled:
        raise PaymentsDisabled("Payments are switched off.")


def holds_any(user, perms: tuple[str, ...]) -> bool:
    """An active staff user holding one of ``perms`` (a superuser holds them all)."""
    if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
        return False
    return any(user.has_perm(perm) for perm in perms)


def may_refund(user, payment) -> bool:
    """Staff with payments.add_refund; the owner too when PAYMENTS_CUSTOMER_REFUNDS is on."""
    if holds_any(user, REFUND_PAYMENT):
        return True
    return payment.user_id == user.pk and get_config().customer_refunds
