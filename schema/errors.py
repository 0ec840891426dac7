"""What the client is told when a use case fails: the contract's ErrorCode and
strawberry-django's OperationInfo.

The domain (payments/errors.py) raises its own exceptions, one class per
failure; which ErrorCode and which OperationMessage kind each one is answered
with is decided here, by class (a subclass answers as its nearest mapped base)."""

from __future__ import annotations

import enum

import strawberry
from graphql import GraphQLError
from strawberry_django.fields.types import OperationInfo, OperationMessage

from payments import errors


@strawberry.enum(name="ErrorCode")
class ErrorCode(enum.Enum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    PAYMENTS_DISABLED = "PAYMENTS_DISABLED"
    PRICE_INACTIVE = "PRICE_INACTIVE"
    WRONG_PRICE_TYPE = "WRONG_PRICE_TYPE"
    PAYABLE_NOT_PAYABLE = "PAYABLE_NOT_PAYABLE"
    ALREADY_SUBSCRIBED = "ALREADY_SUBSCRIBED"
    NOT_REFUNDABLE = "NOT_REFUNDABLE"
    REFUND_EXCEEDS_REMAINING = "REFUND_EXCEEDS_REMAINING"
    CARD_DECLINED = "CARD_DECLINED"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    PROVIDER_ERROR = "PROVIDER_ERROR"
    NOT_RESUMABLE = "NOT_RESUMABLE"


Kind = OperationMessage.Kind

# Each domain failure: its code, and its kind (PERMISSION: who asks; VALIDATION:
# what was asked, fix the input; ERROR: the service, try again later).
ANSWERS: dict[type[errors.PaymentsError], tuple[ErrorCode, Kind]] = {
    errors.Unauthenticated: (ErrorCode.UNAUTHENTICATED, Kind.PERMISSION),
    errors.Forbidden: (ErrorCode.FORBIDDEN, Kind.PERMISSION),
    errors.NotFound: (ErrorCode.NOT_FOUND, Kind.VALIDATION),
    errors.InvalidInput: (ErrorCode.INVALID_INPUT, Kind.VALIDATION),
    errors.PaymentsDisabled: (ErrorCode.PAYMENTS_DISABLED, Kind.ERROR),
    errors.PriceInactive: (ErrorCode.PRICE_INACTIVE, Kind.VALIDATION),
    errors.WrongPriceType: (ErrorCode.WRONG_PRICE_TYPE, Kind.VALIDATION),
    errors.PayableNotPayable: (ErrorCode.PAYABLE_NOT_PAYABLE, Kind.VALIDATION),
    errors.AlreadySubscribed: (ErrorCode.ALREADY_SUBSCRIBED, Kind.VALIDATION),
    errors.NotRefundable: (ErrorCode.NOT_REFUNDABLE, Kind.VALIDATION),
    errors.RefundExceedsRemaining: (ErrorCode.REFUND_EXCEEDS_REMAINING, Kind.VALIDATION),
    errors.IdempotencyConflict: (ErrorCode.IDEMPOTENCY_CONFLICT, Kind.VALIDATION),
    errors.ProviderUnavailable: (ErrorCode.PROVIDER_UNAVAILABLE, Kind.ERROR),
    errors.ProviderError: (ErrorCode.PROVIDER_ERROR, Kind.ERROR),
    errors.CardDeclined: (ErrorCode.CARD_DECLINED, Kind.ERROR),
    errors.NotResumable: (ErrorCode.NOT_RESUMABLE, Kind.VALIDATION),
    errors.PaymentsError: (ErrorCode.INVALID_INPUT, Kind.VALIDATION),
}


def answer(error: errors.PaymentsError) -> tuple[ErrorCode, Kind]:
    """The code and kind of ``error``: those of its class, or of its nearest mapped base."""
    return next(ANSWERS[cls] for cls in type(error).__mro__ if cls in ANSWERS)


def operation_info(error: errors.PaymentsError) -> OperationInfo:
    code, kind = answer(error)
    return OperationInfo(messages=[OperationMessage(kind=kind, message=error.message, field=error.field, code=code.name)])


def rate_limited(message: str, *, retry_after_seconds: int) -> GraphQLError:
    """For an operation that returns no union (``login``): a GraphQL error whose
    ``extensions.code`` is RATE_LIMITED (not an ErrorCode of the contract)."""
    return GraphQLError(message, extensions={"code": "RATE_LIMITED", "retryAfterSeconds": retry_after_seconds})
