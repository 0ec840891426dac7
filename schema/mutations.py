"""Mutations: check who asks, call a service, shape the answer. Expected
failures come back as OperationInfo (never an exception to the client)."""

from __future__ import annotations

import strawberry
import strawberry_django
from strawberry.types import Info
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import authenticate
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.core.exceptions import ValidationError
from strawberry_django.auth.mutations import resolve_logout
from strawberry_django.utils.requests import get_request

from schema import types
from schema.errors import rate_limited


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
class Mutation:
    @strawberry_django.mutation(
        handle_django_errors=False,
        description="Session login; also works over the WebSocket. Repeated failures for a username or from an"
        " address are refused for a while (LOGIN_FAILURE_LIMIT, LOGIN_COOLOFF_SECONDS): error code RATE_LIMITED.",
    )
    def login(self, info: Info, username: str, password: str) -> types.User:
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
