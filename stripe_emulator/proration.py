"""Stripe's proration arithmetic for a change of a subscription's single item, and
the invoice that bills it (``proration_behavior=always_invoice``).

The item's period is ``[start, end)``; the change takes effect at the proration
date ``at`` (to the second). The unused time on the old price is credited,
``-round(old × (end - at) / (end - start))``, and, when the interval stays the
same, the remaining time on the new price is charged, ``round(new × (end - at) /
(end - start))``, both as proration lines over ``[at, end)``; amounts are rounded
half up to the currency's minor unit. A change to another interval resets the
billing cycle: the new price is charged for a whole new period starting at the
proration date (a line that is not a proration), and the anchor moves there.
(Stripe resets the anchor to the time of the call; the emulator takes the
proration date, so that a preview's lines are exactly the charge's.)

A negative total becomes customer credit as Stripe applies it at finalization:
``apply_balance`` carries the customer's balance into the invoice
(``starting_balance``), bills only what is left (``amount_due`` is never
negative) and keeps the rest as the new balance (``ending_balance``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import billing_objects, objects

StripeObject = dict[str, Any]


def prorate(amount: int, remaining: int, period: int) -> int:
    """``amount × remaining / period``, rounded half up (``amount`` ≥ 0)."""
    return (2 * amount * remaining + period) // (2 * period)


@dataclass(frozen=True)
class Change:
    """What moving the item to ``price`` at ``at`` bills, and the item it leaves."""

    at: int
    lines: list[StripeObject]
    item: StripeObject  # the subscription's item as it is once the change applies
    billing_cycle_anchor: int | None  # the new anchor, when the interval changes


def _day(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%d %b %Y")


def same_interval(old: StripeObject, new: StripeObject) -> bool:
    keys = ("interval", "interval_count")
    return all(old["recurring"][key] == new["recurring"][key] for key in keys)


def plan_change(
    sub: StripeObject,
    price: StripeObject,
    products: dict[str, StripeObject],
    at: int,
    *,
    preview: bool,
) -> Change:
    """The lines of moving ``sub``'s item to ``price`` at ``at`` (within its period)."""
    item = sub["items"]["data"][0]
    old = item["price"]
    start, end = item["current_period_start"], item["current_period_end"]
    remaining, period = end - at, end - start
    old_product, new_product = products[old["product"]], products[price["product"]]
    credit = line(
        sub, item, old, old_product,
        amount=-prorate(old["unit_amount"], remaining, period),
        description=f"Unused time on {old_product['name']} after {_day(at)}",
        period=(at, end), proration=True, preview=preview,
    )
    new_item = copy.deepcopy(item)
    new_item.update(price=copy.deepcopy(price), plan=billing_objects._plan(price))
    anchor = None
    if same_interval(old, price):
        debit = line(
            sub, item, price, new_product,
            amount=prorate(price["unit_amount"], remaining, period),
            description=f"Remaining time on {new_product['name']} after {_day(at)}",
            period=(at, end), proration=True, preview=preview,
        )
    else:
        anchor = at
        new_end = billing_objects.period_end(at, at, price["recurring"])
        new_item.update(current_period_start=at, current_period_end=new_end)
        debit = line(
            sub, item, price, new_product,
            amount=price["unit_amount"],
            description=cycle_description(price, new_product),
            period=(at, new_end), proration=False, preview=preview,
        )
    return Change(at=at, lines=[credit, debit], item=new_item, billing_cycle_anchor=anchor)


def cycle_description(price: StripeObject, product: StripeObject) -> str:
    """As a renewal's line reads: ``1 × Pro (at €25.00 / month)``."""
    interval, count = price["recurring"]["interval"], price["recurring"]["interval_count"]
    every = interval if count == 1 else f"every {count} {interval}s"
    at = objects.format_amount(price["unit_amount"], price["currency"])
    return f"1 × {product['name']} (at {at} / {every})"


def line(
    sub: StripeObject,
    item: StripeObject,
    price: StripeObject,
    product: StripeObject,
    *,
    amount: int,
    description: str,
    period: tuple[int, int],
    proration: bool,
    preview: bool,
) -> StripeObject:
    """An invoice line of the subscription's item (a preview's ids are ``il_tmp_``)."""
    obj = objects.template("line_item")
    obj.update(
        id=objects.new_id("il_tmp" if preview else "il"),
        amount=amount,
        currency=price["currency"],
        description=description,
        discountable=not proration,
        invoice=None,
        metadata={},
        period={"end": period[1], "start": period[0]},
        subscription=sub["id"],
        pretax_credit_amounts=[],
        taxes=[],
        parent={
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": sub["id"],
                "subscription_item": item["id"],
            },
            "type": "subscription_item_details",
        },
        pricing={
            "price_details": {"price": price["id"], "product": product["id"]},
            "type": "price_details",
            "unit_amount_decimal": price["unit_amount_decimal"],
        },
        subtotal=amount,
    )
    return obj


def with_lines(invoice: StripeObject, lines: list[StripeObject]) -> StripeObject:
    """``invoice`` billing exactly ``lines`` (its totals follow; nothing is due yet)."""
    total = sum(entry["amount"] for entry in lines)
    for entry in lines:
        entry["invoice"] = invoice["id"]
    invoice["lines"] = {**invoice["lines"], "data": lines, "has_more": False}
    invoice.update(
        amount_due=max(total, 0),
        amount_remaining=max(total, 0),
        subtotal=total,
        subtotal_excluding_tax=total,
        total=total,
        total_excluding_tax=total,
    )
    return invoice


def apply_balance(invoice: StripeObject, customer: StripeObject) -> StripeObject | None:
    """Finalizing: the customer's balance (negative: credit) pays what it can of the
    invoice, and a negative total adds to it. Returns the customer balance transaction
    recorded, or None when the balance did not move."""
    starting = customer["balance"]
    after = invoice["total"] + starting
    due = max(after, 0)
    ending = after - due  # never positive: a debt is billed, not carried
    invoice.update(
        starting_balance=starting, ending_balance=ending, amount_due=due, amount_remaining=due
    )
    if ending == starting:
        return None
    customer["balance"] = ending
    txn = objects.template("customer_balance_transaction")
    txn.update(
        id=objects.new_id("cbtxn"),
        amount=ending - starting,
        checkout_session=None,
        created=objects.now(),
        credit_note=None,
        currency=invoice["currency"],
        customer=customer["id"],
        customer_account=None,
        description=None,
        ending_balance=ending,
        invoice=invoice["id"],
        livemode=False,
        metadata={},
        type="applied_to_invoice",
    )
    return txn
