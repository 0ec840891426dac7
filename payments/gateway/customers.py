"""Customers: who pays, as Stripe knows them."""

from __future__ import annotations

from collections.abc import Mapping

import payments.gateway.client as client
from payments.stripe_data import CustomerData


def create_customer(*, email: str, name: str, metadata: Mapping[str, str], idempotency_key: str) -> CustomerData:
    customer = client.call(
        client.v1().customers.create,
        params={"email": email, "name": name, "metadata": dict(metadata)},
        options={"idempotency_key": idempotency_key},
    )
    return CustomerData(id=customer.id, email=customer.email or "")
