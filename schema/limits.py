"""Abuse limits of the GraphQL API (settings read through payments.conf, set in
config/settings.py, block "GraphQL limits").

- Documents: depth (``QueryDepthLimiter``'s rule, introspection not counted),
  tokens (``MaxTokensLimiter``'s parse option), aliases (``MaxAliasesLimiter``'s
  rule) and the fields an operation selects once its fragments are expanded
  (GRAPHQL_MAX_SELECTIONS); in production (DEBUG off) no introspection
  (``DisableIntrospection``'s rule) and no "Did you mean ...?" in error
  messages (``HideSuggestions``). All but the last are one extension,
  ``DocumentLimits``, whose hooks end with parsing and validation: none spans
  the operation, so an idle subscription holds none of them.
  ``limit_extensions`` gives them to ``schema.schema.build_schema``.
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
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from typing import Any

from django.conf import settings
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    NoFragmentCyclesRule,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.channels import GraphQLWSConsumer
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.http.websocket_origin import normalize_origin
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from payments.conf import get_config

CONNECTION_INIT_TIMEOUT_CODE = 4408


def limit_extensions(*, debug: bool) -> list[Callable[[], SchemaExtension]]:
    """Factories (one extension instance per operation) of the document limits.

    The depth and alias rules are validation rule classes that Strawberry's
    limiters build anew for each instance; they are built once here, so that
    every operation carries the same rules and the validation cache
    (schema.schema) can recognise a document it has validated before."""
    config = get_config()
    rules = (
        *QueryDepthLimiter(max_depth=config.graphql_max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=config.graphql_max_aliases).validation_rules,
        *(() if debug else DisableIntrospection().validation_rules),
    )
    extensions: list[Callable[[], SchemaExtension]] = [
        # First: its hooks must run before the parser cache's and the validation cache's.
        functools.partial(
            DocumentLimits,
            selection_rule=_selection_limit_rule(config.graphql_max_selections),
            rules=rules,
            max_token_count=config.graphql_max_tokens,
        ),
    ]
    if not debug:
        extensions.append(HideSuggestions)
    return extensions


# graphql-core's pyutils.did_you_mean: " Did you mean 'a', 'b', or 'c'?" (names cannot hold a "?").
_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


class HideSuggestions(MaskErrors):
    """Without introspection, error messages name no part of the schema the
    client did not write: graphql-core's "Did you mean 'payment'?" (unknown
    fields, arguments, types, enum values, input fields, in validation and in
    coercing variables) would list it to anyone who guesses near it.

    graphql-core 3.3 can omit them itself (``hide_suggestions``), but Strawberry
    gives that option neither to validation nor to execution; so, like
    Strawberry's MaskErrors (whose hooks cover results and streamed results
    alike), the sentence is removed from each error, everything else kept."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: bool(_SUGGESTION.search(error.message)))

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return GraphQLError(
            _SUGGESTION.sub("", error.message),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=error.original_error,
            extensions=error.extensions,
        )


def _flat_count(selection_set: SelectionSetNode) -> tuple[int, list[str]]:
    """The fields written in a selection set, at any depth, and the names of the
    fragments it spreads (once per spread), without following the spreads."""
    fields, spreads = 0, []
    stack = [selection_set]
    while stack:  # no recursion: the nesting is the client's choice
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                spreads.append(selection.name.value)
                continue
            if isinstance(selection, FieldNode):
                fields += 1
            if selection.selection_set is not None:
                stack.append(selection.selection_set)
    return fields, spreads


