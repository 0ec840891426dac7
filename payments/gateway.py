"""The only module of the product that calls ``stripe``.

One ``stripe.StripeClient`` built from settings with a pinned API version and
explicit network retries. ``STRIPE_API_BASE`` points it at another Stripe
(a local stand-in as its own process) and ``STRIPE_HTTP_CLIENT`` names the
``stripe.HTTPClient`` class it sends through (a stand-in inside this process),
so the same code path runs in development, in the tests and against Stripe.

Every POST carries an idempotency key chosen by the caller. Answers come back
as plain dataclasses; ``stripe.*Error`` is translated into payments.errors.
"""

from __future__ import annotations

import functools
import json
import re
import time
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import stripe
from django.utils.module_loading import import_string

from payments.conf import get_config
from payments.logging import log_stripe_call, request_id_of
from payments.errors import (
    CardDeclined,
    IdempotencyConflict,
    InvalidWebhook,
    MalformedStripeObject,
    ProviderError,
    ProviderUnavailable,
)

# The key sent when none is configured: a local stand-in accepts any test key.
NO_SECRET_KEY = "sk_test_local"


# ------------------------------------------------------------ plain values


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
class WebhookEventData:
    id: str
    type: str
    created: int
    livemode: bool
    api_version: str
    object: Mapping[str, Any]
    payload: Mapping[str, Any] = field(repr=False)


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


def _strict(reader):
    """A reader of a Stripe object raises MalformedStripeObject, whatever the
    shape of the damage, so callers can tell bad data from a bug of ours."""

    @functools.wraps(reader)
    def read(obj: Any):
        try:
            return reader(obj)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise MalformedStripeObject(f"{reader.__name__}: {type(exc).__name__}: {exc}") from exc

    return read


# What a stored event must fit (WebhookEvent's columns) and a sane clock.
_EVENT_LIMITS = {"id": 255, "type": 100, "api_version": 64}
_LATEST_CREATED = 2**33  # the year 2242


@_strict
def event_from_dict(data: Mapping[str, Any]) -> WebhookEventData:
    """An event as Stripe lists it (GET /v1/events) or as we stored its delivery,
    in the shape ``parse_webhook`` gives a verified delivery."""
    obj = (data.get("data") or {}).get("object")
    if not isinstance(obj, Mapping):
        raise ValueError(f"event {data.get('id')}: data.object is not an object")
    event = WebhookEventData(
        id=str(data["id"]),
        type=str(data["type"]),
        created=int(data["created"]),
        livemode=bool(data.get("livemode", False)),
        api_version=str(data.get("api_version") or ""),
        object=obj,
        payload=data,
    )
    for name, limit in _EVENT_LIMITS.items():
        value = getattr(event, name)
        if len(value) > limit or (not value and name != "api_version"):
            raise ValueError(f"{name} must have 1 to {limit} characters")
    if not 0 < event.created < _LATEST_CREATED:
        raise ValueError("created is out of range")
    return event


def _id(value: Any) -> str | None:
    """An expandable field: the id whether Stripe sent the id or the object."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return _text(value, optional=True)


def _text(value: Any, *, optional: bool = False) -> str | None:
    """A string field (None allowed only when ``optional``): anything else is Stripe's
    data damaged, which the readers report as MalformedStripeObject."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _one_of(value: Any, allowed: frozenset[str]) -> str:
    if value not in allowed:
        raise ValueError(f"unknown status {value!r}")
    return value


# The statuses Stripe documents (API endive); any other is damaged data.
PAYMENT_INTENT_STATUSES = frozenset({
    "requires_payment_method", "requires_confirmation", "requires_action", "processing",
    "requires_capture", "canceled", "succeeded",
})
REFUND_STATUSES = frozenset({"pending", "requires_action", "succeeded", "failed", "canceled"})


