"""Abuse limits of the GraphQL API (settings in config/settings.py, block "GraphQL limits").

- Documents: depth (``QueryDepthLimiter``, introspection not counted), tokens
  (``MaxTokensLimiter``) and aliases (``MaxAliasesLimiter``); in production
  (DEBUG off) no introspection (``DisableIntrospection``). ``limit_extensions``
  gives them to ``schema.schema.build_schema``.
- WebSockets (``GraphQLLimitsConsumer``, used by config/asgi.py): at most
  GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION concurrent operations per connection
  (the next ``subscribe`` gets an ``error`` for its id, the others keep running),
  and a connection that sends no ``connection_init`` within
  GRAPHQL_CONNECTION_INIT_TIMEOUT_SECONDS is closed with 4408, on both
  protocols (Strawberry times out only graphql-transport-ws by itself).
  Cross-origin handshakes are refused unless the origin is one of
  CSRF_TRUSTED_ORIGINS, the origins already trusted for cookie-authenticated
  POSTs (config/asgi.py also checks the origin against ALLOWED_HOSTS).

Settings are read when a schema is built and when a connection opens.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any

from django.conf import settings
from strawberry.channels import GraphQLWSConsumer
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.http.websocket_origin import normalize_origin
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

CONNECTION_INIT_TIMEOUT_CODE = 4408


def limit_extensions(*, debug: bool) -> list[Callable[[], SchemaExtension]]:
    """Factories (one extension instance per operation) of the document limits.

    The depth and alias rules are validation rule classes that Strawberry's
    limiters build anew for each instance; they are built once here, so that
    every operation carries the same rules and the validation cache
    (schema.schema) can recognise a document it has validated before."""
    rules = (
        *QueryDepthLimiter(max_depth=settings.GRAPHQL_MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.GRAPHQL_MAX_ALIASES).validation_rules,
    )
    extensions: list[Callable[[], SchemaExtension]] = [
        functools.partial(MaxTokensLimiter, max_token_count=settings.GRAPHQL_MAX_TOKENS),
        functools.partial(AddValidationRules, list(rules)),
    ]
    if not debug:
        extensions.append(DisableIntrospection)
    return extensions


class _LegacyProtocolHandler(BaseGraphQLWSHandler):
    """graphql-ws (the legacy protocol) with the connection_init timeout that
    Strawberry applies to graphql-transport-ws only."""

    async def handle(self) -> None:
        timer = asyncio.create_task(self._close_unless_initialised())
        try:
            await super().handle()
        finally:
            timer.cancel()
            with suppress(asyncio.CancelledError):
                await timer

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self.connection_acknowledged:
            await self.websocket.close(code=CONNECTION_INIT_TIMEOUT_CODE, reason="Connection initialisation timeout")


def _trusted_origin(origin: str, trusted: Sequence[str]) -> bool:
    """Django's reading of CSRF_TRUSTED_ORIGINS: exact origins, or ``scheme://*.domain``."""
    normalized = normalize_origin(origin)
    if normalized is None:
        return False
    scheme, _, host = normalized.partition("://")
    for entry in trusted:
        entry_scheme, _, entry_host = entry.strip().lower().rstrip("/").partition("://")
        if entry_scheme != scheme:
            continue
        if entry_host.startswith("*."):
            if host.endswith(entry_host[1:]):
                return True
        elif normalize_origin(entry) == normalized:
            return True
    return False


class GraphQLLimitsConsumer(GraphQLWSConsumer):
    """Strawberry's consumer with the project's limits, read from settings per
    connection unless given to ``as_asgi``."""

    graphql_ws_handler_class = _LegacyProtocolHandler

    def __init__(
        self,
        schema: Any,
        connection_init_wait_timeout: dt.timedelta | None = None,
        max_subscriptions_per_connection: int | None = None,
        **kwargs: Any,
    ) -> None:
        if connection_init_wait_timeout is None:
            connection_init_wait_timeout = dt.timedelta(seconds=settings.GRAPHQL_CONNECTION_INIT_TIMEOUT_SECONDS)
        if max_subscriptions_per_connection is None:
            max_subscriptions_per_connection = settings.GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION
        super().__init__(
            schema,
            connection_init_wait_timeout=connection_init_wait_timeout,
            max_subscriptions_per_connection=max_subscriptions_per_connection,
            **kwargs,
        )

    def is_websocket_origin_allowed(self, request: Any, origin: str) -> bool:
        return super().is_websocket_origin_allowed(request, origin) or _trusted_origin(
            origin, settings.CSRF_TRUSTED_ORIGINS
        )
