"""Decoding of Stripe's form-encoded parameters (``metadata[k]=v&expand[0]=x``)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_SUBSCRIPT = re.compile(r"\[([^\]]*)\]")


def decode_form(text: str | bytes | None) -> dict[str, Any]:
    """Turn a Stripe form body or query string into nested dicts and lists.

    ``a[b]=1`` becomes ``{"a": {"b": "1"}}``; a level whose keys are all
    indexes (``expand[0]``, or ``expand[]`` to append) becomes a list. Values
    stay strings, as Stripe's own parser sees them. Raises ValueError when a
    key is used both as a value and as a container.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text or "", keep_blank_values=True):
        head = key.split("[", 1)[0]
        parts = [head, *_SUBSCRIPT.findall(key[len(head) :])]
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part or str(len(node)), {})
            if not isinstance(child, dict):
                raise ValueError(f"Invalid parameter: {key}")
            node = child
        last = parts[-1] or str(len(node))
        if isinstance(node.get(last), dict):
            raise ValueError(f"Invalid parameter: {key}")
        node[last] = value
    return {key: _listify(value) for key, value in root.items()}


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted
