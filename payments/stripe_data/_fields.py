"""The field readers every ``*_from_dict`` shares: damaged data of any shape
becomes MalformedStripeObject, the one error callers catch for it."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from payments.errors import MalformedStripeObject


def strict(reader):
    """A reader of a Stripe object raises MalformedStripeObject, whatever the
    shape of the damage, so callers can tell bad data from a bug of ours."""

    @functools.wraps(reader)
    def read(obj: Any):
        try:
            return reader(obj)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise MalformedStripeObject(f"{reader.__name__}: {type(exc).__name__}: {exc}") from exc

    return read


def expandable_id(value: Any) -> str | None:
    """An expandable field: the id whether Stripe sent the id or the object."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return text_field(value, optional=True)


def text_field(value: Any, *, optional: bool = False) -> str | None:
    """A string field (None allowed only when ``optional``): anything else is Stripe's
    data damaged, which the readers report as MalformedStripeObject."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def one_of(value: Any, allowed: frozenset[str]) -> str:
    if value not in allowed:
        raise ValueError(f"unknown status {value!r}")
    return value
