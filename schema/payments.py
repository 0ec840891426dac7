"""One-time payments: a Payment, the viewer's list of them, starting one
(createPaymentIntent) and reading it again from Stripe (refreshPayment)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Union

import strawberry
import strawberry_django
from strawberry.types import Info
from strawberry_django.fields.types import OperationInfo

from payments import models, selectors
from payments.services import payments as payment_services
from schema.catalog import Price, Tier
from schema.extensions import viewer_mutation
from schema.optimizing import optimized, selection_info
from schema.refunds import Refund
from schema.viewer import require_viewer, viewer

PaymentStatusEnum = strawberry.enum(models.PaymentStatus, name="PaymentStatus")


@strawberry.type(name="PaymentMethodDetails", description="The card (or other method) that paid.")
class PaymentMethodDetails:
    type: str
    brand: str | None
    last4: str | None


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

    @classmethod
    def of(cls, page: selectors.PaymentPage) -> PaymentConnection:
        return cls(
            edges=[PaymentEdge(cursor=c, node=p) for p, c in zip(page.payments, page.cursors)],
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
            total_count=page.total_count,
        )


@strawberry.input
class PayableInput:
    type: str
    id: strawberry.ID


def payable_ref(payable: PayableInput | None) -> payment_services.PayableRef | None:
    return payment_services.PayableRef(type=payable.type, id=str(payable.id)) if payable else None


@strawberry.input
class CreatePaymentIntentInput:
    price_id: strawberry.ID = strawberry.field(description="A ONE_TIME price; the amount always comes from it.")
    payable: PayableInput | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="Same key + same input => the same Payment and clientSecret, no second charge."
    )


@strawberry.type
class CreatePaymentIntentPayload:
    payment: Payment
    client_secret: str
    publishable_key: str


CreatePaymentIntentResult = Annotated[
    Union[CreatePaymentIntentPayload, OperationInfo], strawberry.union("CreatePaymentIntentResult")
]
RefreshPaymentResult = Annotated[Union[Payment, OperationInfo], strawberry.union("RefreshPaymentResult")]


@strawberry.type
class Query:
    @strawberry_django.field(description="The viewer's own, or any for staff with payments.view_payment (or change_payment); null otherwise.")
    def payment(self, info: Info, id: strawberry.ID) -> Payment | None:
        return selectors.payment_get_for_viewer(user=viewer(info), payment_id=id)

    @strawberry_django.field(description=f"The viewer's payments, newest first; at most {selectors.MAX_PAGE} a page.")
    def payments(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        status: PaymentStatusEnum | None = None,
    ) -> PaymentConnection:
        user = viewer(info)
        if user is None:
            return PaymentConnection.of(selectors.PaymentPage([], [], False, False, 0))
        return PaymentConnection.of(selectors.payment_page_for_viewer(
            user=user, first=20 if first is None else first, after=after, status=status.value if status else None,
            # The rows are read once for the whole page, planned by the
            # optimizer for what is selected under `edges { node }`.
            prepare=lambda qs: optimized(qs, selection_info(info, "edges", "node"), only=("created_at",)),
        ))


@strawberry.type
class Mutation:
    @viewer_mutation()
    def create_payment_intent(self, info: Info, input: CreatePaymentIntentInput) -> CreatePaymentIntentResult:
        result = payment_services.create_payment_intent(
            user=require_viewer(info),
            price_id=str(input.price_id),
            payable=payable_ref(input.payable),
            idempotency_key=input.idempotency_key,
        )
        return CreatePaymentIntentPayload(
            payment=result.payment, client_secret=result.client_secret, publishable_key=result.publishable_key
        )

    @viewer_mutation(
        description="Re-reads the PaymentIntent from Stripe and applies it (for a late webhook)."
        " The owner, or staff with payments.change_payment."
    )
    def refresh_payment(self, info: Info, id: strawberry.ID) -> RefreshPaymentResult:
        return payment_services.refresh_payment(user=require_viewer(info), payment_id=str(id))