def expanded_selections(document: DocumentNode) -> dict[str, int] | None:
    """The fields each operation of ``document`` selects with every fragment spread
    expanded where it is spread (a fragment spread twice counts twice, inline
    fragments and introspection count like the rest), by operation name
    (``anonymous`` for an unnamed one). ``None`` when fragments spread each
    other in a cycle (an invalid document: ``NoFragmentCyclesRule`` says where).

    Linear in the size of the document, however large the expansion: each
    fragment's count is computed once, from its own fields plus the counts of
    the fragments it spreads, walking the spreads without recursion."""
    # A name defined twice (invalid, UniqueFragmentNames says so) counts both
    # definitions, whichever one another rule would follow.
    written: dict[str, tuple[int, list[str]]] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            own, spreads = _flat_count(definition.selection_set)
            before_own, before_spreads = written.get(definition.name.value, (0, []))
            written[definition.name.value] = (before_own + own, before_spreads + spreads)
    counts: dict[str, int] = {}
    for root in written:
        if root in counts:
            continue
        path = [(root, iter(written[root][1]))]
        on_path = {root}
        while path:
            name, spreads = path[-1]
            for spread in spreads:
                if spread in on_path:
                    return None
                if spread in written and spread not in counts:
                    path.append((spread, iter(written[spread][1])))
                    on_path.add(spread)
                    break
            else:
                path.pop()
                on_path.discard(name)
                own, spread_names = written[name]
                # An unknown fragment counts nothing (KnownFragmentNamesRule refuses it).
                counts[name] = own + sum(counts.get(spread, 0) for spread in spread_names)
    selections: dict[str, int] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            own, spreads = _flat_count(definition.selection_set)
            name = definition.name.value if definition.name else "anonymous"
            count = own + sum(counts.get(spread, 0) for spread in spreads)
            selections[name] = max(count, selections.get(name, 0))  # two operations of one name: the larger
    return selections


def _selection_limit_rule(max_selections: int) -> type[ValidationRule]:
    """The validation rule refusing an operation that selects more than
    ``max_selections`` fields once its fragments are expanded."""

    class SelectionLimitRule(ValidationRule):
        limit = max_selections

        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            for name, count in (expanded_selections(context.document) or {}).items():
                if count > max_selections:
                    self.report_error(
                        GraphQLError(f"'{name}' selects {count} fields once its fragments are expanded. Allowed: {max_selections}")
                    )

    return SelectionLimitRule


class DocumentLimits(SchemaExtension):
    """The document limits: the token cap when the document is parsed, the
    rules when it is validated, and the bound on the work a document can ask
    for before any other rule sees it.

    What Strawberry's MaxTokensLimiter and AddValidationRules (and so
    QueryDepthLimiter, MaxAliasesLimiter, DisableIntrospection) do in
    ``on_operation``, done here in ``on_parse`` and ``on_validate``: the same
    limits, but no hook of theirs stays open for the whole operation (for a
    subscription, as long as the socket is open).

    A few hundred tokens of fragments that each spread the next one twice
    expand to 2^n fields; the depth and alias rules walk that expansion
    (exponential time), and they do it when graphql-core builds the rules,
    before any rule can report an error. So, before the validation cache's hook
    (this extension comes first in ``limit_extensions``), the expansion is
    counted here (``expanded_selections``, linear), and when the document is
    too large, or its fragments spread each other in a cycle, only the rule that
    says so is left to the validation: its error is the answer, on every
    transport (HTTP or WebSocket), and nothing runs. A document within the
    limit is validated by every rule, the selection rule included."""

    def __init__(self, *, selection_rule: type[ValidationRule], rules: Sequence[type[ValidationRule]],
                 max_token_count: int) -> None:
        self.selection_rule = selection_rule
        self.validation_rules = [selection_rule, *rules]
        self.max_token_count = max_token_count

    def on_parse(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.max_token_count
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        selections = expanded_selections(document) if document is not None else {}
        if selections is None:
            context.validation_rules = (NoFragmentCyclesRule,)
        elif max(selections.values(), default=0) > self.selection_rule.limit:
            context.validation_rules = (self.selection_rule,)
        else:
            context.validation_rules = (*context.validation_rules, *self.validation_rules)
        yield


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
            connection_init_wait_timeout = dt.timedelta(seconds=get_config().graphql_connection_init_timeout)
        if max_subscriptions_per_connection is None:
            max_subscriptions_per_connection = get_config().graphql_max_subscriptions_per_connection
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
