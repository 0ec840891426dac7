"""Input that no resolver should see: a NUL character in any string.

PostgreSQL cannot store U+0000 in text, and psycopg2 refuses to send it, so a
NUL in a title, an idempotency key, a URL or a username reached the database
layer as an internal error (masked as "Unexpected error."). ``RefuseNul``
refuses the operation before it runs, with a GraphQL error whose
``extensions.code`` is INVALID_INPUT, whether the NUL is written in the
document or sent in the variables, over HTTP or the WebSocket."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, StringValueNode, visit
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

NUL = "\x00"
MESSAGE = "Strings may not contain the NUL character (U+0000)."


def _has_nul(value) -> bool:
    """Any NUL in a JSON value (strings, keys, lists, objects), walked without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


class _NulLiteral(Visitor):
    found = False

    def enter_string_value(self, node: StringValueNode, *_args):
        if NUL in node.value:
            self.found = True
            return Visitor.BREAK
        return None


class RefuseNul(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if _has_nul(context.variables) or (context.operation_name and NUL in context.operation_name):
            raise GraphQLError(MESSAGE, extensions={"code": "INVALID_INPUT"})
        if context.graphql_document is not None:
            literal = _NulLiteral()
            visit(context.graphql_document, literal)
            if literal.found:
                raise GraphQLError(MESSAGE, extensions={"code": "INVALID_INPUT"})
        yield
