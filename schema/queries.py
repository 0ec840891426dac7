from __future__ import annotations

import strawberry
import strawberry_django
from django.http import HttpRequest
from django.middleware.csrf import get_token
from graphql import GraphQLError
from strawberry.types import Info

from events.models import Event as EventModel
from payments import selectors
from schema import types
from schema.optimizing import optimized, selection_info
from schema.viewer import viewer as _viewer


@strawberry.type
class Query:
    @strawberry_django.field(description="Null when anonymous.")
    def me(self, info: Info) -> types.User | None:
        return _viewer(info)

    @strawberry_django.field(
        description="Public, works over GET: the CSRF token to send as X-CSRFToken with cookie-authenticated "
        "POSTs, and the csrftoken cookie set too (for a front end that cannot read the API's cookie). "
        "Ask again after login: Django rotates the token."
    )
    def csrf_token(self, info: Info) -> str:
        request = getattr(info.context, "request", None)
        if not isinstance(request, HttpRequest):
            raise GraphQLError(
                "csrfToken is served over HTTP only (GET or POST /graphql/): a WebSocket needs no CSRF token."
            )
        return get_token(request)