@_strict
def refund_from_dict(obj: Mapping[str, Any]) -> RefundData:
    return RefundData(
        id=_text(obj["id"]),
        status=_one_of(obj["status"], REFUND_STATUSES),
        amount=int(obj["amount"]),
        currency=_text(obj["currency"]),
        payment_intent=_id(obj.get("payment_intent")),
        charge=_id(obj.get("charge")),
        reason=obj.get("reason"),
        failure_reason=obj.get("failure_reason") or "",
        metadata=dict(obj.get("metadata") or {}),
        balance_transaction=_id(obj.get("balance_transaction")),
        failure_balance_transaction=_id(obj.get("failure_balance_transaction")),
    )


def _literal_values(annotation: Any) -> frozenset[str]:
    """The strings of the Literal(s) in a stripe-python annotation such as
    ``Union[Literal["a", "b"], str]`` (the ``str`` is how it says "or a newer one")."""
    if typing.get_origin(annotation) is typing.Literal:
        return frozenset(typing.get_args(annotation))
    return frozenset().union(*(_literal_values(arg) for arg in typing.get_args(annotation)))


# Every balance transaction type of the installed stripe-python (the pinned API
# version's), read from its typed class rather than written out here.
STRIPE_VERSION: str = stripe.VERSION
BALANCE_TRANSACTION_TYPES: frozenset[str] = _literal_values(stripe.BalanceTransaction.__annotations__["type"])


@_strict
def balance_transaction_from_dict(obj: Mapping[str, Any]) -> BalanceTransactionData:
    return BalanceTransactionData(
        id=obj["id"],
        type=obj["type"],
        amount=int(obj["amount"]),
        fee=int(obj["fee"]),
        net=int(obj["net"]),
        currency=obj["currency"],
        created=int(obj["created"]),
        source=_id(obj.get("source")),
    )


@dataclass(frozen=True)
class InvoiceData:
    id: str
    status: str
    number: str
    amount_due: int
    amount_paid: int
    currency: str
    period_start: int | None
    period_end: int | None
    hosted_invoice_url: str
    invoice_pdf: str
    billing_reason: str
    subscription: str | None
    customer: str | None
    payment_intent: str | None  # the default payment's intent, when `payments` was included
    client_secret: str | None  # `confirmation_secret`, when included
    created: int


@dataclass(frozen=True)
class SubscriptionData:
    id: str
    status: str
    customer: str | None
    price: str | None
    current_period_start: int | None
    current_period_end: int | None
    cancel_at_period_end: bool
    canceled_at: int | None
    ended_at: int | None
    metadata: Mapping[str, str]
    latest_invoice: InvoiceData | None  # when expanded
    created: int
    trial_start: int | None = None
    trial_end: int | None = None
    # The pending SetupIntent's client secret (a trial's card to save), when expanded.
    setup_client_secret: str | None = None
    default_payment_method: str | None = None


@_strict
def invoice_from_dict(obj: Mapping[str, Any]) -> InvoiceData:
    parent = obj.get("parent") or {}
    details = parent.get("subscription_details") or {}
    payments = (obj.get("payments") or {}).get("data") or []
    default = next((p for p in payments if p.get("is_default")), payments[0] if payments else None)
    secret = obj.get("confirmation_secret") or {}
    # The service period is on the lines; the invoice's own period looks back
    # (a first invoice's is its creation instant).
    lines = (obj.get("lines") or {}).get("data") or []
    period = (lines[0].get("period") if lines else None) or {}
    return InvoiceData(
        id=obj["id"],
        status=obj.get("status") or "draft",
        number=obj.get("number") or "",
        amount_due=int(obj.get("amount_due") or 0),
        amount_paid=int(obj.get("amount_paid") or 0),
        currency=obj["currency"],
        period_start=period.get("start", obj.get("period_start")),
        period_end=period.get("end", obj.get("period_end")),
        hosted_invoice_url=obj.get("hosted_invoice_url") or "",
        invoice_pdf=obj.get("invoice_pdf") or "",
        billing_reason=obj.get("billing_reason") or "",
        subscription=_id(details.get("subscription")) or _id(obj.get("subscription")),
        customer=_id(obj.get("customer")),
        payment_intent=_id((default or {}).get("payment", {}).get("payment_intent")),
        client_secret=secret.get("client_secret"),
        created=int(obj["created"]),
    )


