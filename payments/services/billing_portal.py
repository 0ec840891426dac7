"""Stripe's customer portal for the viewer: update the card renewals are charged
to, see invoices, cancel at the period's end. What the customer does there
reaches us as webhooks (customer.updated, customer.subscription.updated,
payment_method.attached) and is applied like everything else: nothing here
trusts the customer's return to ``returnUrl``."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import transaction

from payments import gateway
from payments.models import Customer
from payments.services.access import require_payments_enabled, require_user
from payments.services.customers import customer_get_or_create
from payments.services.redirects import check_redirect


def create_billing_portal_session(*, user, return_url: str) -> str:
    """The portal's URL for the viewer's own Stripe Customer; ``return_url`` on an
    allowed origin (PAYMENTS_REDIRECT_ORIGINS, as Checkout's URLs) or INVALID_INPUT."""
    require_user(user)
    require_payments_enabled()
    check_redirect(return_url, "returnUrl")
    customer = customer_get_or_create(user=user)
    # A new short-lived link each time: retrying a lost answer makes another link,
    # never a second effect; the key only makes the library's own retries one call.
    return gateway.create_billing_portal_session(
        customer_id=customer.stripe_customer_id, return_url=return_url,
        idempotency_key=f"customer-{customer.pk}-portal-{uuid.uuid4()}",
    )


def apply_customer(*, data: gateway.CustomerData, snapshot_at: datetime) -> Customer | None:
    """customer.updated: the default payment method the portal (or the Dashboard) set,
    as the newest snapshot says (the customer's events carry its whole state): one
    older than the snapshot already applied (``snapshot_at``, the event's creation)
    changes nothing; one of the same second is taken, as Stripe sends them in order."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().filter(stripe_customer_id=data.id).first()
        if customer is None:
            return None
        if customer.default_payment_method_at is not None and snapshot_at < customer.default_payment_method_at:
            return customer
        customer.default_payment_method_id = data.default_payment_method or ""
        customer.default_payment_method_at = snapshot_at
        customer.save(update_fields=["default_payment_method_id", "default_payment_method_at"])
        return customer
