"""The customer portal (the contract's "subscription lifecycle" section):
createBillingPortalSession, Stripe's portal for the viewer's own customer."""

from __future__ import annotations

from typing import Annotated, Union

import strawberry
import strawberry_django
from strawberry.types import Info
from strawberry_django.fields.types import OperationInfo

from payments.errors import PaymentsError
from payments.services import billing_portal as portal_services
from schema.errors import operation_info
from schema.viewer import require_viewer


@strawberry.input
class CreateBillingPortalSessionInput:
    return_url: str = strawberry.field(description="Where the portal's link back goes: an allowed origin only.")


@strawberry.type(name="BillingPortalSession")
class BillingPortalSession:
    url: str


CreateBillingPortalSessionResult = Annotated[
    Union[BillingPortalSession, OperationInfo], strawberry.union("CreateBillingPortalSessionResult")
]


@strawberry.type
class Mutation:
    @strawberry_django.mutation(
        handle_django_errors=False,
        description="Stripe's customer portal for the viewer (update the card, see invoices, cancel at period end);"
        " what the customer does there arrives by webhook. returnUrl as Checkout's URLs (PAYMENTS_REDIRECT_ORIGINS).",
    )
    def create_billing_portal_session(
        self, info: Info, input: CreateBillingPortalSessionInput
    ) -> CreateBillingPortalSessionResult:
        try:
            url = portal_services.create_billing_portal_session(user=require_viewer(info), return_url=input.return_url)
        except PaymentsError as exc:
            return operation_info(exc)
        return BillingPortalSession(url=url)
