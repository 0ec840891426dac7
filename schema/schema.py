"""The GraphQL schema. Printed to schema/schema.graphql by
``python manage.py graphql_schema`` (a test fails when that file is stale).

``schema`` is built from settings at import; ``build_schema(debug=False)`` gives
the production one (no introspection) whatever DEBUG is, e.g. for a test. The
abuse limits (depth, tokens, aliases) are in schema/limits.py."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache
from strawberry_django.optimizer import DjangoOptimizerExtension

from payments.errors import PaymentsError
from schema import auth, billing_portal, browser, catalog, checkout, events, payments, refunds, subscriptions
from schema.errors import ErrorCode
from schema.inputs import RefuseNul
from schema.limits import limit_extensions
from schema.live import SubscriptionRoot

# Distinct documents kept parsed and validated (the React app sends a few dozen).
QUERY_CACHE_SIZE = 256

# Messages of these are written for the client; anything else is masked
# ("Unexpected error.") so no internals reach it.
_SAFE_ERRORS = (PaymentsError, ValidationError, PermissionDenied, PermissionError)


# The order the root fields were printed in before schema/ was split by domain,
# kept so that schema/schema.graphql did not change with the split; a field not
# named here is printed after these, in the order of the merge.
_QUERY_ORDER = ("tiers", "tier", "me", "events", "payment", "refunds", "subscriptions", "invoices", "csrf_token", "stripe_config", "payments")
_MUTATION_ORDER = ("login", "logout", "create_event", "activate_event", "create_payment_intent", "create_checkout_session",
                   "create_subscription", "cancel_subscription", "refund", "refresh_payment")


def _merged(name: str, roots: tuple[type, ...], order: tuple[str, ...]) -> type:
    """The domains' root types merged into one (strawberry's ``merge_types``), its
    fields in ``order`` first (a stable sort: the others keep the merge's order)."""
    merged = merge_types(name, roots)
    rank = {field_name: i for i, field_name in enumerate(order)}
    merged.__strawberry_definition__.fields.sort(key=lambda field: rank.get(field.python_name, len(rank)))
    return merged


Query = _merged("Query", (
    catalog.Query, auth.Query, browser.Query, events.Query, payments.Query, refunds.Query, subscriptions.Query,
), _QUERY_ORDER)
Mutation = _merged("Mutation", (
    auth.Mutation, events.Mutation, payments.Mutation, checkout.Mutation, refunds.Mutation, subscriptions.Mutation,
    billing_portal.Mutation,
), _MUTATION_ORDER)


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
