"""Billing's objects (products, prices, subscriptions, invoices) and webhook endpoints,
built from fixtures.json's examples as ``objects`` builds the others."""

from __future__ import annotations

import calendar
import copy
from datetime import UTC, datetime
from typing import Any

from . import objects

# ---------------------------------------------------------------- billing

_DAYS = {"day": 1, "week": 7}
_MONTHS = {"month": 1, "year": 12}
INTERVALS = (*_DAYS, *_MONTHS)


def add_interval(timestamp: int, interval: str, count: int) -> int:
    """``count`` intervals after ``timestamp`` (UTC); a month keeps the day of the month,
    clamped to the month's end."""
    if interval in _DAYS:
        return timestamp + count * _DAYS[interval] * 86400
    moment = datetime.fromtimestamp(timestamp, UTC)
    months = moment.month - 1 + count * _MONTHS[interval]
    year, month = moment.year + months // 12, months % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def period_end(anchor: int, start: int, recurring: dict[str, Any]) -> int:
    """The end of the period that starts at ``start``, counted from the billing cycle
    anchor as Stripe does: anchored on Jan 31, periods end Feb 28, then Mar 31."""
    step = recurring["interval_count"]
    n = 1
    while (end := add_interval(anchor, recurring["interval"], step * n)) <= start:
        n += 1
    return end


def product(name: str) -> dict[str, Any]:
    obj = objects.template("product")
    created = objects.now()
    obj.update(
        id=objects.new_id("prod"),
        created=created,
        updated=created,
        default_price=None,
        description=None,
        livemode=False,
        metadata={},
        name=name,
        package_dimensions=None,
        type="service",
    )
    return obj


def price(
    product_id: str, currency: str, unit_amount: int, recurring: dict[str, Any] | None
) -> dict[str, Any]:
    obj = objects.template("price")
    if recurring is not None:
        recurring = {**obj["recurring"], **recurring}
    obj.update(
        id=objects.new_id("price"),
        created=objects.now(),
        currency=currency,
        custom_unit_amount=None,
        livemode=False,
        metadata={},
        product=product_id,
        recurring=recurring,
        transform_quantity=None,
        type="one_time" if recurring is None else "recurring",
        unit_amount=unit_amount,
        unit_amount_decimal=str(unit_amount),
    )
    return obj


def _plan(price: dict[str, Any]) -> dict[str, Any]:
    """The legacy ``plan`` that a subscription item still carries beside its price."""
    recurring = price["recurring"]
    return {
        **objects.template("subscription_item")["plan"],
        **{key: price[key] for key in ("active", "created", "currency", "id", "livemode")},
        **{key: price[key] for key in ("metadata", "nickname", "product")},
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": "per_unit",
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "transform_usage": None,
        "trial_period_days": recurring.get("trial_period_days"),
    }


