"""Live payment status over WebSocket (graphql-transport-ws / graphql-ws)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from asgiref.sync import sync_to_async
from strawberry.types import Info
from strawberry_django.auth.utils import aget_current_user

from payments import live, selectors
from payments.models import Payment as PaymentModel
from schema import types


def _load(payment_id) -> PaymentModel:
    return PaymentModel.objects.select_related("price__tier", "tier").get(pk=payment_id)


@strawberry.type
class SubscriptionRoot:
    @strawberry.subscription(
        description="The payment's current state at once, then every change of it, in order. Owner or staff only."
    )
    async def payment_status(self, info: Info, payment_id: strawberry.ID) -> AsyncGenerator[types.Payment, None]:
        user = await aget_current_user(info)
        payment = await sync_to_async(selectors.payment_get_for_viewer)(user=user, payment_id=payment_id)
        if payment is None:
            # The same answer for "not yours" and "does not exist".
            raise PermissionError("No such payment, or not yours.")
        consumer = info.context["ws"]
        async with consumer.listen_to_channel(live.PAYMENT_CHANGED, groups=[live.payment_group(payment.pk)]) as messages:
            # Joined the group first, read second: no change can fall in between.
            current = await sync_to_async(_load)(payment.pk)
            last_seen = current.updated_at
            yield current
            async for message in messages:
                snapshot = message["snapshot"]
                changed_at = datetime.fromisoformat(snapshot["updated_at"])
                if changed_at <= last_seen:
                    continue  # already shown (or older than what was shown)
                last_seen = changed_at
                state = await sync_to_async(_load)(payment.pk)
                for name in live.SNAPSHOT_FIELDS:
                    setattr(state, name, snapshot[name])
                yield state
