"""The subscription lifecycle's plan operations (issue 15 points 1-3): the
``subscriptionChangePreview`` query, the ``changeSubscription`` and
``resumeSubscription`` mutations. Thin: who asks, the service
(payments/services/plan_changes.py), the answer; expected failures as
OperationInfo. Merged into Query and Mutation in schema/schema.py."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Union

import strawberry
import strawberry_django
from strawberry.types import Info
from strawberry_django.auth.utils import get_current_user
from strawberry_django.fields.types import OperationInfo

from payments.errors import PaymentsError, Unauthenticated
from payments.services import plan_changes
from schema import types
from schema.errors import operation_info


def _viewer(info: Info):
    user = get_current_user(info)
    if not user.is_authenticated:
        raise Unauthenticated("Log in first.")
    return user


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
    subscription: types.Subscription = strawberry.field(
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
    subscription: types.Subscription


ResumeSubscriptionResult = Annotated[
    Union[ResumeSubscriptionPayload, OperationInfo], strawberry.union("ResumeSubscriptionResult")
]


@strawberry.type
class PlanChangeQuery:
    @strawberry_django.field(description="The owner's; changes nothing.")
    def subscription_change_preview(
        self, info: Info, subscription_id: strawberry.ID, price_id: strawberry.ID
    ) -> SubscriptionChangePreviewResult:
        try:
            preview = plan_changes.subscription_change_preview(
                user=_viewer(info), subscription_id=str(subscription_id), price_id=str(price_id)
            )
        except PaymentsError as exc:
            return operation_info(exc)
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
class PlanChangeMutation:
    @strawberry_django.mutation(handle_django_errors=False, description="The owner.")
    def change_subscription(self, info: Info, input: ChangeSubscriptionInput) -> ChangeSubscriptionResult:
        try:
            result = plan_changes.change_subscription(
                user=_viewer(info),
                subscription_id=str(input.subscription_id),
                price_id=str(input.price_id),
                proration_date=input.proration_date,
                idempotency_key=input.idempotency_key,
            )
        except PaymentsError as exc:
            return operation_info(exc)
        return ChangeSubscriptionPayload(
            subscription=result.subscription, client_secret=result.client_secret,
            publishable_key=result.publishable_key,
        )

    @strawberry_django.mutation(handle_django_errors=False, description="The owner.")
    def resume_subscription(self, info: Info, input: ResumeSubscriptionInput) -> ResumeSubscriptionResult:
        try:
            subscription = plan_changes.resume_subscription(
                user=_viewer(info), subscription_id=str(input.subscription_id)
            )
        except PaymentsError as exc:
            return operation_info(exc)
        return ResumeSubscriptionPayload(subscription=subscription)
