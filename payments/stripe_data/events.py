"""Events as Stripe signs and lists them, and the webhook endpoints that receive them.

An event's PaymentIntent is read here, from the event itself, so that the
log line and the admin's search columns need no query to find it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from payments.stripe_data._fields import strict


@dataclass(frozen=True)
class WebhookEventData:
    id: str
    type: str
    created: int
    livemode: bool
    api_version: str
    object: Mapping[str, Any]
    payload: Mapping[str, Any] = field(repr=False)

    @property
    def payment_intent_id(self) -> str | None:
        """The PaymentIntent this event is about (``payment_intent_id_of``)."""
        return payment_intent_id_of(self.type, self.object)


def payment_intent_id_of(event_type: str, obj: Mapping[str, Any]) -> str | None:
    """The PaymentIntent an event's object is about: its own id for
    ``payment_intent.*``, else its ``payment_intent`` (charges, refunds, Checkout
    Sessions); None when it names none. For raw stored objects as well as parsed events."""
    intent = obj.get("id") if event_type.startswith("payment_intent.") else obj.get("payment_intent")
    if isinstance(intent, Mapping):
        intent = intent.get("id")
    return intent if intent and isinstance(intent, str) else None


# What a stored event must fit (WebhookEvent's columns) and a sane clock.
_EVENT_LIMITS = {"id": 255, "type": 100, "api_version": 64}
_LATEST_CREATED = 2**33  # the year 2242


@strict
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


@dataclass(frozen=True)
class WebhookEndpointData:
    id: str
    url: str
    enabled_events: tuple[str, ...]
    api_version: str | None
    status: str  # enabled | disabled
    secret: str | None = field(default=None, repr=False)  # in the answer to its creation only


@strict
def webhook_endpoint_from_dict(obj: Mapping[str, Any]) -> WebhookEndpointData:
    return WebhookEndpointData(
        id=obj["id"],
        url=obj.get("url") or "",
        enabled_events=tuple(obj.get("enabled_events") or ()),
        api_version=obj.get("api_version"),
        status=obj.get("status") or "enabled",
        secret=obj.get("secret"),
    )
