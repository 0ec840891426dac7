"""Products and prices."""

from __future__ import annotations

from typing import Any

from . import billing_objects, objects
from .common import (
    ApiError,
    Params,
    StripeObject,
    _bool,
    _filters,
    _int,
    _metadata,
    _parameter_missing,
)
from .store import Tx


class Catalog:
    """The catalog endpoints' handlers, mixed into ``Emulator``."""

    # ------------------------------------------------ products and prices

    def _create_product(self, tx: Tx, params: Params) -> StripeObject:
        if not params.get("name"):
            raise _parameter_missing("name")
        product = self._apply_product(billing_objects.product(params["name"]), params)
        tx.put(product)
        tx.emit("product.created", product)
        return product

    def _get_product(self, tx: Tx, params: Params, product_id: str) -> StripeObject:
        return self._load(tx, "product", product_id)

    def _update_product(self, tx: Tx, params: Params, product_id: str) -> StripeObject:
        product = self._apply_product(self._load(tx, "product", product_id), params)
        product["updated"] = objects.now()
        return self._save_changes(tx, product, "product.updated")

    @staticmethod
    def _apply_product(product: StripeObject, params: Params) -> StripeObject:
        product["metadata"] = _metadata(product["metadata"], params)
        if params.get("name"):
            product["name"] = params["name"]
        if "description" in params:
            product["description"] = params["description"] or None
        if "active" in params:
            product["active"] = _bool(params, "active")
        return product

    def _list_products(self, tx: Tx, params: Params) -> StripeObject:
        return self._list(tx, params, "product", _filters(params, "active"))

    def _create_price(self, tx: Tx, params: Params) -> StripeObject:
        if not params.get("product"):
            raise _parameter_missing("product")
        self._load(tx, "product", params["product"], "product")
        if not params.get("currency"):
            raise _parameter_missing("currency")
        amount = _int(params, "unit_amount")
        if amount < 0:
            raise ApiError(
                400,
                "This value must be greater than or equal to 0.",
                code="parameter_invalid_integer",
                param="unit_amount",
            )
        recurring = params.get("recurring")
        price = billing_objects.price(
            params["product"],
            str(params["currency"]).lower(),
            amount,
            None if recurring is None else self._recurring(recurring),
        )
        price["lookup_key"] = params.get("lookup_key") or None
        self._apply_price(price, params)
        tx.put(price)
        tx.emit("price.created", price)
        return price

    @staticmethod
    def _recurring(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ApiError(400, "Invalid object", param="recurring")
        if not value.get("interval"):
            raise _parameter_missing("recurring[interval]")
        if value["interval"] not in billing_objects.INTERVALS:
            raise ApiError(
                400,
                "Invalid recurring[interval]: must be one of day, week, month, or year",
                param="recurring[interval]",
            )
        count = _int(value, "interval_count", param="recurring[interval_count]", default=1)
        if count < 1:
            raise ApiError(
                400,
                "This value must be greater than or equal to 1.",
                code="parameter_invalid_integer",
                param="recurring[interval_count]",
            )
        recurring = {"interval": value["interval"], "interval_count": count}
        if value.get("trial_period_days") not in (None, ""):
            days = _int(value, "trial_period_days", param="recurring[trial_period_days]")
            if not 1 <= days <= 730:  # Stripe's bounds: a trial of at most two years
                raise ApiError(
                    400,
                    "Invalid recurring[trial_period_days]: must be between 1 and 730",
                    code="parameter_invalid_integer",
                    param="recurring[trial_period_days]",
                )
            recurring["trial_period_days"] = days
        return recurring

    def _get_price(self, tx: Tx, params: Params, price_id: str) -> StripeObject:
        return self._load(tx, "price", price_id)

    def _update_price(self, tx: Tx, params: Params, price_id: str) -> StripeObject:
        """Only these fields: the route refuses unit_amount or currency, as Stripe does."""
        price = self._apply_price(self._load(tx, "price", price_id), params)
        return self._save_changes(tx, price, "price.updated")

    @staticmethod
    def _apply_price(price: StripeObject, params: Params) -> StripeObject:
        price["metadata"] = _metadata(price["metadata"], params)
        if "nickname" in params:
            price["nickname"] = params["nickname"] or None
        if "active" in params:
            price["active"] = _bool(params, "active")
        return price

    def _list_prices(self, tx: Tx, params: Params) -> StripeObject:
        return self._list(tx, params, "price", _filters(params, "product", "active", "type"))

    @staticmethod
    def _save_changes(tx: Tx, obj: StripeObject, event: str, *first: str) -> StripeObject:
        """Store ``obj``; when it changed since the last event about it, send ``first``,
        then ``event`` with Stripe's previous_attributes: the changed fields, as they were."""
        last = tx.last_snapshot(obj["id"]) or {}
        previous = {key: value for key, value in last.items() if obj.get(key) != value}
        tx.put(obj)
        if previous:
            for other in first:
                tx.emit(other, obj)
            tx.emit(event, obj, previous)
        return obj
