"""Refunds of a PaymentIntent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import payments.gateway.client as client
from payments.stripe_data import RefundData, refund_from_dict


def create_refund(
    *, payment_intent_id: str, amount: int, reason: str | None, metadata: Mapping[str, str], idempotency_key: str
) -> RefundData:
    params: dict[str, Any] = {"payment_intent": payment_intent_id, "amount": amount, "metadata": dict(metadata)}
    if reason:
        params["reason"] = reason
    refund = client.call(client.v1().refunds.create, params=params, options={"idempotency_key": idempotency_key})
    return refund_from_dict(refund.to_dict())


def list_refunds(*, payment_intent_id: str) -> list[RefundData]:
    page = client.call(client.v1().refunds.list, params={"payment_intent": payment_intent_id, "limit": 100})
    return [refund_from_dict(r.to_dict()) for r in page.auto_paging_iter()]
