"""What each emulated endpoint accepts, read from stripe-python's typed request
params (``stripe.params``) of the installed version, never from lists of our own.

Every ``*Params`` class there is a TypedDict generated from Stripe's OpenAPI
spec for the library's pinned API version: its keys are the parameters the
endpoint knows, ``__required_keys__`` the ones it requires, and its nested
TypedDicts (directly, in a list, or in a union with ``""`` for "unset") the
keys of nested parameters. ``Dict[str, str]`` (metadata) is free-form. The
keys that ``RequestOptions`` adds (api_key, idempotency_key, ...) travel as
headers, not as parameters, and are not accepted in a body.

``check(params_class, params)`` refuses a decoded request as Stripe does: the
first unknown parameter (``parameter_unknown``, ``param`` naming it as Stripe
does, ``foo[bar]``, ``items[0][bar]``), else the first missing required one
(``parameter_missing``). Values are left to the handlers.

This module, the one place the emulator reads ``stripe``, imports only its
type declarations; requests never go through the library here.
"""

from __future__ import annotations

import functools
import sys
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

import typing_extensions
from typing_extensions import is_typeddict
from stripe._request_options import RequestOptions
from stripe._stripe_object import UntypedStripeObject

# Header-borne request options every params class inherits; not body parameters.
_REQUEST_OPTIONS = frozenset(RequestOptions.__annotations__)


class ParamsError(Exception):
    """A request Stripe refuses before running it: (code, param)."""

    def __init__(self, code: str, param: str) -> None:
        super().__init__(code, param)
        self.code = code
        self.param = param


@dataclass(frozen=True)
class _Shape:
    """What a parameter's value may be: any of an object of known keys, a free-form
    dict, a list of some shape, or a scalar (string, number, boolean, enum, "")."""

    objects: tuple[type, ...] = ()  # TypedDict classes
    free: bool = False
    items: _Shape | None = None
    scalar: bool = False

    def __or__(self, other: _Shape) -> _Shape:
        items = self.items or other.items
        if self.items and other.items:
            items = self.items | other.items
        return _Shape(
            objects=self.objects + tuple(c for c in other.objects if c not in self.objects),
            free=self.free or other.free,
            items=items,
            scalar=self.scalar or other.scalar,
        )


def _shape(hint: Any) -> _Shape:
    origin = typing_extensions.get_origin(hint)
    if origin in (Union, types.UnionType):
        shape = _Shape()
        for arg in typing_extensions.get_args(hint):
            shape = shape | _shape(arg)
        return shape
    if is_typeddict(hint):
        return _Shape(objects=(hint,))
    if origin in (list, typing.List):  # noqa: UP006 - what the generated code writes
        (arg,) = typing_extensions.get_args(hint) or (Any,)
        return _Shape(items=_shape(arg))
    if hint is Any or origin in (dict, Mapping) or hint in (dict, Mapping):
        return _Shape(free=True)
    if isinstance(origin, type) and issubclass(origin, UntypedStripeObject):
        return _Shape(free=True)
    if isinstance(hint, type) and issubclass(hint, UntypedStripeObject):
        return _Shape(free=True)
    return _Shape(scalar=True)  # str, int, bool, float, Decimal, Literal[...]


@functools.cache
def fields(params_class: type) -> dict[str, _Shape]:
    """The parameters a params TypedDict declares, each with its shape."""
    hints = typing_extensions.get_type_hints(params_class, globalns=_names(params_class))
    return {name: _shape(hint) for name, hint in hints.items() if name not in _REQUEST_OPTIONS}


def _names(params_class: type) -> dict[str, Any]:
    """What the annotations may name: a TypedDict's __annotations__ hold its bases'
    too (every params class's RequestOptions), each written in its own module's
    names; StripeContext is imported there only under TYPE_CHECKING."""
    names: dict[str, Any] = {"StripeContext": Any}
    pending, seen = [params_class], []
    while pending:
        cls = pending.pop()
        if cls not in seen:
            seen.append(cls)
            pending += [b for b in getattr(cls, "__orig_bases__", ()) if is_typeddict(b)]
    for cls in reversed(seen):  # the class's own module last: its names win
        names.update(vars(sys.modules[cls.__module__]))
    return names


@functools.cache
def required(params_class: type) -> frozenset[str]:
    return frozenset(params_class.__required_keys__) - _REQUEST_OPTIONS


def check(params_class: type, params: Mapping[str, Any]) -> None:
    """Raise ParamsError for what Stripe refuses in these decoded parameters."""
    _check_object((params_class,), params, "")


def _name(prefix: str, key: str) -> str:
    return f"{prefix}[{key}]" if prefix else key


def _check_object(classes: tuple[type, ...], value: Mapping[str, Any], prefix: str) -> None:
    """Against one of these classes (a union of objects): the one that knows every key."""
    for params_class in classes:
        known = fields(params_class)
        if all(key in known for key in value):
            break
    else:
        params_class = classes[0]
        known = fields(params_class)
        unknown = sorted(key for key in value if key not in known)
        raise ParamsError("parameter_unknown", _name(prefix, unknown[0]))
    missing = sorted(required(params_class) - set(value))
    for key in sorted(value):
        _check_value(known[key], value[key], _name(prefix, key))
    if missing:
        raise ParamsError("parameter_missing", _name(prefix, missing[0]))


def _check_value(shape: _Shape, value: Any, name: str) -> None:
    if shape.free:
        return
    if isinstance(value, list) and shape.items is not None:
        for index, item in enumerate(value):
            _check_value(shape.items, item, f"{name}[{index}]")
    elif isinstance(value, list) and shape.objects:  # index keys where names belong
        _check_object(shape.objects, dict(zip(map(str, range(len(value))), value)), name)
    elif isinstance(value, list):
        raise ParamsError("parameter_unknown", f"{name}[0]")
    elif isinstance(value, dict) and shape.objects:
        _check_object(shape.objects, value, name)
    elif isinstance(value, dict):  # nested keys under a scalar (or a list of scalars)
        raise ParamsError("parameter_unknown", _name(name, sorted(value)[0]))
    # a string: a scalar, or "" to unset; its value is the handler's to judge
