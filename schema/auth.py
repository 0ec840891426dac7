"""Who the viewer is: the User type, me, login and logout (over HTTP and the
WebSocket alike), and the CSRF token a cookie-authenticated POST sends."""

from __future__ import annotations

import strawberry
import strawberry_django
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.middleware.csrf import get_token
from graphql import GraphQLError
from strawberry.types import Info
from strawberry_django.auth.mutations import resolve_logout
from strawberry_django.utils.requests import get_request

from payments import models
from payments.selectors import user_active_tier
from schema.catalog import Tier
from schema.errors import rate_limited
from schema.viewer import viewer


@strawberry_django.type(get_user_model(), name="User")
class User:
    id: strawberry.ID
    username: str
    email: str

    @strawberry_django.field(description="Tier of the best ACTIVE or TRIALING subscription, else null. A PAST_DUE one keeps its tier while Stripe retries the renewal.")
    def active_tier(self, root) -> Tier | None:
        return _active_tier(root)

    @strawberry_django.field(description="activeTier is not null.")
    def is_premium(self, root) -> bool:
        return _active_tier(root) is not None


def _active_tier(user) -> models.Tier | None:
    return user_active_tier(user=user)


def _websocket_scope(info: Info) -> dict | None:
    """The Channels scope when the operation came over the WebSocket, else None."""
    request = get_request(info)
    return None if hasattr(request, "session") else getattr(request, "scope", None)


def _scope_request(scope: dict) -> HttpRequest:
    """A Django request standing for a WebSocket connection: its client address,
    user agent, path, session and user (what auth.login/logout and django-axes read)."""
    request = HttpRequest()
    request.method = "POST"
    request.path = request.path_info = scope.get("path", "")
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}
    client = scope.get("client") or ("", 0)
    request.META.update({"REMOTE_ADDR": client[0] or "", "HTTP_USER_AGENT": headers.get("user-agent", "")})
    request.session = scope["session"]
    request.user = scope.get("user") or AnonymousUser()
    return request


@strawberry.type
class Query:
    @strawberry_django.field(description="Null when anonymous.")
    def me(self, info: Info) -> User | None:
        return viewer(info)

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


@strawberry.type
class Mutation:
    @strawberry_django.mutation(
        handle_django_errors=False,
        description="Session login; also works over the WebSocket. Repeated failures for a username or from an"
        " address are refused for a while (LOGIN_FAILURE_LIMIT, LOGIN_COOLOFF_SECONDS): error code RATE_LIMITED.",
    )
    def login(self, info: Info, username: str, password: str) -> User:
        scope = _websocket_scope(info)
        # Over the WebSocket, a Django request made of the connection's scope, so
        # that django-axes (the backend and the login signals) sees the client's
        # address and the session is the connection's.
        request = get_request(info) if scope is None else _scope_request(scope)
        user = authenticate(request, username=username, password=password)
        if user is None:
            if getattr(request, "axes_locked_out", False):
                # The answer is this typed error, not AxesMiddleware's lockout page
                # in place of the whole GraphQL response.
                request.axes_locked_out = False
                raise rate_limited(
                    "Too many failed logins: try again later.", retry_after_seconds=settings.LOGIN_COOLOFF_SECONDS
                )
            raise ValidationError("Incorrect username/password")
        auth.login(request, user)
        if scope is not None:
            scope["user"] = user
            scope["session"].save()
        return user

    @strawberry_django.mutation(handle_django_errors=False)
    def logout(self, info: Info) -> bool:
        scope = _websocket_scope(info)
        if scope is None:
            return resolve_logout(info)
        was_in = bool(scope.get("user") and scope["user"].is_authenticated)
        # Django's logout (not Channels'): its user_logged_out signal then carries a
        # request, which django-axes's receiver needs.
        auth.logout(_scope_request(scope))
        scope["user"] = AnonymousUser()
        return was_in
