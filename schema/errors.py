"""Expected failures as strawberry-django's OperationInfo, each message with an ErrorCode name."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry_django.fields.types import OperationInfo, OperationMessage

from payments.errors import ErrorCode as ErrorCodeEnum
from payments.errors import PaymentsError

ErrorCode = strawberry.enum(ErrorCodeEnum, name="ErrorCode")


def operation_info(error: PaymentsError) -> OperationInfo:
    return OperationInfo(
        messages=[
            OperationMessage(
                kind=OperationMessage.Kind[error.kind],
                message=error.message,
                field=error.field,
                code=error.code.name,
            )
        ]
    )


def rate_limited(message: str, *, retry_after_seconds: int) -> GraphQLError:
    """For an operation that returns no union (``login``): a GraphQL error whose
    ``extensions.code`` is RATE_LIMITED (not an ErrorCode of the contract)."""
    return GraphQLError(message, extensions={"code": "RATE_LIMITED", "retryAfterSeconds": retry_after_seconds})
