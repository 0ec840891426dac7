"""Stripe's documented test cards and how each behaves (a decline, 3-D Secure, a
refund that stays pending or fails later), the test PaymentMethod ids, and what a
card number gives: its fingerprint, its brand, whether it is Luhn-valid. Any other
Luhn-valid number simply pays."""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from typing import Any

_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Decline:
    code: str
    decline_code: str
    message: str


GENERIC_DECLINE = Decline("card_declined", "generic_decline", "Your card was declined.")


AUTHENTICATION_REQUIRED = Decline(
    "authentication_required",
    "authentication_required",
    "Your card was declined. This transaction requires authentication.",
)


REQUIRES_3DS = "requires_3ds"


# These two pay like any card; only their refunds differ.
REFUND_PENDING = "refund_pending"  # refunds start pending, succeed later


REFUND_FAILS = "refund_fails"  # refunds start succeeded, fail later (expired_or_canceled_card)


# Stripe's documented test cards; any other Luhn-valid number succeeds.
TEST_CARDS: dict[str, Decline | str] = {
    "4000000000000002": GENERIC_DECLINE,
    "4000000000009995": Decline(
        "card_declined", "insufficient_funds", "Your card has insufficient funds."
    ),
    "4000002500003155": REQUIRES_3DS,
    "4000000000007726": REFUND_PENDING,
    "4000000000005126": REFUND_FAILS,
}


# Test PaymentMethod ids Stripe accepts wherever a PaymentMethod id is taken.
TEST_PAYMENT_METHODS = {
    "pm_card_visa": "4242424242424242",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_authenticationRequired": "4000002500003155",
    "pm_card_pendingRefund": "4000000000007726",
    "pm_card_refundFail": "4000000000005126",
}


def card_fingerprint(number: str) -> str:
    """Stable per card number, like Stripe's. The number itself is never stored, so
    a PaymentMethod's test-card behaviour is looked up by its fingerprint."""
    digest = hashlib.sha256(number.encode()).digest()
    return "".join(_ALNUM[byte % len(_ALNUM)] for byte in digest[:16])


_BEHAVIOUR_BY_FINGERPRINT = {card_fingerprint(n): b for n, b in TEST_CARDS.items()}


def card_behaviour(card: dict[str, Any]) -> Decline | str | None:
    """A Decline, REQUIRES_3DS, a REFUND_* behaviour, or None when the card simply pays.

    ``card`` is a PaymentMethod's ``card`` or a charge's ``payment_method_details.card``:
    both carry the fingerprint, so a charge remembers how its refunds behave.
    """
    return _BEHAVIOUR_BY_FINGERPRINT.get(card["fingerprint"])


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, digit in enumerate(int(d) for d in reversed(number)):
        total += digit if i % 2 == 0 else (digit * 2 if digit < 5 else digit * 2 - 9)
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number.startswith(("6011", "65")):
        return "discover"
    return "unknown"
