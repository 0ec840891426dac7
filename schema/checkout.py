"""Stripe Checkout: a hosted payment page for a one-time or a recurring price."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Union

import strawberry
import strawberry_django
from strawberry.types import Info
from strawberry_django.fields.types import OperationInfo

from payments.errors import PaymentsError
from payments.services import checkout as checkout_services
from schema.errors import operation_info
from schema.payments import PayableInput, Payment, payable_ref
from schema.viewer import require_viewer


@strawberry.input
class CreateCheckoutSessionInput:
    price_id: strawberry.ID = strawberry.field(description="ONE_TIME => mode payment; RECURRING => mode subscription")
    payable: PayableInput | None = None
    success_url: str
    cancel_url: str
    idempotency_key: str | None = None


@strawberry.type
class CheckoutSession:
    id: str
    url: str
    status: str
    expires_at: datetime | None

    @classmethod
    def of(cls, session) -> CheckoutSession:
        expires_at = datetime.fromtimestamp(session.expires_at, tz=timezone.utc) if session.expires_at else None
        return cls(id=session.id, url=session.url, status=session.status, expires_at=expires_at)


@strawberry.type
class CreateCheckoutSessionPayload:
    checkout_session: CheckoutSession
    payment: Payment | None


CreateCheckoutSessionResult = Annotated[
    Union[CreateCheckoutSessionPayload, OperationInfo], strawberry.union("CreateCheckoutSessionResult")
]


@strawberry.type
class Mutation:
    @strawberry_django.mutation(handle_django_errors=False)
    def create_checkout_session(self, info: Info, input: CreateCheckoutSessionInput) -> CreateCheckoutSessionResult:
        try:
            result = checkout_services.create_checkout_session(
                user=require_viewer(info),
                price_id=str(input.price_id),
                payable=payable_ref(input.payable),
                success_url=input.success_url,
                cancel_url=input.cancel_url,
                idempotency_key=input.idempotency_key,
            )
        except PaymentsError as exc:
            return operation_info(exc)
        return CreateCheckoutSessionPayload(checkout_session=CheckoutSession.of(result.session), payment=result.payment)
