"""The payments app's own exceptions: what a caller (a GraphQL resolver, a
command) can expect to go wrong, each with a machine-readable code.

The codes are the names of the contract's ``ErrorCode`` enum. The gateway
translates ``stripe.*Error`` into these (``raise ... from exc``), so nothing
above it ever sees a Stripe exception.
"""

from __future__ import annotations

import enum


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


class PaymentsError(Exception):
    """An expected failure of a use case. ``message`` is safe to show a client."""

    code: ErrorCode = ErrorCode.INVALID_INPUT
    kind: str = "VALIDATION"  # strawberry-django's OperationMessageKind name

    def __init__(self, message: str, *, field: str | None = None, code: ErrorCode | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class Unauthenticated(PaymentsError):
    code = ErrorCode.UNAUTHENTICATED
    kind = "PERMISSION"


class Forbidden(PaymentsError):
    code = ErrorCode.FORBIDDEN
    kind = "PERMISSION"


class NotFound(PaymentsError):
    code = ErrorCode.NOT_FOUND


class InvalidInput(PaymentsError):
    code = ErrorCode.INVALID_INPUT


class PaymentsDisabled(PaymentsError):
    code = ErrorCode.PAYMENTS_DISABLED
    kind = "ERROR"


class PriceInactive(PaymentsError):
    code = ErrorCode.PRICE_INACTIVE


class WrongPriceType(PaymentsError):
    code = ErrorCode.WRONG_PRICE_TYPE


class PayableNotPayable(PaymentsError):
    code = ErrorCode.PAYABLE_NOT_PAYABLE


class NotResumable(PaymentsError):
    code = ErrorCode.NOT_RESUMABLE


class AlreadySubscribed(PaymentsError):
    code = ErrorCode.ALREADY_SUBSCRIBED


class NotRefundable(PaymentsError):
    code = ErrorCode.NOT_REFUNDABLE


class RefundExceedsRemaining(PaymentsError):
    code = ErrorCode.REFUND_EXCEEDS_REMAINING


class IdempotencyConflict(PaymentsError):
    code = ErrorCode.IDEMPOTENCY_CONFLICT


class ProviderUnavailable(PaymentsError):
    """Stripe could not be reached or asked us to slow down: safe to retry."""

    code = ErrorCode.PROVIDER_UNAVAILABLE
    kind = "ERROR"


class ProviderError(PaymentsError):
    """Stripe refused the request for a reason other than the card.

    ``http_status`` and ``stripe_code`` are Stripe's (e.g. 400 and
    ``charge_already_refunded``), for callers that must tell a definitive "no"
    from an unknown outcome; None when not known."""

    code = ErrorCode.PROVIDER_ERROR
    kind = "ERROR"

    def __init__(self, message: str, *, http_status: int | None = None, stripe_code: str | None = None,
                 field: str | None = None):
        super().__init__(message, field=field)
        self.http_status = http_status
        self.stripe_code = stripe_code


class CardDeclined(PaymentsError):
    code = ErrorCode.CARD_DECLINED
    kind = "ERROR"

    def __init__(self, message: str, *, decline_code: str = "", field: str | None = None):
        super().__init__(message, field=field)
        self.decline_code = decline_code


class InvalidWebhook(Exception):
    """A webhook delivery whose signature or body we refuse (answered 400)."""


class MalformedStripeObject(Exception):
    """A Stripe object (an event's data, an API answer) without the shape we read."""


class SecurityAlarm(Exception):
    """A validly signed Stripe object about one of our payments that disagrees with
    it (an amount or currency we never asked for): nothing is applied, the event
    is recorded as failed with this reason and the admins are told (once per event)."""

    def __init__(self, reason: str, *, payment_id) -> None:
        super().__init__(reason)
        self.reason = reason
        self.payment_id = payment_id