@_strict
def subscription_from_dict(obj: Mapping[str, Any]) -> SubscriptionData:
    """API endive keeps the billing period on the subscription's items."""
    items = (obj.get("items") or {}).get("data") or []
    item = items[0] if items else {}
    latest = obj.get("latest_invoice")
    return SubscriptionData(
        id=obj["id"],
        status=obj["status"],
        customer=_id(obj.get("customer")),
        price=_id(item.get("price")),
        current_period_start=item.get("current_period_start"),
        current_period_end=item.get("current_period_end"),
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        canceled_at=obj.get("canceled_at"),
        ended_at=obj.get("ended_at"),
        metadata=dict(obj.get("metadata") or {}),
        latest_invoice=invoice_from_dict(latest) if isinstance(latest, Mapping) else None,
        created=int(obj["created"]),
        trial_start=obj.get("trial_start"),
        trial_end=obj.get("trial_end"),
        setup_client_secret=_setup_client_secret(obj.get("pending_setup_intent")),
        default_payment_method=_id(obj.get("default_payment_method")),
    )


def _setup_client_secret(setup_intent: Any) -> str | None:
    """An expanded pending SetupIntent's secret while it still needs the customer."""
    if not isinstance(setup_intent, Mapping):
        return None
    if setup_intent.get("status") not in ("requires_payment_method", "requires_confirmation", "requires_action"):
        return None
    return _text(setup_intent.get("client_secret"), optional=True)


@dataclass(frozen=True)
class CheckoutSessionData:
    id: str
    url: str
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    mode: str
    payment_intent: str | None
    subscription: str | None
    customer: str | None
    client_reference_id: str | None
    metadata: Mapping[str, str]
    amount_total: int | None
    currency: str | None
    expires_at: int | None
    created: int


@_strict
def checkout_session_from_dict(obj: Mapping[str, Any]) -> CheckoutSessionData:
    return CheckoutSessionData(
        id=obj["id"],
        url=obj.get("url") or "",
        status=obj.get("status") or "open",
        payment_status=obj.get("payment_status") or "unpaid",
        mode=obj.get("mode") or "payment",
        payment_intent=_id(obj.get("payment_intent")),
        subscription=_id(obj.get("subscription")),
        customer=_id(obj.get("customer")),
        client_reference_id=obj.get("client_reference_id"),
        metadata=dict(obj.get("metadata") or {}),
        amount_total=obj.get("amount_total"),
        currency=obj.get("currency"),
        expires_at=obj.get("expires_at"),
        created=int(obj["created"]),
    )


@_strict
def payment_intent_from_dict(obj: Mapping[str, Any]) -> PaymentIntentData:
    """Read a PaymentIntent as Stripe sends it (API object or event data)."""
    error = obj.get("last_payment_error") or {}
    return PaymentIntentData(
        id=_text(obj["id"]),
        status=_one_of(obj["status"], PAYMENT_INTENT_STATUSES),
        amount=int(obj["amount"]),
        amount_received=int(obj.get("amount_received") or 0),
        currency=_text(obj["currency"]),
        client_secret=_text(obj.get("client_secret"), optional=True),
        customer=_id(obj.get("customer")),
        metadata=dict(obj.get("metadata") or {}),
        failure_code=_text(error.get("decline_code") or error.get("code") or "") if error else "",
        failure_message=_text(error.get("message") or "") if error else "",
        latest_charge=_id(obj.get("latest_charge")),
    )


# ----------------------------------------------------------------- client


@functools.cache
def _client(
    secret_key: str, api_version: str, max_network_retries: int, api_base: str, http_client: str
) -> stripe.StripeClient:
    options: dict[str, Any] = {}
    if api_base:
        options["base_addresses"] = {"api": api_base}
    if http_client:
        options["http_client"] = import_string(http_client)()
    return stripe.StripeClient(
        secret_key or NO_SECRET_KEY, stripe_version=api_version, max_network_retries=max_network_retries, **options
    )


