"""Stripe objects built from Stripe's own example objects (the test cards are
stripe_emulator/test_cards.py).

Every object starts as a deep copy of its example in ``fixtures.json`` (taken
from Stripe's OpenAPI fixtures, see STRIPE_FIXTURES_LICENSE), so it carries
exactly the keys the real API returns at this API version; the builders then
overwrite the values and null out example-only nested objects.
"""

from __future__ import annotations

import copy
import functools
import json
import secrets
import string
import time
from pathlib import Path
from typing import Any

from .test_cards import Decline, card_brand, card_fingerprint

API_VERSION = "2026-10-28.endive"
_ALNUM = string.ascii_letters + string.digits


@functools.cache
def _templates() -> dict[str, dict[str, Any]]:
    with open(Path(__file__).with_name("fixtures.json"), encoding="utf-8") as f:
        resources: dict[str, dict[str, Any]] = json.load(f)["resources"]
    return resources


def template(resource: str) -> dict[str, Any]:
    return copy.deepcopy(_templates()[resource])


def random_string(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def new_id(prefix: str) -> str:
    return f"{prefix}_{random_string(24)}"


def now() -> int:
    return int(time.time())


# ------------------------------------------------------------------ money

# Amounts in these currencies are in whole units (Stripe's list).
ZERO_DECIMAL_CURRENCIES = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()
)
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}


def card_fee(amount: int) -> int:
    """Stripe's standard card fee, 2.9% + 30, rounded half up to the minor unit.

    An emulator choice for every currency alike: zero-decimal ones (jpy) pay
    2.9% + 30 of their whole units, where Stripe prices them per country.
    """
    return (amount * 29 + 500) // 1000 + 30


def format_amount(amount: int, currency: str) -> str:
    """As Stripe writes an amount in a message: ``$12.00``, ``€0.50``, ``¥1200``."""
    value = str(amount) if currency in ZERO_DECIMAL_CURRENCIES else f"{amount / 100:.2f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{value}" if symbol else f"{value} {currency.upper()}"


# --------------------------------------------------------------- builders


def customer() -> dict[str, Any]:
    obj = template("customer")
    obj.update(
        id=new_id("cus"),
        created=now(),
        livemode=False,
        address=None,
        currency=None,
        discount=None,
        shipping=None,
        invoice_prefix=random_string(8).upper(),
        metadata={},
    )
    return obj


def payment_method(number: str, exp_month: int, exp_year: int, cvc: str | None) -> dict[str, Any]:
    brand = card_brand(number)
    obj = template("payment_method")
    obj["billing_details"] = {
        "address": {key: None for key in obj["billing_details"]["address"]},
        **{key: None for key in ("email", "name", "phone", "tax_id")},
    }
    obj["card"].update(
        brand=brand,
        display_brand=brand,
        checks={
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": "pass" if cvc else None,
        },
        exp_month=exp_month,
        exp_year=exp_year,
        fingerprint=card_fingerprint(number),
        generated_from=None,
        last4=number[-4:],
        networks={"available": [brand], "preferred": None},
        wallet=None,
    )
    obj.update(id=new_id("pm"), created=now(), livemode=False, metadata={})
    return obj


def payment_intent(
    *,
    amount: int,
    currency: str,
    customer: str | None,
    description: str | None,
    receipt_email: str | None,
    allowed_payment_method_types: list[str] | None,
    automatic_payment_methods: bool,
) -> dict[str, Any]:
    obj = template("payment_intent")
    pi_id = new_id("pi")
    obj.update(
        id=pi_id,
        client_secret=f"{pi_id}_secret_{random_string(25)}",
        created=now(),
        livemode=False,
        amount=amount,
        currency=currency,
        customer=customer,
        description=description,
        receipt_email=receipt_email,
        metadata={},
        automatic_payment_methods={"enabled": True} if automatic_payment_methods else None,
        allowed_payment_method_types=allowed_payment_method_types,
        payment_method_types=allowed_payment_method_types or ["card"],
        payment_method_configuration_details=None,
        payment_method=None,
        status="requires_payment_method",
        amount_received=0,
        canceled_at=None,
        last_payment_error=None,
        next_action=None,
        processing=None,
        shipping=None,
        transfer_data=None,
        managed_payments=None,
    )
    return obj


_CARD_FIELDS = (
    "brand",
    "checks",
    "country",
    "exp_month",
    "exp_year",
    "fingerprint",
    "funding",
    "last4",
)


