"""Who may do what: shared by the use cases."""

from __future__ import annotations

from payments.conf import get_config
from payments.errors import PaymentsDisabled, Unauthenticated


def require_user(user) -> None:
    if user is None or not user.is_authenticated:
        raise Unauthenticated("Log in first.")


def require_payments_enabled() -> None:
    if not get_config().enabled:
        raise PaymentsDisabled("Payments are switched off.")


def may_refund(user, payment) -> bool:
    """Staff with payments.add_refund; the owner too when PAYMENTS_CUSTOMER_REFUNDS is on."""
    if user.is_staff and user.has_perm("payments.add_refund"):
        return True
    return payment.user_id == user.pk and get_config().customer_refunds