def get_client() -> stripe.StripeClient:
    config = get_config()
    return _client(
        config.secret_key, config.api_version, config.max_network_retries, config.api_base, config.http_client
    )


def reset_client() -> None:
    """Forget the cached client (tests that change settings call this)."""
    _client.cache_clear()


def _translate(exc: stripe.StripeError) -> Exception:
    message = exc.user_message or "Stripe refused the request."
    if isinstance(exc, stripe.CardError):
        decline_code = (exc.error.decline_code if exc.error else None) or exc.code or ""
        return CardDeclined(message, decline_code=decline_code)
    if isinstance(exc, stripe.IdempotencyError):
        return IdempotencyConflict("This idempotencyKey was already used with different input.")
    if isinstance(exc, (stripe.APIConnectionError, stripe.RateLimitError)):
        return ProviderUnavailable("Stripe is unreachable right now; retry with the same idempotencyKey.")
    if isinstance(exc, stripe.APIError) and (exc.http_status or 500) >= 500:
        return ProviderUnavailable("Stripe is unavailable right now; retry with the same idempotencyKey.")
    if exc.http_status == 409:  # a request with the same idempotency key is still running at Stripe
        return ProviderUnavailable("Stripe is still working on this request; retry with the same idempotencyKey.")
    return ProviderError("Stripe refused the request.", http_status=exc.http_status, stripe_code=exc.code)


def _call(fn, *args, **kwargs):
    """Every call that reaches Stripe: one structured log line, our own errors."""
    started = time.monotonic()
    try:
        result = fn(*args, **kwargs)
    except stripe.StripeError as exc:
        log_stripe_call(fn, started, outcome=type(exc).__name__, request_id=exc.request_id)
        raise _translate(exc) from exc
    log_stripe_call(fn, started, outcome="ok", request_id=request_id_of(result))
    return result


# ------------------------------------------------------------- use cases


