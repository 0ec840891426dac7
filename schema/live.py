"""Live payment status over WebSocket (graphql-transport-ws / graphql-ws).

Costs, per subscription: while idle it holds no model instance's data (only
the payment's id and the time of the last state shown: graphql-core keeps the
last value yielded referenced while it waits for the next, so a state, once
shown, is emptied, ``_shown``); each change costs one
query, on asgiref's one thread for thread-sensitive calls made outside a
request, whose database connection stays open between pushes (no connection
per push). Should that connection break (the database restarted), the read
is retried once on a new one.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from asgiref.sync import sync_to_async
from django.db import InterfaceError, OperationalError, connection
from strawberry.types import Info

from payments import live, selectors
from payments.models import Payment as PaymentModel
from schema.payments import Payment
from schema.viewer import aviewer


def _load(payment_id) -> PaymentModel:
    return PaymentModel.objects.select_related("price__tier", "tier").get(pk=payment_id)


def _read(fn, /, *args, **kwargs):
    """``fn`` on this thread's connection, which outlives requests here; a
    connection the database dropped is replaced once."""
    try:
        return fn(*args, **kwargs)
    except (InterfaceError, OperationalError):
        if connection.in_atomic_block:
            raise
        connection.close()
        return fn(*args, **kwargs)


def _shown(state: PaymentModel) -> None:
    """Empties a state that has been shown. graphql-core's ``map_async_iterable``
    keeps the last value yielded bound (``async for item in items: yield await
    callback(item)``) until the next one arrives; by the time this generator
    resumes, that value's result has been built and sent, and nothing reads the
    instance again, so its fields and its cached price and tier are let go
    instead of staying alive as long as the socket."""
    vars(state).clear()


@strawberry.type
class SubscriptionRoot:
    @strawberry.subscription(
        description="The payment's current state at once, then every change of it, in order. Owner, or staff with payments.view_payment (or change_payment), only."
    )
    async def payment_status(self, info: Info, payment_id: strawberry.ID) -> AsyncGenerator[Payment, None]:
        user = await aviewer(info)
        payment = await sync_to_async(_read)(selectors.payment_get_for_viewer, user=user, payment_id=payment_id)
        if payment is None:
            # The same answer for "not yours" and "does not exist".
            raise PermissionError("No such payment, or not yours.")
        pk = payment.pk
        del payment, user  # an idle subscription keeps no model instance
        consumer = info.context["ws"]
        consumer.note_viewer()  # the session it is shown under: its end ends this (schema/ws_sessions.py)
        async with consumer.listen_to_channel(live.PAYMENT_CHANGED, groups=[live.payment_group(pk)]) as messages:
            # Joined the group first, read second: no change can fall in between.
            state = await sync_to_async(_read)(_load, pk)
            last_seen = state.updated_at
            yield state
            _shown(state)
            del state
            async for message in messages:
                snapshot = message["snapshot"]
                changed_at = datetime.fromisoformat(snapshot["updated_at"])
                if changed_at <= last_seen:
                    continue  # already shown (or older than what was shown)
                last_seen = changed_at
                state = await sync_to_async(_read)(_load, pk)
                for name in live.SNAPSHOT_FIELDS:
                    setattr(state, name, snapshot[name])
                yield state
                _shown(state)
                del state
