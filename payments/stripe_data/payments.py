"""PaymentIntents, refunds and the balance transactions behind them.

The statuses are closed sets (the pinned API version's): a status outside
them is damaged data, refused rather than mapped to a guess."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from payments.stripe_data._fields import expandable_id, one_of, strict, text_field


@dataclass(frozen=True)
class CustomerData:
    id: str
    email: str
    default_payment_method: str | None = None  # invoice_settings.default_payment_method


@dataclass(frozen=True)
class PaymentIntentData:
    id: str
    status: str
    amount: int
    amount_received: int
    currency: str
    client_secret: str | None
    customer: str | None
    metadata: Mapping[str, str]
    failure_code: str = ""
    failure_message: str = ""
    latest_charge: str | None = None


@dataclass(frozen=True)
class RefundData:
    id: str
    status: str
    amount: int
    currency: str
    payment_intent: str | None
    charge: str | None
    reason: str | None
    failure_reason: str
    metadata: Mapping[str, str]
    balance_transaction: str | None
    failure_balance_transaction: str | None


@dataclass(frozen=True)
class BalanceTransactionData:
    id: str
    type: str
    amount: int
    fee: int
    net: int
    currency: str
    created: int
    source: str | None


# The statuses Stripe documents (API endive); any other is damaged data.
PAYMENT_INTENT_STATUSES = frozenset({
    "requires_payment_method", "requires_confirmation", "requires_action", "processing",
    "requires_capture", "canceled", "succeeded",
})
REFUND_STATUSES = frozenset({"pending", "requires_action", "succeeded", "failed", "canceled"})


@strict
def refund_from_dict(obj: Mapping[str, Any]) -> RefundData:
    return RefundData(
        id=text_field(obj["id"]),
        status=one_of(obj["status"], REFUND_STATUSES),
        amount=int(obj["amount"]),
        currency=text_field(obj["currency"]),
        payment_intent=expandable_id(obj.get("payment_intent")),
        charge=expandable_id(obj.get("charge")),
        reason=obj.get("reason"),
        failure_reason=obj.get("failure_reason") or "",
        metadata=dict(obj.get("metadata") or {}),
        balance_transaction=expandable_id(obj.get("balance_transaction")),
        failure_balance_transaction=expandable_id(obj.get("failure_balance_transaction")),
    )


@strict
def balance_transaction_from_dict(obj: Mapping[str, Any]) -> BalanceTransactionData:
    return BalanceTransactionData(
        id=obj["id"],
        type=obj["type"],
        amount=int(obj["amount"]),
        fee=int(obj["fee"]),
        net=int(obj["net"]),
        currency=obj["currency"],
        created=int(obj["created"]),
        source=expandable_id(obj.get("source")),
    )


@strict
def payment_intent_from_dict(obj: Mapping[str, Any]) -> PaymentIntentData:
    """Read a PaymentIntent as Stripe sends it (API object or event data)."""
    error = obj.get("last_payment_error") or {}
    return PaymentIntentData(
        id=text_field(obj["id"]),
        status=one_of(obj["status"], PAYMENT_INTENT_STATUSES),
        amount=int(obj["amount"]),
        amount_received=int(obj.get("amount_received") or 0),
        currency=text_field(obj["currency"]),
        client_secret=text_field(obj.get("client_secret"), optional=True),
        customer=expandable_id(obj.get("customer")),
        metadata=dict(obj.get("metadata") or {}),
        failure_code=text_field(error.get("decline_code") or error.get("code") or "") if error else "",
        failure_message=text_field(error.get("message") or "") if error else "",
        latest_charge=expandable_id(obj.get("latest_charge")),
    )


@dataclass(frozen=True)
class ChargeData:
    """What a succeeded charge tells beyond its PaymentIntent: what paid, the receipt."""

    id: str
    status: str  # succeeded | pending | failed
    payment_intent: str | None
    payment_method_type: str  # payment_method_details.type: card, sepa_debit, ...
    card_brand: str  # the method's brand where it has one (a card's visa, mastercard, ...)
    card_last4: str
    receipt_url: str
    balance_transaction: BalanceTransactionData | None  # when expanded


@strict
def charge_from_dict(obj: Mapping[str, Any]) -> ChargeData:
    details = obj.get("payment_method_details") or {}
    kind = details.get("type") or ""
    method = details.get(kind) if isinstance(details.get(kind), Mapping) else {}
    txn = obj.get("balance_transaction")
    return ChargeData(
        id=text_field(obj["id"]),
        status=text_field(obj["status"]),
        payment_intent=expandable_id(obj.get("payment_intent")),
        payment_method_type=text_field(kind)[:64],
        card_brand=(text_field(method.get("brand"), optional=True) or "")[:32],
        card_last4=(text_field(method.get("last4"), optional=True) or "")[:4],
        receipt_url=(text_field(obj.get("receipt_url"), optional=True) or "")[:1000],
        balance_transaction=balance_transaction_from_dict(txn) if isinstance(txn, Mapping) else None,
    )


@strict
def customer_from_dict(obj: Mapping[str, Any]) -> CustomerData:
    invoice_settings = obj.get("invoice_settings") or {}
    return CustomerData(
        id=text_field(obj["id"]),
        email=obj.get("email") or "",
        default_payment_method=expandable_id(invoice_settings.get("default_payment_method")),
    )
