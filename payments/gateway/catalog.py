"""Products and Prices: the catalog pushed to Stripe and read back from it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import payments.gateway.client as client
from payments.stripe_data import PriceData, ProductData, price_from_dict, product_from_dict


def create_product(*, name: str, description: str, metadata: Mapping[str, str], idempotency_key: str) -> str:
    params: dict[str, Any] = {"name": name, "metadata": dict(metadata)}
    if description:
        params["description"] = description
    product = client.call(client.v1().products.create, params=params, options={"idempotency_key": idempotency_key})
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
    price = client.call(client.v1().prices.create, params=params, options={"idempotency_key": idempotency_key})
    return price.id



def list_products() -> list[ProductData]:
    """Every Product, active or not, newest first."""
    return [product_from_dict(p.to_dict()) for p in client.list_all(client.v1().products.list, {})]


def list_prices(*, product_id: str | None = None) -> list[PriceData]:
    """Every Price (of ``product_id``), active or not, newest first."""
    params = {"product": product_id} if product_id else {}
    return [price_from_dict(p.to_dict()) for p in client.list_all(client.v1().prices.list, params)]


def retrieve_product(product_id: str) -> ProductData:
    return product_from_dict(client.call(client.v1().products.retrieve, product_id).to_dict())


def retrieve_price(price_id: str) -> PriceData:
    return price_from_dict(client.call(client.v1().prices.retrieve, price_id).to_dict())


def update_product(
    product_id: str, *, name: str, description: str, active: bool, metadata: Mapping[str, str], idempotency_key: str
) -> ProductData:
    """Name, description (empty: none), active flag and metadata keys given."""
    product = client.call(
        client.v1().products.update,
        product_id,
        params={"name": name, "description": description, "active": active, "metadata": dict(metadata)},
        options={"idempotency_key": idempotency_key},
    )
    return product_from_dict(product.to_dict())


def set_price_active(price_id: str, *, active: bool, idempotency_key: str) -> PriceData:
    """A Price's amount never changes at Stripe; only whether it can be used for new purchases."""
    price = client.call(
        client.v1().prices.update,
        price_id,
        params={"active": active},
        options={"idempotency_key": idempotency_key},
    )
    return price_from_dict(price.to_dict())
