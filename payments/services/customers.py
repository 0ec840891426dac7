from __future__ import annotations

from django.db import transaction

from payments import gateway
from payments.models import Customer
from payments.services.idempotency import stripe_key


def customer_get_or_create(*, user) -> Customer:
    """The user's Stripe Customer, created at Stripe once even when several
    first requests race: one row per user (unique), and the Stripe call is made
    under that row's lock with an idempotency key tied to the row."""
    customer, _ = Customer.objects.get_or_create(user=user)
    if customer.stripe_customer_id:
        return customer
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if not customer.stripe_customer_id:
            # Stripe under lock, kept: once per user ever: one Stripe Customer per user, the id
            # stored in the same step as the check.
            created = gateway.create_customer(
                email=user.email,
                name=user.get_full_name() or user.get_username(),
                metadata={"user_id": str(user.pk)},
                idempotency_key=stripe_key("customer", customer.pk, f"{customer.created_at.timestamp():.6f}"),
            )
            customer.stripe_customer_id = created.id
            customer.save(update_fields=["stripe_customer_id"])
    return customer
