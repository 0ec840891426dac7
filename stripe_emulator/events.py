"""The event list (``GET /v1/events``), newest first as Stripe pages it."""

from __future__ import annotations

from .common import ApiError, Params, StripeObject, _int, _limit, _missing
from .store import Tx


class Events:
    """The events endpoints' handlers, mixed into ``Emulator``."""

    def _list_events(self, tx: Tx, params: Params) -> StripeObject:
        limit = _limit(params)
        before_seq = None
        if params.get("starting_after"):
            before_seq = tx.event_seq(params["starting_after"])
            if before_seq is None:
                raise _missing("event", params["starting_after"], "starting_after")
        created = params.get("created") or {}
        if not isinstance(created, dict):
            created = {"eq": created}
        if set(created) - {"eq", "gt", "gte", "lt", "lte"}:
            raise ApiError(400, "Invalid created: use created[gt|gte|lt|lte]", param="created")
        rows = tx.list_events(
            limit=limit + 1,
            before_seq=before_seq,
            type_pattern=params.get("type") or None,
            created={op: _int(created, op, param=f"created[{op}]") for op in created},
        )
        return {
            "object": "list",
            "data": rows[:limit],
            "has_more": len(rows) > limit,
            "url": "/v1/events",
        }

    def _get_event(self, tx: Tx, params: Params, event_id: str) -> StripeObject:
        return self._load(tx, "event", event_id)
