"""Subscriptions and billing: a customer's recurring plans and their invoices, and
changing a plan (issue 15 points 1-3: the preview, the change, resume; the
service is payments/services/plan_changes.py)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Union

import strawberry
import strawberry_django
from strawberry.types import Info
from strawberry_django.fields.types import OperationInfo

from payments import models, selectors
from payments.services import plan_changes
from payments.services import subscriptions as subscription_services
from schema.catalog import Price, Tier
from schema.extensions import ViewerMutation, viewer_mutation
from schema.viewer import require_viewer, viewer, viewer_only

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


# ------------------------------------------------------------ plan changes


def _ts(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=timezone.utc) if value is not None else None


@strawberry.type
class InvoiceLine:
    description: str
    amount: int
    currency: str
    proration: bool
    period_start: datetime | None
    period_end: datetime | None


@strawberry.type
class SubscriptionChangePreview:
    amount_due: int = strawberry.field(
        description="What the customer would pay now for the change (negative lines are credits)."
    )
    currency: str
    proration_date: datetime = strawberry.field(
        description="Pass it to changeSubscription to be charged exactly this."
    )
    lines: list[InvoiceLine]


SubscriptionChangePreviewResult = Annotated[
    Union[SubscriptionChangePreview, OperationInfo], strawberry.union("SubscriptionChangePreviewResult")
]


@strawberry.input
class ChangeSubscriptionInput:
    subscription_id: strawberry.ID
    price_id: strawberry.ID
    proration_date: datetime | None = None
    idempotency_key: str | None = None


@strawberry.type
class ChangeSubscriptionPayload:
    subscription: Subscription = strawberry.field(
        description="Still on the old price until the proration is paid."
    )
    client_secret: str | None = strawberry.field(
        description="The proration invoice's, when the customer must confirm it; null when it was paid at once."
    )
    publishable_key: str


ChangeSubscriptionResult = Annotated[
    Union[ChangeSubscriptionPayload, OperationInfo], strawberry.union("ChangeSubscriptionResult")
]


@strawberry.input
class ResumeSubscriptionInput:
    subscription_id: strawberry.ID


@strawberry.type
class ResumeSubscriptionPayload:
    subscription: Subscription


ResumeSubscriptionResult = Annotated[
    Union[ResumeSubscriptionPayload, OperationInfo], strawberry.union("ResumeSubscriptionResult")
]


@strawberry.type
class Query:
    @strawberry_django.field(
        description=f"The viewer's subscriptions, newest first (the newest {selectors.LIST_CAP}).",
        extensions=[viewer_only()],
    )
    def subscriptions(self, info: Info) -> list[Subscription]:
        return selectors.subscription_list_for_viewer(user=viewer(info))

    @strawberry_django.field(
        description=f"The viewer's billing history, newest first (the newest {selectors.LIST_CAP}).",
        extensions=[viewer_only()],
    )
    def invoices(self, info: Info) -> list[Invoice]:
        return selectors.invoice_list_for_viewer(user=viewer(info))

    @strawberry_django.field(description="The owner's; changes nothing.", extensions=[ViewerMutation()])
    def subscription_change_preview(
        self, info: Info, subscription_id: strawberry.ID, price_id: strawberry.ID
    ) -> SubscriptionChangePreviewResult:
        preview = plan_changes.subscription_change_preview(
            user=require_viewer(info), subscription_id=str(subscription_id), price_id=str(price_id)
        )
        return SubscriptionChangePreview(
            amount_due=preview.amount_due,
            currency=preview.currency,
            proration_date=_ts(preview.proration_date),
            lines=[
                InvoiceLine(
                    description=line.description, amount=line.amount, currency=line.currency,
                    proration=line.proration, period_start=_ts(line.period_start), period_end=_ts(line.period_end),
                )
                for line in preview.lines
            ],
        )


@strawberry.type
class Mutation:
    @viewer_mutation()
    def create_subscription(self, info: Info, input: CreateSubscriptionInput) -> CreateSubscriptionResult:
        result = subscription_services.create_subscription(
            user=require_viewer(info), price_id=str(input.price_id), idempotency_key=input.idempotency_key
        )
        return CreateSubscriptionPayload(
            subscription=result.subscription, client_secret=result.client_secret,
            setup_client_secret=result.setup_client_secret, publishable_key=result.publishable_key,
        )

    @viewer_mutation(description="The owner, or staff with payments.change_subscription.")
    def cancel_subscription(self, info: Info, input: CancelSubscriptionInput) -> CancelSubscriptionResult:
        subscription = subscription_services.cancel_subscription(
            user=require_viewer(info),
            subscription_id=str(input.subscription_id),
            at_period_end=input.at_period_end is not False,
        )
        return CancelSubscriptionPayload(subscription=subscription)

    @viewer_mutation(description="The owner.")
    def change_subscription(self, info: Info, input: ChangeSubscriptionInput) -> ChangeSubscriptionResult:
        result = plan_changes.change_subscription(
            user=require_viewer(info),
            subscription_id=str(input.subscription_id),
            price_id=str(input.price_id),
            proration_date=input.proration_date,
            idempotency_key=input.idempotency_key,
        )
        return ChangeSubscriptionPayload(
            subscription=result.subscription, client_secret=result.client_secret,
            publishable_key=result.publishable_key,
        )

    @viewer_mutation(description="The owner.")
    def resume_subscription(self, info: Info, input: ResumeSubscriptionInput) -> ResumeSubscriptionResult:
        subscription = plan_changes.resume_subscription(user=require_viewer(info), subscription_id=str(input.subscription_id))
        return ResumeSubscriptionPayload(subscription=subscription)