def subscription(
    customer_id: str, price: dict[str, Any], *, save_default_payment_method: str
) -> dict[str, Any]:
    """An ``incomplete`` subscription of one ``price``, its first period starting now."""
    obj = objects.template("subscription")
    sub_id, created = objects.new_id("sub"), objects.now()
    item = objects.template("subscription_item")
    item.update(
        id=objects.new_id("si"),
        created=created,
        current_period_start=created,
        current_period_end=period_end(created, created, price["recurring"]),
        metadata={},
        plan=_plan(price),
        price=copy.deepcopy(price),
        subscription=sub_id,
        billing_thresholds=None,
    )
    obj.update(
        id=sub_id,
        automatic_tax={"disabled_reason": None, "enabled": False, "liability": None},
        billing_cycle_anchor=created,
        billing_cycle_anchor_config=None,
        billing_mode={
            "flexible": {"proration_discounts": "itemized"},
            "type": "flexible",
            "updated_at": created,
        },
        billing_schedules=[],
        billing_thresholds=None,
        cancel_at=None,
        cancel_at_period_end=False,
        canceled_at=None,
        created=created,
        currency=price["currency"],
        customer=customer_id,
        ended_at=None,
        items={
            **obj["items"],
            "data": [item],
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        latest_invoice=None,
        managed_payments=None,
        metadata={},
        next_pending_invoice_item_invoice=None,
        pause_collection=None,
        payment_settings={
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": save_default_payment_method,
        },
        pending_invoice_item_interval=None,
        pending_update=None,
        start_date=created,
        status="incomplete",
        transfer_data=None,
        trial_end=None,
        trial_start=None,
    )
    return obj


def invoice(
    subscription: dict[str, Any],
    customer: dict[str, Any],
    product: dict[str, Any],
    *,
    billing_reason: str,
    period: tuple[int, int],
) -> dict[str, Any]:
    """A ``draft`` invoice of the subscription's item for its current period.

    ``period`` is the invoice's own period_start/end, which Stripe makes look
    back one period (both the creation time on a first invoice); the service
    period is on the line.
    """
    obj = objects.template("invoice")
    in_id, created = objects.new_id("in"), objects.now()
    item = subscription["items"]["data"][0]
    price = item["price"]
    amount = price["unit_amount"]
    interval = price["recurring"]["interval"]
    count = price["recurring"]["interval_count"]
    every = interval if count == 1 else f"every {count} {interval}s"
    at = objects.format_amount(amount, price["currency"])
    line = objects.template("line_item")
    line.update(
        id=objects.new_id("il"),
        amount=amount,
        currency=price["currency"],
        description=f"1 × {product['name']} (at {at} / {every})",
        invoice=in_id,
        metadata=copy.deepcopy(subscription["metadata"]),
        period={"end": item["current_period_end"], "start": item["current_period_start"]},
        subscription=subscription["id"],
        pretax_credit_amounts=[],
        taxes=[],
        parent={
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": subscription["id"],
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
    obj.update(
        id=in_id,
        amount_due=amount,
        amount_overpaid=0,
        amount_paid=0,
        amount_remaining=amount,
        auto_advance=True,
        automatic_tax={
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        billing_reason=billing_reason,
        created=created,
        currency=price["currency"],
        customer=customer["id"],
        customer_address=None,
        customer_email=customer["email"],
        customer_name=customer["name"],
        customer_phone=customer["phone"],
        customer_shipping=None,
        due_date=None,
        effective_at=None,
        from_invoice=None,
        last_finalization_error=None,
        lines={**obj["lines"], "data": [line], "url": f"/v1/invoices/{in_id}/lines"},
        metadata={},
        next_payment_attempt=None,
        parent={
            "quote_details": None,
            "subscription_details": {
                "metadata": copy.deepcopy(subscription["metadata"]),
                "subscription": subscription["id"],
            },
            "type": "subscription_details",
        },
        payment_settings={
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        period_end=period[1],
        period_start=period[0],
        rendering=None,
        shipping_cost=None,
        shipping_details=None,
        subtotal=amount,
        subtotal_excluding_tax=amount,
        total=amount,
        total_excluding_tax=amount,
        total_pretax_credit_amounts=[],
        total_taxes=[],
        webhooks_delivered_at=None,
    )
    return obj


def invoice_payment(invoice: dict[str, Any], intent_id: str) -> dict[str, Any]:
    obj = objects.template("invoice_payment")
    obj.update(
        id=objects.new_id("inpay"),
        amount_paid=None,
        amount_requested=invoice["amount_due"],
        created=objects.now(),
        currency=invoice["currency"],
        invoice=invoice["id"],
        livemode=False,
        payment={"payment_intent": intent_id, "type": "payment_intent"},
        status="open",
    )
    return obj


def webhook_endpoint(url: str, enabled_events: list[str]) -> dict[str, Any]:
    obj = objects.template("webhook_endpoint")
    obj.update(
        id=objects.new_id("we"),
        created=objects.now(),
        description=None,
        enabled_events=enabled_events,
        metadata={},
        url=url,
    )
    return obj
