"""createBillingPortalSession: Stripe's customer portal for the viewer (the
contract's "subscription lifecycle" section). Registered on Mutation by one line."""

from __future__ import annotations

from typing import Annotated, Union

import strawberry
import strawberry_django
from strawberry.types import Info
from strawberry_django.auth.utils import get_current_user
from strawberry_django.fields.types import OperationInfo

from payments.errors import PaymentsError, Unauthenticated
from payments.services import billing_portal as portal_services
from schema.errors import operation_info


@strawberry.input
class CreateBillingPortalSessionInput:
    return_url: str = strawberry.field(description="Where the portal's link back goes: an allowed origin only.")


@strawberry.type(name="BillingPortalSession")
class BillingPortalSession:
    url: str


CreateBillingPortalSessionResult = Annotated[
    Union[BillingPortalSession, OperationInfo], strawberry.union("CreateBillingPortalSessionResult")
]


def create_billing_portal_session(info: Info, input: CreateBillingPortalSessionInput) -> CreateBillingPortalSessionResult:
    try:
        user = get_current_user(info)
        if not user.is_authenticated:
            raise Unauthenticated("Log in first.")
        url = portal_services.create_billing_portal_session(user=user, return_url=input.return_url)
    except PaymentsError as exc:
        return operation_info(exc)
    return BillingPortalSession(url=url)


create_billing_portal_session_field = strawberry_django.mutation(
    resolver=create_billing_portal_session,
    handle_django_errors=False,
    description="Stripe's customer portal for the viewer (update the card, see invoices, cancel at period end);"
    " what the customer does there arrives by webhook. returnUrl as Checkout's URLs (PAYMENTS_REDIRECT_ORIGINS).",
)
