"""Refunds: money given back on a payment, by staff (or its owner when allowed)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Union

import strawberry
import strawberry_django
from strawberry.types import Info
from strawberry_django.fields.types import OperationInfo

from payments import models, selectors
from payments.errors import PaymentsError
from payments.services import refunds as refund_services
from schema.errors import operation_info
from schema.viewer import require_viewer, viewer

# A payment lists its refunds and a refund names its payment: the Payment type is
# named lazily (resolved when the schema is built), so schema.payments imports
# this module and not the other way round (no import cycle).
LazyPayment = Annotated["Payment", strawberry.lazy("schema.payments")]

RefundStatus = strawberry.enum(models.Refund.Status, name="RefundStatus")
RefundReason = strawberry.enum(models.Refund.Reason, name="RefundReason")


@strawberry_django.type(models.Refund, name="Refund")
class Refund:
    id: strawberry.ID
    payment: LazyPayment
    amount: int
    currency: str
    status: RefundStatus
    reason: RefundReason | None
    stripe_refund_id: str | None
    created_at: datetime

    @strawberry_django.field(only=["description"])
    def description(self, root: models.Refund) -> str | None:
        return root.description or None


@strawberry.input
class RefundInput:
    payment_id: strawberry.ID
    amount: int | None = strawberry.field(default=None, description="null => everything not yet refunded")
    reason: RefundReason | None = None
    description: str | None = None
    idempotency_key: str | None = None


@strawberry.type
class RefundPayload:
    refund: Refund
    payment: LazyPayment


RefundResult = Annotated[Union[RefundPayload, OperationInfo], strawberry.union("RefundResult")]


@strawberry.type
class Query:
    @strawberry_django.field(description=f"Refunds of the viewer's payments, newest first (the newest {selectors.LIST_CAP}).")
    def refunds(self, info: Info) -> list[Refund]:
        user = viewer(info)
        return selectors.refund_list_for_viewer(user=user) if user else []


@strawberry.type
class Mutation:
    @strawberry_django.mutation(
        handle_django_errors=False,
        description="Staff with payments.add_refund; the owner too when PAYMENTS_CUSTOMER_REFUNDS is on.",
    )
    def refund(self, info: Info, input: RefundInput) -> RefundResult:
        try:
            result = refund_services.refund_payment(
                actor=require_viewer(info),
                payment_id=str(input.payment_id),
                amount=input.amount,
                reason=input.reason.value if input.reason else None,
                description=input.description or "",
                idempotency_key=input.idempotency_key,
            )
        except PaymentsError as exc:
            return operation_info(exc)
        return RefundPayload(refund=result.refund, payment=result.payment)