def charge(
    intent: dict[str, Any],
    method: dict[str, Any],
    *,
    decline: Decline | None,
    three_d_secure: bool,
) -> dict[str, Any]:
    obj = template("charge")
    ch_id = new_id("ch")
    card = method["card"]
    details = obj["payment_method_details"]["card"]
    details.update({key: card[key] for key in _CARD_FIELDS})
    details.update(
        amount_authorized=None if decline else intent["amount"],
        installments=None,
        network=card["brand"],
        overcapture={"maximum_amount_capturable": intent["amount"], "status": "unavailable"},
        three_d_secure=(
            {
                **{key: None for key in details["three_d_secure"]},
                "result": "authenticated",
                "version": "2.2.0",
            }
            if three_d_secure
            else None
        ),
        wallet=None,
    )
    obj.update(
        id=ch_id,
        created=now(),
        livemode=False,
        amount=intent["amount"],
        amount_captured=0 if decline else intent["amount"],
        amount_refunded=0,
        balance_transaction=None,
        billing_details=copy.deepcopy(method["billing_details"]),
        captured=not decline,
        currency=intent["currency"],
        customer=intent["customer"],
        description=intent["description"],
        failure_code=decline.code if decline else None,
        failure_message=decline.message if decline else None,
        metadata=copy.deepcopy(intent["metadata"]),
        outcome={
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "declined_by_network" if decline else "approved_by_network",
            "reason": decline.decline_code if decline else None,
            "risk_level": "normal",
            "seller_message": (
                "The bank did not return any further details with this decline."
                if decline
                else "Payment complete."
            ),
            "type": "issuer_declined" if decline else "authorized",
        },
        paid=not decline,
        payment_intent=intent["id"],
        payment_method=method["id"],
        receipt_email=intent["receipt_email"],
        receipt_url=None if decline else f"https://pay.stripe.com/receipts/payment/{random_string(48)}",
        refunded=False,
        refunds={
            "data": [],
            "has_more": False,
            "object": "list",
            "url": f"/v1/charges/{ch_id}/refunds",
        },
        shipping=None,
        source=None,
        status="failed" if decline else "succeeded",
        transfer_data=None,
    )
    return obj


def balance_transaction(
    source: str, amount: int, currency: str, *, type_: str, fee: int = 0
) -> dict[str, Any]:
    """A ledger entry of ``type_`` ("charge", "refund" or "refund_failure", also its
    reporting_category) for the object ``source``.

    Available at once, where Stripe holds card funds pending for a few days:
    the emulator has no payouts, and an immediately available balance is what
    a test wants to see.
    """
    obj = template("balance_transaction")
    created = now()
    fee_details = [
        {
            "amount": fee,
            "application": None,
            "currency": currency,
            "description": "Stripe processing fees",
            "type": "stripe_fee",
        }
    ]
    obj.update(
        id=new_id("txn"),
        amount=amount,
        available_on=created,
        created=created,
        currency=currency,
        description=None,
        fee=fee,
        fee_details=fee_details if fee else [],
        net=amount - fee,
        reporting_category=type_,
        source=source,
        status="available",
        type=type_,
    )
    return obj


def refund(
    charge: dict[str, Any], amount: int, reason: str | None, metadata: dict[str, str]
) -> dict[str, Any]:
    """A card refund of ``charge``, ``pending`` until the caller decides."""
    obj = template("refund")
    obj.update(
        id=new_id("re"),
        amount=amount,
        balance_transaction=None,
        charge=charge["id"],
        created=now(),
        currency=charge["currency"],
        customer=charge["customer"],
        customer_account=None,
        destination_details={"card": {"type": "refund"}, "type": "card"},
        failure_balance_transaction=None,
        failure_reason=None,
        metadata=metadata,
        payment_intent=charge["payment_intent"],
        payment_method=charge["payment_method"],
        reason=reason,
        receipt_number=None,
        source_transfer_reversal=None,
        status="pending",
        transfer_reversal=None,
    )
    return obj


def balance(available: dict[str, int]) -> dict[str, Any]:
    """The account's balance from the sum of nets per currency; nothing is ever pending."""
    currencies = sorted(available)
    obj = template("balance")
    obj.update(
        available=[
            {"amount": available[c], "currency": c, "source_types": {"card": available[c]}}
            for c in currencies
        ],
        connect_reserved=[{"amount": 0, "currency": c} for c in currencies],
        livemode=False,
        pending=[{"amount": 0, "currency": c, "source_types": {"card": 0}} for c in currencies],
    )
    return obj


def event(
    type_: str,
    data_object: dict[str, Any],
    request: dict[str, str | None],
    previous_attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    obj = template("event")
    data = {"object": copy.deepcopy(data_object)}
    if previous_attributes:
        data["previous_attributes"] = copy.deepcopy(previous_attributes)
    obj.update(
        id=new_id("evt"),
        api_version=API_VERSION,
        created=now(),
        data=data,
        livemode=False,
        pending_webhooks=1,
        request=dict(request),
        type=type_,
    )
    return obj