def create_customer(*, email: str, name: str, metadata: Mapping[str, str], idempotency_key: str) -> CustomerData:
    customer = _call(
        get_client().v1.customers.create,
        params={"email": email, "name": name, "metadata": dict(metadata)},
        options={"idempotency_key": idempotency_key},
    )
    return CustomerData(id=customer.id, email=customer.email or "")


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
    intent = _call(
        get_client().v1.payment_intents.create,
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
    intent = _call(get_client().v1.payment_intents.retrieve, payment_intent_id)
    return payment_intent_from_dict(intent.to_dict())


def cancel_payment_intent(payment_intent_id: str, *, idempotency_key: str) -> PaymentIntentData:
    """Cancel an intent that has not taken money (requires_payment_method,
    requires_confirmation, requires_action); Stripe refuses it once processing
    or succeeded (ProviderError), and the caller then reads it instead."""
    intent = _call(
        get_client().v1.payment_intents.cancel,
        payment_intent_id,
        params={"cancellation_reason": "abandoned"},
        options={"idempotency_key": idempotency_key},
    )
    return payment_intent_from_dict(intent.to_dict())


def create_refund(
    *, payment_intent_id: str, amount: int, reason: str | None, metadata: Mapping[str, str], idempotency_key: str
) -> RefundData:
    params: dict[str, Any] = {"payment_intent": payment_intent_id, "amount": amount, "metadata": dict(metadata)}
    if reason:
        params["reason"] = reason
    refund = _call(get_client().v1.refunds.create, params=params, options={"idempotency_key": idempotency_key})
    return refund_from_dict(refund.to_dict())


def list_refunds(*, payment_intent_id: str) -> list[RefundData]:
    page = _call(get_client().v1.refunds.list, params={"payment_intent": payment_intent_id, "limit": 100})
    return [refund_from_dict(r.to_dict()) for r in page.auto_paging_iter()]


def retrieve_balance_transaction(balance_transaction_id: str) -> BalanceTransactionData:
    txn = _call(get_client().v1.balance_transactions.retrieve, balance_transaction_id)
    return balance_transaction_from_dict(txn.to_dict())


def retrieve_charge_balance_transaction(charge_id: str) -> BalanceTransactionData | None:
    return retrieve_charge(charge_id).balance_transaction


def retrieve_charge(charge_id: str) -> ChargeData:
    """The charge with its balance transaction (the ledger's read; what paid and the
    receipt come with it)."""
    charge = _call(get_client().v1.charges.retrieve, charge_id, params={"expand": ["balance_transaction"]})
    return charge_from_dict(charge.to_dict())


def retrieve_balance() -> dict[str, int]:
    """Available + pending amount per currency."""
    balance = _call(get_client().v1.balance.retrieve).to_dict()
    totals: dict[str, int] = {}
    for entry in [*balance.get("available", []), *balance.get("pending", [])]:
        totals[entry["currency"]] = totals.get(entry["currency"], 0) + int(entry["amount"])
    return totals


_SUBSCRIPTION_EXPAND = ["latest_invoice.confirmation_secret", "latest_invoice.payments", "pending_setup_intent"]


def create_product(*, name: str, description: str, metadata: Mapping[str, str], idempotency_key: str) -> str:
    params: dict[str, Any] = {"name": name, "metadata": dict(metadata)}
    if description:
        params["description"] = description
    product = _call(get_client().v1.products.create, params=params, options={"idempotency_key": idempotency_key})
    return product.id


def create_price(
    *, product_id: str, currency: str, unit_amount: int, interval: str | None, interval_count: int | None,
    metadata: Mapping[str, str], idempotency_key: str, trial_period_days: int | None = None,
) -> str:
    params: dict[str, Any] = {
        "product": product_id, "currency": currency, "unit_amount": unit_amount, "metadata": dict(metadata),
    }
    if interval:
        params["recurring"] = {"interval": interval, "interval_count": interval_count or 1}
        if trial_period_days:
            params["recurring"]["trial_period_days"] = trial_period_days
    price = _call(get_client().v1.prices.create, params=params, options={"idempotency_key": idempotency_key})
    return price.id


def create_subscription(
    *, customer_id: str, price_id: str, metadata: Mapping[str, str], idempotency_key: str,
    trial_period_days: int | None = None,
) -> SubscriptionData:
    """default_incomplete: the first invoice waits for the customer to confirm its
    payment with Stripe.js (the confirmation secret comes back expanded). With
    ``trial_period_days`` it starts trialing, nothing due, and its pending SetupIntent
    (expanded) saves the card the first renewal is charged to."""
    params: dict[str, Any] = {
        "customer": customer_id,
        "items": [{"price": price_id}],
        "payment_behavior": "default_incomplete",
        "payment_settings": {"save_default_payment_method": "on_subscription"},
        "metadata": dict(metadata),
        "expand": _SUBSCRIPTION_EXPAND,
    }
    if trial_period_days:  # ours decides (one trial per customer and tier), not the price's
        params["trial_period_days"] = trial_period_days
    sub = _call(
        get_client().v1.subscriptions.create, params=params, options={"idempotency_key": idempotency_key}
    )
    return subscription_from_dict(sub.to_dict())


def retrieve_subscription(subscription_id: str) -> SubscriptionData:
    sub = _call(get_client().v1.subscriptions.retrieve, subscription_id, params={"expand": _SUBSCRIPTION_EXPAND})
    return subscription_from_dict(sub.to_dict())


def set_cancel_at_period_end(*, subscription_id: str, cancel: bool, idempotency_key: str) -> SubscriptionData:
    sub = _call(
        get_client().v1.subscriptions.update,
        subscription_id,
        params={"cancel_at_period_end": cancel},
        options={"idempotency_key": idempotency_key},
    )
    return subscription_from_dict(sub.to_dict())


def cancel_subscription_now(*, subscription_id: str) -> SubscriptionData:
    sub = _call(get_client().v1.subscriptions.cancel, subscription_id)
    return subscription_from_dict(sub.to_dict())


def retrieve_invoice(invoice_id: str) -> InvoiceData:
    invoice = _call(get_client().v1.invoices.retrieve, invoice_id, params={"expand": ["payments"]})
    return invoice_from_dict(invoice.to_dict())


def create_checkout_session(
    *,
    mode: str,
    customer_id: str,
    success_url: str,
    cancel_url: str,
    client_reference_id: str,
    metadata: Mapping[str, str],
    idempotency_key: str,
    price_id: str | None = None,
    amount: int | None = None,
    currency: str | None = None,
    product_id: str | None = None,
) -> CheckoutSessionData:
    """A hosted Checkout page for one item: a Stripe Price, or (``amount``) an
    amount of our own on a product. Mode "payment" (the intent carries our
    metadata too) or "subscription"."""
    if price_id:
        item: dict[str, Any] = {"price": price_id, "quantity": 1}
    else:
        item = {"price_data": {"currency": currency, "unit_amount": amount, "product": product_id}, "quantity": 1}
    params: dict[str, Any] = {
        "mode": mode,
        "line_items": [item],
        "customer": customer_id,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "metadata": dict(metadata),
    }
    if mode == "payment":
        params["payment_intent_data"] = {"metadata": dict(metadata)}
    else:
        params["subscription_data"] = {"metadata": dict(metadata)}
    session = _call(get_client().v1.checkout.sessions.create, params=params, options={"idempotency_key": idempotency_key})
    return checkout_session_from_dict(session.to_dict())


def retrieve_checkout_session(session_id: str) -> CheckoutSessionData:
    return checkout_session_from_dict(_call(get_client().v1.checkout.sessions.retrieve, session_id).to_dict())


def expire_checkout_session(session_id: str) -> CheckoutSessionData:
    """Close an open Checkout page so it can no longer be paid; Stripe refuses
    it for a session that is complete already (ProviderError)."""
    return checkout_session_from_dict(_call(get_client().v1.checkout.sessions.expire, session_id).to_dict())


# --------------------------------------------------------------- webhooks


# A JSON escape of NUL: \u0000 after an even number of backslashes (an odd number
# means the backslash itself is escaped: the text holds "\u0000", not a NUL).
_JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def parse_webhook(payload: bytes, signature_header: str | None) -> WebhookEventData:
    """Verify Stripe-Signature on the raw body (300 s tolerance) and read the event.

    Raises InvalidWebhook for a bad signature or a body that is not an event.
    """
    secret = get_config().webhook_secret
    tolerance = stripe.Webhook.DEFAULT_TOLERANCE
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, signature_header, secret, tolerance)
        # The library refuses old signatures only; one dated ahead of our clock is refused too.
        if _signed_at(signature_header) > time.time() + tolerance:
            raise ValueError("signature timestamp is in the future")
        if _JSON_NUL.search(text):
            raise ValueError("NUL characters cannot be stored")
        data = json.loads(text)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError, TypeError, IndexError,
            OverflowError, RecursionError) as exc:
        raise InvalidWebhook(str(exc) or type(exc).__name__) from exc
    if not isinstance(data, dict) or data.get("object") != "event":
        raise InvalidWebhook("malformed event: not an event")
    try:
        return event_from_dict(data)
    except MalformedStripeObject as exc:
        raise InvalidWebhook(f"malformed event: {exc}") from exc


