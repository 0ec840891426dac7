"""GraphQL object types, named as in ../shared/api-contract.graphql."""

from __future__ import annotations

from datetime import datetime

import strawberry
import strawberry_django
from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from strawberry.scalars import JSON

from events.models import Event as EventModel
from payments import models
from payments.selectors import LIST_CAP, active_prices, payments_of_payable, user_active_tier
from schema.optimizing import optimized

PriceTypeEnum = strawberry.enum(models.Price.Type, name="PriceType")
RecurringInterval = strawberry.enum(models.Price.Interval, name="RecurringInterval")
PaymentStatusEnum = strawberry.enum(models.PaymentStatus, name="PaymentStatus")
RefundStatus = strawberry.enum(models.Refund.Status, name="RefundStatus")
RefundReason = strawberry.enum(models.Refund.Reason, name="RefundReason")
SubscriptionStatus = strawberry.enum(models.Subscription.Status, name="SubscriptionStatus")
InvoiceStatus = strawberry.enum(models.Invoice.Status, name="InvoiceStatus")


@strawberry_django.type(models.Tier, name="Tier")
class Tier:
    id: strawberry.ID
    slug: str
    name: str
    description: str
    manifest: JSON
    position: int
    stripe_product_id: str | None

    @strawberry_django.field(
        prefetch_related=[Prefetch("prices", queryset=active_prices(), to_attr="active_prices")],
        description="Active prices only, ordered by currency then amount.",
    )
    def prices(self, root: models.Tier) -> list["Price"]:
        if hasattr(root, "active_prices"):
            return root.active_prices
        return list(active_prices().filter(tier=root))


@strawberry_django.type(models.Price, name="Price")
class Price:
    id: strawberry.ID
    tier: Tier
    currency: str
    unit_amount: int
    type: PriceTypeEnum
    interval: RecurringInterval | None
    interval_count: int | None
    active: bool
    display: str = strawberry_django.field(only=["unit_amount", "currency", "type", "interval", "interval_count"])
    stripe_price_id: str | None
    trial_period_days: int | None = strawberry_django.field(description="RECURRING only; null: no trial.")


@strawberry.type(name="PaymentMethodDetails", description="The card (or other method) that paid.")
class PaymentMethodDetails:
    type: str
    brand: str | None
    last4: str | None


@strawberry.type(name="Payable", description="What a payment pays for, owned by another app.")
class Payable:
    type: str
    id: strawberry.ID


@strawberry_django.type(models.Refund, name="Refund")
class Refund:
    id: strawberry.ID
    payment: "Payment"
    amount: int
    currency: str
    status: RefundStatus
    reason: RefundReason | None
    stripe_refund_id: str | None
    created_at: datetime

    @strawberry_django.field(only=["description"])
    def description(self, root: models.Refund) -> str | None:
        return root.description or None


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

    @strawberry_django.field(
        only=["payment_method_type", "card_brand", "card_last4"],
        description="The card (or other method) that paid; null until one did.",
    )
    def payment_method(self, root: models.Payment) -> PaymentMethodDetails | None:
        if not root.payment_method_type:
            return None
        return PaymentMethodDetails(
            type=root.payment_method_type, brand=root.card_brand or None, last4=root.card_last4 or None
        )

    @strawberry_django.field(only=["receipt_url"], description="Stripe's receipt of the charge.")
    def receipt_url(self, root: models.Payment) -> str | None:
        return root.receipt_url or None


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


@strawberry_django.type(models.Subscription, name="Subscription", description="A customer's recurring plan.")
class Subscription:
    id: strawberry.ID
    status: SubscriptionStatus
    price: Price
    tier: Tier
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    stripe_subscription_id: str | None
    created_at: datetime

    @strawberry_django.field(only=["status", "trial_end"], description="While TRIALING: when the trial ends.")
    def trial_end(self, root: models.Subscription) -> datetime | None:
        return root.trial_end if root.status == models.Subscription.Status.TRIALING else None


@strawberry_django.type(models.Invoice, name="Invoice", description="One line of the viewer's billing history.")
class Invoice:
    id: strawberry.ID
    status: InvoiceStatus
    amount_due: int
    amount_paid: int
    currency: str
    period_start: datetime | None
    period_end: datetime | None
    subscription: Subscription | None
    created_at: datetime

    @strawberry_django.field(only=["number"])
    def number(self, root: models.Invoice) -> str | None:
        return root.number or None

    @strawberry_django.field(only=["hosted_invoice_url"])
    def hosted_invoice_url(self, root: models.Invoice) -> str | None:
        return root.hosted_invoice_url or None

    @strawberry_django.field(only=["invoice_pdf"])
    def invoice_pdf(self, root: models.Invoice) -> str | None:
        return root.invoice_pdf or None


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

