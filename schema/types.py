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
from schema.optimizing import optimized
from schema.refunds import Refund, RefundReason, RefundStatus  # noqa: F401 (moved there)
from schema.subscriptions import Invoice, InvoiceStatus, Subscription, SubscriptionStatus  # noqa: F401 (moved there)

PaymentStatusEnum = strawberry.enum(models.PaymentStatus, name="PaymentStatus")


@strawberry.type(name="Payable", description="What a payment pays for, owned by another app.")
class Payable:
    type: str
    id: strawberry.ID


@strawberry_django.type(models.Payment, name="Payment")
class Payment:
    id: strawberry.ID
    status: PaymentStatusEnum
    amount: int
    amount_refunded: int
    currency: str
    price: Price | None
    tier: Tier | None
    refunds: list[Refund]
    stripe_payment_intent_id: str | None
    created_at: datetime
    updated_at: datetime

    @strawberry_django.field(only=["payable_type", "payable_id"])
    def payable(self, root: models.Payment) -> Payable | None:
        if not root.payable_type:
            return None
        return Payable(type=root.payable_type, id=strawberry.ID(root.payable_id))

    @strawberry_django.field(only=["failure_code"], description="Stripe's decline or error code of the last failed attempt.")
    def failure_code(self, root: models.Payment) -> str | None:
        return root.failure_code or None

    @strawberry_django.field(only=["failure_message"])
    def failure_message(self, root: models.Payment) -> str | None:
        return root.failure_message or None


@strawberry.type(name="PaymentEdge")
class PaymentEdge:
    cursor: str
    node: Payment


@strawberry.type(name="PageInfo")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(name="PaymentConnection")
class PaymentConnection:
    edges: list[PaymentEdge]
    page_info: PageInfo
    total_count: int


@strawberry_django.type(EventModel, name="Event", description="A FutureReminder event; paying for a tier activates it.")
class Event:
    id: strawberry.ID
    title: str
    is_active: bool
    tier: Tier | None
    created_at: datetime

    @strawberry_django.field(only=["user_id"], description=f"Newest first, the newest {LIST_CAP}.")
    def payments(self, root: EventModel, info: strawberry.Info) -> list[Payment]:
        # Query.events reads the payments of all its events at once; an event
        # reached otherwise (createEvent's payload) reads its own.
        listed = getattr(root, "listed_payments", None)
        if listed is not None:
            return listed
        qs = payments_of_payable(user=root.user_id, payable_type="event", payable_id=root.pk)
        return list(optimized(qs, info))


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

