"""Mutations: check who asks, call a service, shape the answer. Expected
failures come back as OperationInfo (never an exception to the client)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Union

import strawberry
import strawberry_django
from strawberry.types import Info
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import authenticate
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.core.exceptions import ValidationError
from strawberry_django.auth.mutations import resolve_logout
from strawberry_django.auth.utils import get_current_user
from strawberry_django.utils.requests import get_request
from strawberry_django.fields.types import OperationInfo

from events.services import event_activate_free, event_create
from payments.errors import InvalidInput, PaymentsError, Unauthenticated
from payments.services import payments as payment_services
from payments.services import checkout as checkout_services
from payments.services import refunds as refund_services
from payments.services import subscriptions as subscription_services
from schema import billing_portal, types
from schema.errors import operation_info, rate_limited


@strawberry.input
class PayableInput:
    type: str
    id: strawberry.ID


@strawberry.input
class CreatePaymentIntentInput:
    price_id: strawberry.ID = strawberry.field(description="A ONE_TIME price; the amount always comes from it.")
    payable: PayableInput | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="Same key + same input => the same Payment and clientSecret, no second charge."
    )


@strawberry.type
class CreatePaymentIntentPayload:
    payment: types.Payment
    client_secret: str
    publishable_key: str


CreatePaymentIntentResult = Annotated[
    Union[CreatePaymentIntentPayload, OperationInfo], strawberry.union("CreatePaymentIntentResult")
]


@strawberry.input
class CreateEventInput:
    title: str


@strawberry.type
class CreateEventPayload:
    event: types.Event


CreateEventResult = Annotated[Union[CreateEventPayload, OperationInfo], strawberry.union("CreateEventResult")]


@strawberry.input
class ActivateEventInput:
    event_id: strawberry.ID
    tier_id: strawberry.ID


ActivateEventResult = Annotated[Union[CreateEventPayload, OperationInfo], strawberry.union("ActivateEventResult")]
RefreshPaymentResult = Annotated[Union[types.Payment, OperationInfo], strawberry.union("RefreshPaymentResult")]


@strawberry.input
class RefundInput:
    payment_id: strawberry.ID
    amount: int | None = strawberry.field(default=None, description="null => everything not yet refunded")
    reason: types.RefundReason | None = None
    description: str | None = None
    idempotency_key: str | None = None


@strawberry.type
class RefundPayload:
    refund: types.Refund
    payment: types.Payment


RefundResult = Annotated[Union[RefundPayload, OperationInfo], strawberry.union("RefundResult")]


@strawberry.input
class CreateSubscriptionInput:
    price_id: strawberry.ID
    idempotency_key: str | None = None


@strawberry.type
class CreateSubscriptionPayload:
    subscription: types.Subscription
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
    subscription: types.Subscription


CancelSubscriptionResult = Annotated[
    Union[CancelSubscriptionPayload, OperationInfo], strawberry.union("CancelSubscriptionResult")
]


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


@strawberry.type
class CreateCheckoutSessionPayload:
    checkout_session: CheckoutSession
    payment: types.Payment | None


CreateCheckoutSessionResult = Annotated[
    Union[CreateCheckoutSessionPayload, OperationInfo], strawberry.union("CreateCheckoutSessionResult")
]


def _payable_ref(payable: PayableInput | None) -> payment_services.PayableRef | None:
    return payment_services.PayableRef(type=payable.type, id=str(payable.id)) if payable else None


def _websocket_scope(info: Info) -> dict | None:
    """The Channels scope when the operation came over the WebSocket, else None."""
    request = get_request(info)
    return None if hasattr(request, "session") else getattr(request, "scope", None)


def _scope_request(scope: dict) -> HttpRequest:
    """A Django request standing for a WebSocket connection: its client address,
    user agent, path, session and user (what auth.login/logout and django-axes read)."""
    request = HttpRequest()
    request.method = "POST"
    request.path = request.path_info = scope.get("path", "")
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}
    client = scope.get("client") or ("", 0)
    request.META.update({"REMOTE_ADDR": client[0] or "", "HTTP_USER_AGENT": headers.get("user-agent", "")})
    request.session = scope["session"]
    request.user = scope.get("user") or AnonymousUser()
    return request


def _viewer(info: Info):
    user = get_current_user(info)
    if not user.is_authenticated:
        raise Unauthenticated("Log in first.")
    return user


@strawberry.type
class Mutation:
    @strawberry_django.mutation(
        handle_django_errors=False,
        description="Session login; also works over the WebSocket. Repeated failures for a username or from an"
        " address are refused for a while (LOGIN_FAILURE_LIMIT, LOGIN_COOLOFF_SECONDS): error code RATE_LIMITED.",
    )
    def login(self, info: Info, username: str, password: str) -> types.User:
        scope = _websocket_scope(info)
        # Over the WebSocket, a Django request made of the connection's scope, so
        # that django-axes (the backend and the login signals) sees the client's
        # address and the session is the connection's.
        request = get_request(info) if scope is None else _scope_request(scope)
        user = authenticate(request, username=username, password=password)
        if user is None:
            if getattr(request, "axes_locked_out", False):
                # The answer is this typed error, not AxesMiddleware's lockout page
                # in place of the whole GraphQL response.
                request.axes_locked_out = False
                raise rate_limited(
                    "Too many failed logins: try again later.", retry_after_seconds=settings.LOGIN_COOLOFF_SECONDS
                )
            raise ValidationError("Incorrect username/password")
        auth.login(request, user)
        if scope is not None:
            scope["user"] = user
            scope["session"].save()
        return user

    @strawberry_django.mutation(handle_django_errors=False)
    def logout(self, info: Info) -> bool:
        scope = _websocket_scope(info)
        if scope is None:
            return resolve_logout(info)
        was_in = bool(scope.get("user") and scope["user"].is_authenticated)
        # Django's logout (not Channels'): its user_logged_out signal then carries a
        # request, which django-axes's receiver needs.
        auth.logout(_scope_request(scope))
        scope["user"] = AnonymousUser()
        return was_in

    @strawberry_django.mutation(handle_django_errors=False)
    def create_event(self, info: Info, input: CreateEventInput) -> CreateEventResult:
        try:
            user = _viewer(info)
            title = input.title.strip()
            if not 0 < len(title) <= 200:
                raise InvalidInput("title must be 1 to 200 characters.", field="title")
            return CreateEventPayload(event=event_create(user=user, title=title))
        except PaymentsError as exc:
            return operation_info(exc)

    @strawberry_django.mutation(
        handle_django_errors=False,
        description="Only while payments are switched off: activates the event at the tier for free.",
    )
    def activate_event(self, info: Info, input: ActivateEventInput) -> ActivateEventResult:
        try:
            event = event_activate_free(user=_viewer(info), event_id=str(input.event_id), tier_id=str(input.tier_id))
        except PaymentsError as exc:
            return operation_info(exc)
        return CreateEventPayload(event=event)

    @strawberry_django.mutation(handle_django_errors=False)
    def create_payment_intent(self, info: Info, input: CreatePaymentIntentInput) -> CreatePaymentIntentResult:
        try:
            result = payment_services.create_payment_intent(
                user=_viewer(info),
                price_id=str(input.price_id),
                payable=_payable_ref(input.payable),
                idempotency_key=input.idempotency_key,
            )
        except PaymentsError as exc:
            return operation_info(exc)
        return CreatePaymentIntentPayload(
            payment=result.payment, client_secret=result.client_secret, publishable_key=result.publishable_key
        )

    @strawberry_django.mutation(handle_django_errors=False)
    def create_checkout_session(self, info: Info, input: CreateCheckoutSessionInput) -> CreateCheckoutSessionResult:
        try:
            result = checkout_services.create_checkout_session(
                user=_viewer(info),
                price_id=str(input.price_id),
                payable=_payable_ref(input.payable),
                success_url=input.success_url,
                cancel_url=input.cancel_url,
                idempotency_key=input.idempotency_key,
            )
        except PaymentsError as exc:
            return operation_info(exc)
        session = result.session
        return CreateCheckoutSessionPayload(
            checkout_session=CheckoutSession(
                id=session.id,
                url=session.url,
                status=session.status,
                expires_at=datetime.fromtimestamp(session.expires_at, tz=timezone.utc) if session.expires_at else None,
            ),
            payment=result.payment,
        )

    @strawberry_django.mutation(handle_django_errors=False)
    def create_subscription(self, info: Info, input: CreateSubscriptionInput) -> CreateSubscriptionResult:
        try:
            result = subscription_services.create_subscription(
                user=_viewer(info), price_id=str(input.price_id), idempotency_key=input.idempotency_key
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
                user=_viewer(info),
                subscription_id=str(input.subscription_id),
                at_period_end=input.at_period_end is not False,
            )
        except PaymentsError as exc:
            return operation_info(exc)
        return CancelSubscriptionPayload(subscription=subscription)

    @strawberry_django.mutation(
        handle_django_errors=False,
        description="Staff with payments.add_refund; the owner too when PAYMENTS_CUSTOMER_REFUNDS is on.",
    )
    def refund(self, info: Info, input: RefundInput) -> RefundResult:
        try:
            result = refund_services.refund_payment(
                actor=_viewer(info),
                payment_id=str(input.payment_id),
                amount=input.amount,
                reason=input.reason.value if input.reason else None,
                description=input.description or "",
                idempotency_key=input.idempotency_key,
            )
        except PaymentsError as exc:
            return operation_info(exc)
        return RefundPayload(refund=result.refund, payment=result.payment)

    @strawberry_django.mutation(
        handle_django_errors=False, description="Re-reads the PaymentIntent from Stripe and applies it (for a late webhook)."
        " The owner, or staff with payments.change_payment."
    )
    def refresh_payment(self, info: Info, id: strawberry.ID) -> RefreshPaymentResult:
        try:
            return payment_services.refresh_payment(user=_viewer(info), payment_id=str(id))
        except PaymentsError as exc:
            return operation_info(exc)

    create_billing_portal_session = billing_portal.create_billing_portal_session_field
