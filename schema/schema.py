"""The GraphQL schema. Printed to schema/schema.graphql by
``python manage.py graphql_schema`` (a test fails when that file is stale).

``schema`` is built from settings at import; ``build_schema(debug=False)`` gives
the production one (no introspection) whatever DEBUG is, e.g. for a test. The
abuse limits (depth, tokens, aliases) are in schema/limits.py."""

from __future__ import annotations

import strawberry
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache
from strawberry_django.optimizer import DjangoOptimizerExtension

from payments.errors import PaymentsError
from schema.errors import ErrorCode
from schema.inputs import RefuseNul
from schema.limits import limit_extensions
from strawberry.tools import merge_types

from schema.mutations import Mutation as _Mutation
from schema.plan_changes import PlanChangeMutation, PlanChangeQuery
from schema.queries import Query as _Query
from schema.subscriptions import SubscriptionRoot

# The subscription lifecycle's plan operations live in their own module.
Query = merge_types("Query", (_Query, PlanChangeQuery))
Mutation = merge_types("Mutation", (_Mutation, PlanChangeMutation))

# Distinct documents kept parsed and validated (the React app sends a few dozen).
QUERY_CACHE_SIZE = 256

# Messages of these are written for the client; anything else is masked
# ("Unexpected error.") so no internals reach it.
_SAFE_ERRORS = (PaymentsError, ValidationError, PermissionDenied, PermissionError)


def _should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, (*_SAFE_ERRORS, GraphQLError))


def build_schema(debug: bool) -> strawberry.Schema:
    """The schema with the limits of schema/limits.py (read from settings now);
    ``debug=False``: introspection is refused (GraphiQL follows DEBUG in config/urls.py)."""
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=SubscriptionRoot,
        types=[ErrorCode],
        extensions=[
            *limit_extensions(debug=debug),
            # A document seen before is neither parsed nor validated again (LRU,
            # bounded: a flood of distinct queries cannot grow memory).
            lambda: ParserCache(maxsize=QUERY_CACHE_SIZE),
            lambda: ValidationCache(maxsize=QUERY_CACHE_SIZE),
            RefuseNul,
            DjangoOptimizerExtension,
            lambda: MaskErrors(should_mask_error=_should_mask),
        ],
    )


schema = build_schema(debug=settings.DEBUG)
