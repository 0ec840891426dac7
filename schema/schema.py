"""The GraphQL schema. Printed to schema/schema.graphql by
``python manage.py graphql_schema`` (a test fails when that file is stale)."""

from __future__ import annotations

import strawberry
from django.core.exceptions import PermissionDenied, ValidationError
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry_django.optimizer import DjangoOptimizerExtension

from payments.errors import PaymentsError
from schema.errors import ErrorCode
from schema.mutations import Mutation
from schema.queries import Query
from schema.subscriptions import SubscriptionRoot

# Messages of these are written for the client; anything else is masked
# ("Unexpected error.") so no internals reach it.
_SAFE_ERRORS = (PaymentsError, ValidationError, PermissionDenied, PermissionError)


def _should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, (*_SAFE_ERRORS, GraphQLError))


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=SubscriptionRoot,
    types=[ErrorCode],
    extensions=[DjangoOptimizerExtension, lambda: MaskErrors(should_mask_error=_should_mask)],
)
