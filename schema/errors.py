"""Expected failures as strawberry-django's OperationInfo, each message with an ErrorCode name."""

from __future__ import annotations

import strawberry
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
