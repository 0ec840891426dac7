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


def amount_problem(amount: int, currency: str) -> str | None:
    """Why Stripe would refuse ``amount`` (minor units) of ``currency``, or None.

    Three-decimal currencies: card amounts must be a multiple of 10 (the last
    digit 0), https://docs.stripe.com/currencies#three-decimal. Zero-decimal
    ones count whole units already (500 is ¥500), so any whole amount is one;
    a non-integer (a float or Decimal from a form or a file) is refused."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        return f"{currency.upper()} amounts are whole numbers of the currency's smallest unit."
    if decimals(currency) == 3 and amount % 10:
        return f"{currency.upper()} amounts must end in 0 (Stripe takes three-decimal currencies in steps of 10)."
    return None


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
