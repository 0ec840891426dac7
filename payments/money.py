"""Money in minor units: how many decimals a currency has, and how to show it.

Stripe counts every amount in the currency's smallest unit; most currencies
have two decimals, these have none or three
(https://docs.stripe.com/currencies#zero-decimal, #three-decimal).
"""

from __future__ import annotations

from decimal import Decimal

ZERO_DECIMAL = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()
)
THREE_DECIMAL = frozenset("bhd jod kwd omr tnd".split())

# Symbols for the currencies we show with a prefix; others print as "12.34 CHF".
SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£", "jpy": "¥", "cny": "¥", "inr": "₹", "krw": "₩"}


def decimals(currency: str) -> int:
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def format_amount(amount: int, currency: str) -> str:
    """``format_amount(999, "eur") == "€9.99"``, ``format_amount(500, "jpy") == "¥500"``,
    ``format_amount(1500, "kwd") == "1.500 KWD"``."""
    places = decimals(currency)
    value = Decimal(amount).scaleb(-places)
    number = f"{value:,.{places}f}"
    symbol = SYMBOLS.get(currency.lower())
    if symbol:
        return f"-{symbol}{number[1:]}" if number.startswith("-") else f"{symbol}{number}"
    return f"{number} {currency.upper()}"
