"""Whole answers to public catalog queries, serialized once per catalog version.

``{ tiers { ... } }`` is the same for every visitor, so its answer (the JSON
bytes the endpoint sends) is kept and sent again, with no parsing, validation,
execution or encoding, until the catalog changes: the key is (document,
operation name, variables, ``payments.cache.catalog_version()``), and that
version changes whenever the catalog cache reads the database again (a Tier or
Price saved or deleted here, or the catalog cache's expiry for writes elsewhere).

Only viewer-independent documents are cached: a single ``query`` operation
whose root selections are plain fields among ``PUBLIC_ROOT_FIELDS`` (no
fragment at the root, so nothing else of ``Query`` can hide there). Everything
reachable from those fields (Tier, Price) is public and the same for everyone;
tests/schema/test_public_cache.py lists those types' fields, so that adding a
field to them is a decision about this cache too. A cached answer is one
without errors, from a request outside a transaction. Anything else (a
mutation, ``me``, ``payments``, a multipart or batched request, a body that is
not JSON) goes through the normal path, untouched.

Bounded (``MAX_ENTRIES`` answers, least recently used dropped first, each at
most ``MAX_BODY_BYTES``), per process.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from functools import lru_cache

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse

from payments.cache import catalog_version

PUBLIC_ROOT_FIELDS = frozenset({"tiers", "tier", "__typename"})
MAX_ENTRIES = 64
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_DOCUMENT_CHARS = 20_000

_lock = threading.Lock()
_answers: OrderedDict[tuple, bytes] = OrderedDict()


@lru_cache(maxsize=256)
def is_public(query: str, operation_name: str | None) -> bool:
    """Whether the operation that would run selects only public root fields."""
    try:
        document = parse(query)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [op for op in operations if op.name and op.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        return False
    selections = operations[0].selection_set.selections
    return all(isinstance(s, FieldNode) and s.name.value in PUBLIC_ROOT_FIELDS for s in selections)


def key_for(request) -> tuple | None:
    """The cache key of a GraphQL request, or None when it must not be cached."""
    if request.method == "POST":
        if request.content_type != "application/json":
            return None
        try:
            data = json.loads(request.body)
        except (ValueError, RecursionError):  # refused by the view itself, as JSON
            return None
    elif request.method == "GET":
        data = request.GET
    else:
        return None
    if not isinstance(data, dict) and request.method == "POST":
        return None  # a batch
    query, operation_name, variables = data.get("query"), data.get("operationName"), data.get("variables")
    if request.method == "GET" and variables is not None:
        try:
            variables = json.loads(variables)
        except (ValueError, RecursionError):
            return None
    if not isinstance(query, str) or len(query) > MAX_DOCUMENT_CHARS or not isinstance(operation_name, (str, type(None))):
        return None
    if not is_public(query, operation_name):
        return None
    version = catalog_version()
    if version is None:
        return None
    try:
        canonical_variables = json.dumps(variables, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return None
    return (query, operation_name, canonical_variables, version)


def get(key: tuple) -> bytes | None:
    with _lock:
        body = _answers.get(key)
        if body is not None:
            _answers.move_to_end(key)
        return body


def put(key: tuple, body: bytes) -> None:
    """Keep ``body`` (an answer without errors) unless the catalog changed meanwhile."""
    if len(body) > MAX_BODY_BYTES or catalog_version() != key[-1]:
        return
    try:
        if json.loads(body).get("errors"):
            return
    except (ValueError, AttributeError):
        return
    with _lock:
        # Answers of older catalog versions will never be asked for again.
        for old in [k for k in _answers if k[-1] != key[-1]]:
            del _answers[old]
        _answers[key] = body
        while len(_answers) > MAX_ENTRIES:
            _answers.popitem(last=False)


def clear() -> None:
    with _lock:
        _answers.clear()
