"""Subscriptions and billing: a customer's recurring plans and their invoices."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Union

import strawberry
import strawberry_django
from strawberry.types import Info
from strawberry_django.fields.types import OperationInfo

from payments import models, selectors
from payments.errors import PaymentsError
from payments.services import subscriptions as subscription_services
from schema.catalog import Price, Tier
from schema.errors import operation_info
from schema.viewer import require_viewer, viewer

SubscriptionStatus = strawberry.enum(models.Subscription.Status, name="SubscriptionStatus")
InvoiceStatus = strawberry.enum(models.Invoice.Status, name="InvoiceStatus")


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


@strawberry.input
class CreateSubscriptionInput:
    price_id: strawberry.ID
    idempotency_key: str | None = None


@strawberry.type
class CreateSubscriptionPayload:
    subscription: Subscription
    client_secret: str | None = strawberry.field(
        description="Confirm the first invoice with Stripe.js; null when nothing is due now."
    )
    setup_client_secret: str | None = strawberry.field(
        default=None,
        description="A trial's SetupIntent: save a card for the first renewal (stripe.confirmSetup).",
    )
    publishable_key: str


CreateSubscriptionResult = Annotated[
    Union[CreateSubscriptionPayload, OperationInfo], strawberry.union("CreateSubscriptionResult")
]


@strawberry.input
class CancelSubscriptionInput:
    subscription_id: strawberry.ID
    at_period_end: bool | None = True


@strawberry.type
class CancelSubscriptionPayload:
    subscription: Subscription


CancelSubscriptionResult = Annotated[
    Union[CancelSubscriptionPayload, OperationInfo], strawberry.union("CancelSubscriptionResult")
]


@strawberry.type
class Query:
    @strawberry_django.field(description=f"The viewer's subscriptions, newest first (the newest {selectors.LIST_CAP}).")
    def subscriptions(self, info: Info) -> list[Subscription]:
        user = viewer(info)
        return selectors.subscription_list_for_viewer(user=user) if user else []

    @strawberry_django.field(description=f"The viewer's billing history, newest first (the newest {selectors.LIST_CAP}).")
    def invoices(self, info: Info) -> list[Invoice]:
        user = viewer(info)
        return selectors.invoice_list_for_viewer(user=user) if user else []


@strawberry.type
class Mutation:
    @strawberry_django.mutation(handle_django_errors=False)
    def create_subscription(self, info: Info, input: CreateSubscriptionInput) -> CreateSubscriptionResult:
        try:
            result = subscription_services.create_subscription(
                user=require_viewer(info), price_id=str(input.price_id), idempotency_key=input.idempotency_key
            )
        except PaymentsError as exc:
            return operation_info(exc)
        return CreateSubscriptionPayload(
            subscription=result.subscription, client_secret=result.client_secret,
            setup_client_secret=result.setup_client_secret, publishable_key=result.publishable_key,
        )

    @strawberry_django.mutation(
        handle_django_errors=False, description="The owner, or staff with payments.change_subscription."
    )
    def cancel_subscription(self, info: Info, input: CancelSubscriptionInput) -> CancelSubscriptionResult:
        try:
            subscription = subscription_services.cancel_subscription(
                user=require_viewer(info),
                subscription_id=str(input.subscription_id),
                at_period_end=input.at_period_end is not False,
            )
        except PaymentsError as exc:
            return operation_info(exc)
        return CancelSubscriptionPayload(subscription=subscription)
