"""The payments app's own exceptions: what a caller (a GraphQL resolver, a
command) can expect to go wrong, one class per failure.

Each has a ``code``, the domain's own short name of the failure (for logs and
stored failure reasons); how a client is told of it (the API's error codes) is
the caller's business (schema/errors.py for GraphQL). The gateway translates
``stripe.*Error`` into these (``raise ... from exc``), so nothing above it ever
sees a Stripe exception.
"""

from __future__ import annotations


class PaymentsError(Exception):
    """An expected failure of a use case. ``message`` is safe to show a client."""

    code: str = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class Unauthenticated(PaymentsError):
    code = "unauthenticated"


class Forbidden(PaymentsError):
    code = "forbidden"


class NotFound(PaymentsError):
    code = "not_found"


class InvalidInput(PaymentsError):
    code = "invalid_input"


class PaymentsDisabled(PaymentsError):
    code = "payments_disabled"


class PriceInactive(PaymentsError):
    code = "price_inactive"


class WrongPriceType(PaymentsError):
    code = "wrong_price_type"


class PayableNotPayable(PaymentsError):
    code = "payable_not_payable"


class NotResumable(PaymentsError):
    code = "not_resumable"


class AlreadySubscribed(PaymentsError):
    code = "already_subscribed"


class NotRefundable(PaymentsError):
    code = "not_refundable"


class RefundExceedsRemaining(PaymentsError):
    code = "refund_exceeds_remaining"


class IdempotencyConflict(PaymentsError):
    code = "idempotency_conflict"


class ProviderUnavailable(PaymentsError):
    """Stripe could not be reached or asked us to slow down: safe to retry."""

    code = "provider_unavailable"


class ProviderError(PaymentsError):
    """Stripe refused the request for a reason other than the card.

    ``http_status`` and ``stripe_code`` are Stripe's (e.g. 400 and
    ``charge_already_refunded``), for callers that must tell a definitive "no"
    from an unknown outcome; None when not known."""

    code = "provider_error"

    def __init__(self, message: str, *, http_status: int | None = None, stripe_code: str | None = None,
                 field: str | None = None):
        super().__init__(message, field=field)
        self.http_status = http_status
        self.stripe_code = stripe_code


class CardDeclined(PaymentsError):
    code = "card_declined"

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