def _signed_at(header: str | None) -> int:
    for part in (header or "").split(","):
        key, _, value = part.partition("=")
        if key.strip() == "t":
            return int(value)
    raise ValueError("no timestamp in Stripe-Signature")


def sign_webhook_payload(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe would send for ``payload``."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)


# ------------------------------------------------------------- operations
# Catalog sync, the event list and webhook endpoints, for the operations (payments/services/catalog_sync.py, payments/operations/).


@dataclass(frozen=True)
class ProductData:
    id: str
    name: str
    description: str
    active: bool
    metadata: Mapping[str, str]


@dataclass(frozen=True)
class PriceData:
    id: str
    product: str | None
    currency: str
    unit_amount: int | None  # None for custom / tiered prices
    type: str  # one_time | recurring
    interval: str | None
    interval_count: int | None
    active: bool
    metadata: Mapping[str, str]
    trial_period_days: int | None = None


@dataclass(frozen=True)
class WebhookEndpointData:
    id: str
    url: str
    enabled_events: tuple[str, ...]
    api_version: str | None
    status: str  # enabled | disabled
    secret: str | None = field(default=None, repr=False)  # in the answer to its creation only


@_strict
def product_from_dict(obj: Mapping[str, Any]) -> ProductData:
    return ProductData(
        id=obj["id"],
        name=obj.get("name") or "",
        description=obj.get("description") or "",
        active=bool(obj.get("active", True)),
        metadata=dict(obj.get("metadata") or {}),
    )


@_strict
def price_from_dict(obj: Mapping[str, Any]) -> PriceData:
    recurring = obj.get("recurring") or {}
    amount = obj.get("unit_amount")
    return PriceData(
        id=obj["id"],
        product=_id(obj.get("product")),
        currency=obj["currency"],
        unit_amount=None if amount is None else int(amount),
        type=obj.get("type") or ("recurring" if recurring else "one_time"),
        interval=recurring.get("interval"),
        interval_count=int(recurring["interval_count"]) if recurring.get("interval_count") else None,
        active=bool(obj.get("active", True)),
        metadata=dict(obj.get("metadata") or {}),
        trial_period_days=int(recurring["trial_period_days"]) if recurring.get("trial_period_days") else None,
    )


@_strict
def webhook_endpoint_from_dict(obj: Mapping[str, Any]) -> WebhookEndpointData:
    return WebhookEndpointData(
        id=obj["id"],
        url=obj.get("url") or "",
        enabled_events=tuple(obj.get("enabled_events") or ()),
        api_version=obj.get("api_version"),
        status=obj.get("status") or "enabled",
        secret=obj.get("secret"),
    )


def _list_all(list_fn, params: Mapping[str, Any]) -> list[Any]:
    """Every item of a Stripe list, page by page (``starting_after``), each page one call."""
    items: list[Any] = []
    page_params = {"limit": 100, **params}
    while True:
        page = _call(list_fn, params=page_params)
        data = list(page.data)
        items.extend(data)
        if not page.has_more or not data:
            return items
        page_params = {**page_params, "starting_after": data[-1].id}


def list_products() -> list[ProductData]:
    """Every Product, active or not, newest first."""
    return [product_from_dict(p.to_dict()) for p in _list_all(get_client().v1.products.list, {})]


def list_prices(*, product_id: str | None = None) -> list[PriceData]:
    """Every Price (of ``product_id``), active or not, newest first."""
    params = {"product": product_id} if product_id else {}
    return [price_from_dict(p.to_dict()) for p in _list_all(get_client().v1.prices.list, params)]


def retrieve_product(product_id: str) -> ProductData:
    return product_from_dict(_call(get_client().v1.products.retrieve, product_id).to_dict())


def retrieve_price(price_id: str) -> PriceData:
    return price_from_dict(_call(get_client().v1.prices.retrieve, price_id).to_dict())


def update_product(
    product_id: str, *, name: str, description: str, active: bool, metadata: Mapping[str, str], idempotency_key: str
) -> ProductData:
    """Name, description (empty: none), active flag and metadata keys given."""
    product = _call(
        get_client().v1.products.update,
        product_id,
        params={"name": name, "description": description, "active": active, "metadata": dict(metadata)},
        options={"idempotency_key": idempotency_key},
    )
    return product_from_dict(product.to_dict())


def set_price_active(price_id: str, *, active: bool, idempotency_key: str) -> PriceData:
    """A Price's amount never changes at Stripe; only whether it can be used for new purchases."""
    price = _call(
        get_client().v1.prices.update,
        price_id,
        params={"active": active},
        options={"idempotency_key": idempotency_key},
    )
    return price_from_dict(price.to_dict())


def list_events(*, created_gte: int, types: frozenset[str] | None = None) -> list[WebhookEventData]:
    """Events created at or after ``created_gte`` (Stripe keeps 30 days), oldest first,
    of ``types`` when given (filtered here: the API takes one type per call)."""
    found = []
    for event in _list_all(get_client().v1.events.list, {"created": {"gte": created_gte}}):
        data = event.to_dict(for_json=True)
        if types is None or data.get("type") in types:
            found.append(event_from_dict(data))
    found.reverse()  # Stripe lists newest first
    return found


def list_webhook_endpoints() -> list[WebhookEndpointData]:
    return [
        webhook_endpoint_from_dict(e.to_dict()) for e in _list_all(get_client().v1.webhook_endpoints.list, {})
    ]


def create_webhook_endpoint(
    *, url: str, enabled_events: list[str], api_version: str, description: str, idempotency_key: str
) -> WebhookEndpointData:
    """The answer carries the signing ``secret``: Stripe shows it this once."""
    endpoint = _call(
        get_client().v1.webhook_endpoints.create,
        params={
            "url": url,
            "enabled_events": list(enabled_events),
            "api_version": api_version,
            "description": description,
        },
        options={"idempotency_key": idempotency_key},
    )
    return webhook_endpoint_from_dict(endpoint.to_dict())


def update_webhook_endpoint(
    endpoint_id: str, *, enabled_events: list[str], description: str, idempotency_key: str
) -> WebhookEndpointData:
    """Stripe cannot change an endpoint's api_version (nor show its secret again)."""
    endpoint = _call(
        get_client().v1.webhook_endpoints.update,
        endpoint_id,
        params={"enabled_events": list(enabled_events), "description": description},
        options={"idempotency_key": idempotency_key},
    )
    return webhook_endpoint_from_dict(endpoint.to_dict())


# ----------------------------------------- subscription lifecycle: trials, portal, receipts


@dataclass(frozen=True)
class ChargeData:
    id: str
    status: str  # succeeded | pending | failed
    payment_intent: str | None
    payment_method_type: str  # payment_method_details.type: card, sepa_debit, ...
    card_brand: str  # the method's brand where it has one (a card's visa, mastercard, ...)
    card_last4: str
    receipt_url: str
    balance_transaction: BalanceTransactionData | None  # when expanded


@_strict
def charge_from_dict(obj: Mapping[str, Any]) -> ChargeData:
    details = obj.get("payment_method_details") or {}
    kind = details.get("type") or ""
    method = details.get(kind) if isinstance(details.get(kind), Mapping) else {}
    txn = obj.get("balance_transaction")
    return ChargeData(
        id=_text(obj["id"]),
        status=_text(obj["status"]),
        payment_intent=_id(obj.get("payment_intent")),
        payment_method_type=_text(kind)[:64],
        card_brand=(_text(method.get("brand"), optional=True) or "")[:32],
        card_last4=(_text(method.get("last4"), optional=True) or "")[:4],
        receipt_url=(_text(obj.get("receipt_url"), optional=True) or "")[:1000],
        balance_transaction=balance_transaction_from_dict(txn) if isinstance(txn, Mapping) else None,
    )


@_strict
def customer_from_dict(obj: Mapping[str, Any]) -> CustomerData:
    settings_ = obj.get("invoice_settings") or {}
    return CustomerData(
        id=_text(obj["id"]),
        email=obj.get("email") or "",
        default_payment_method=_id(settings_.get("default_payment_method")),
    )


def create_billing_portal_session(*, customer_id: str, return_url: str, idempotency_key: str) -> str:
    """The customer portal's URL for the customer (Stripe's default portal configuration)."""
    session = _call(
        get_client().v1.billing_portal.sessions.create,
        params={"customer": customer_id, "return_url": return_url},
        options={"idempotency_key": idempotency_key},
    )
    return _text(session.url)
