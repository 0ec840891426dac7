"""strawberry-django's optimizer for resolvers it cannot see through.

The optimizer (DjangoOptimizerExtension) plans ``only`` / ``select_related`` /
``prefetch_related`` from the selection when a field returns a QuerySet of a
``strawberry_django.type``. Two of our lists are not that: ``payments`` returns
a hand-made keyset connection (the rows are under ``edges { node }``), and
``Event.payments`` is not a relation (a payment names its payable by
type and id). Their resolvers call :func:`optimized` on the QuerySet they are
about to read, with the selection below them, so what the client asks for
under them is read in a fixed number of statements whatever the number of rows.

``_get_selections`` and ``_generate_selection_resolve_info`` are the optimizer's
own helpers for relay connections (``edges { node }``), private to
strawberry-graphql-django (pinned in requirements.txt); tests/schema/test_query_counts.py
fails if an upgrade changes them.
"""

from __future__ import annotations

from django.db.models import QuerySet
from graphql import GraphQLResolveInfo, get_named_type
from strawberry.types import Info
from strawberry_django.optimizer import OptimizerStore, _generate_selection_resolve_info, _get_selections, optimize


def selection_info(info: Info | GraphQLResolveInfo, *path: str) -> GraphQLResolveInfo | None:
    """The resolve info of the field at ``path`` below the current one (e.g.
    ``("edges", "node")``), as if it were being resolved; None when the client
    did not select it. Fragments and aliases are followed as in execution."""
    raw = info._raw_info if isinstance(info, Info) else info
    for name in path:
        parent = get_named_type(raw.return_type)
        nodes = [n for group in _get_selections(raw, parent).values() for n in group if n.name.value == name]
        if not nodes:
            return None
        raw = _generate_selection_resolve_info(raw, nodes, parent.fields[name].type, parent)
    return raw


def optimized(qs: QuerySet, info: Info | GraphQLResolveInfo | None, *, only: tuple[str, ...] = ()) -> QuerySet:
    """``qs`` planned by the optimizer for ``info``'s selection, loading the
    columns in ``only`` too (what the resolver itself reads, e.g. a cursor's)."""
    if info is None:
        return qs.only("pk", *only) if only else qs
    raw = info._raw_info if isinstance(info, Info) else info
    return optimize(qs, raw, store=OptimizerStore(only=list(only)))
