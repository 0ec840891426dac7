"""The mutation of a use case: ``@viewer_mutation(...)`` instead of
``@strawberry_django.mutation(...)``.

Its ``ViewerMutation`` extension answers an anonymous caller UNAUTHENTICATED
before the resolver runs, and turns the domain's ``PaymentsError`` raised by
the resolver (or the service it calls) into ``OperationInfo`` (schema/errors.py
decides the code), so the resolver is only the happy path:

    @viewer_mutation(description="...")
    def refund(self, info: Info, input: RefundInput) -> RefundResult:
        result = refund_services.refund_payment(actor=require_viewer(info), ...)
        return RefundPayload(refund=result.refund, payment=result.payment)

Its return type must be a union with OperationInfo. The resolver still gets
the viewer itself, with ``require_viewer(info)`` (schema/viewer.py)."""

from __future__ import annotations

from typing import Any

import strawberry_django
from strawberry.extensions.field_extension import FieldExtension, SyncExtensionResolver
from strawberry.types import Info
from strawberry_django.resolvers import django_resolver

from payments.errors import PaymentsError
from schema.errors import operation_info
from schema.viewer import require_viewer


def _guarded(next_: SyncExtensionResolver, source: Any, info: Info, kwargs: dict[str, Any]) -> Any:
    try:
        require_viewer(info)
        return next_(source, info, **kwargs)
    except PaymentsError as exc:
        return operation_info(exc)


class ViewerMutation(FieldExtension):
    def resolve(self, next_: SyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        # Where the resolver runs: on this thread over HTTP, in a worker thread
        # (sync_to_async) over the WebSocket, so the viewer's session is read,
        # and the error caught, beside the resolver's own database work.
        return django_resolver(_guarded, qs_hook=None)(next_, source, info, kwargs)


def viewer_mutation(*, description: str | None = None):
    """``strawberry_django.mutation`` with the ``ViewerMutation`` extension."""
    return strawberry_django.mutation(description=description, extensions=[ViewerMutation()])
