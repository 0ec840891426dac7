"""GraphQL object types, named as in ../shared/api-contract.graphql."""

from __future__ import annotations

from datetime import datetime

import strawberry
import strawberry_django
from django.contrib.auth import get_user_model

from events.models import Event as EventModel
from payments import models
from payments.selectors import LIST_CAP, payments_of_payable, user_active_tier
from schema.catalog import Price, PriceTypeEnum, RecurringInterval, Tier  # noqa: F401 (moved there)
from schema.events import Event  # noqa: F401 (moved there)
from schema.payments import (  # noqa: F401 (moved there)
    PageInfo, Payable, Payment, PaymentConnection, PaymentEdge, PaymentStatusEnum,
)
from schema.refunds import Refund, RefundReason, RefundStatus  # noqa: F401 (moved there)
from schema.subscriptions import Invoice, InvoiceStatus, Subscription, SubscriptionStatus  # noqa: F401 (moved there)

@strawberry_django.type(get_user_model(), name="User")
class User:
    id: strawberry.ID
    username: str
    email: str

    @strawberry_django.field(description="Tier of the best ACTIVE or TRIALING subscription, else null. A PAST_DUE one keeps its tier while Stripe retries the renewal.")
    def active_tier(self, root) -> Tier | None:
        return _active_tier(root)

    @strawberry_django.field(description="activeTier is not null.")
    def is_premium(self, root) -> bool:
        return _active_tier(root) is not None


def _active_tier(user) -> models.Tier | None:
    return user_active_tier(user=user)

