"""PaymentIntents: one-time payments, confirmed by the customer with Stripe.js."""

from __future__ import annotations

from collections.abc import Mapping

import payments.gateway.client as client
from payments.stripe_data import PaymentIntentData, payment_intent_from_dict


def create_payment_intent(
    *,
    amount: int,
    currency: str,
    customer_id: str,
    metadata: Mapping[str, str],
    description: str,
    idempotency_key: str,
) -> PaymentIntentData:
    """A PaymentIntent with automatic payment methods (API endive: no
    payment_method_types on create)."""
    intent = client.call(
        client.v1().payment_intents.create,
        params={
            "amount": amount,
            "currency": currency,
            "customer": customer_id,
            "metadata": dict(metadata),
            "description": description,
            "automatic_payment_methods": {"enabled": True},
        },
        options={"idempotency_key": idempotency_key},
    )
    return payment_intent_from_dict(intent.to_dict())


def retrieve_payment_intent(payment_intent_id: str) -> PaymentIntentData:
    intent = client.call(client.v1().payment_intents.retrieve, payment_intent_id)
    return payment_intent_from_dict(intent.to_dict())


def cancel_payment_intent(payment_intent_id: str, *, idempotency_key: str) -> PaymentIntentData:
    """Cancel an intent that has not taken money (requires_payment_method,
    requires_confirmation, requires_action); Stripe refuses it once processing
    or succeeded (ProviderError), and the caller then reads it instead."""
    intent = client.call(
        client.v1().payment_intents.cancel,
        payment_intent_id,
        params={"cancellation_reason": "abandoned"},
        options={"idempotency_key": idempotency_key},
    )
    return payment_intent_from_dict(intent.to_dict())
