"""The customer's side of the emulator's HTTP face: what a browser loads from it
rather than calls as an API. One small routing table, ``PAGES``: each entry a
method, a path pattern (``{id}``: one path segment, passed to the handler) and a
handler ``(emulator, PageRequest, *path_args) -> PageResponse``. Another module
adds its pages with :func:`page` (hosted.py: 3-D Secure and Checkout; a billing
portal likewise), and ``http.App`` answers any path the table matches.

``/js/v3/`` is the Stripe.js stand-in (static/stripe-js-v3.js): a browser loads
it instead of https://js.stripe.com/v3/ and it talks to this emulator's ``/v1``
API with the publishable key, as Stripe.js talks to api.stripe.com.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import parse_qsl

STATIC = Path(__file__).with_name("static")
TEMPLATES = Path(__file__).with_name("templates")


@dataclass
class PageRequest:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]


@dataclass
class PageResponse:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def redirect(cls, location: str) -> PageResponse:
        return cls(303, b"", headers={"Location": location})


Handler = Callable[..., PageResponse]


@dataclass(frozen=True)
class _Page:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


PAGES: list[_Page] = []


def page(method: str, path: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ``method`` ``path`` (``{id}`` matches one segment)."""

    def register(handler: Handler) -> Handler:
        pattern = re.compile(re.escape(path).replace(re.escape("{id}"), "([^/]+)"))
        PAGES.append(_Page(method, pattern, handler))
        return handler

    return register


def answer(emulator: Any, method: str, path: str, query: str, body: bytes) -> PageResponse | None:
    """The page at ``path``, or None when no page is there (the API's paths)."""
    _load_pages()
    for entry in PAGES:
        match = entry.pattern.fullmatch(path)
        if match and entry.method == method:
            form = dict(parse_qsl(body.decode("utf-8", "replace"))) if method == "POST" else {}
            return entry.handler(emulator, PageRequest(method, path, dict(parse_qsl(query)), form), *match.groups())
    if any(entry.pattern.fullmatch(path) for entry in PAGES):
        return PageResponse(405, b"Method not allowed.", "text/plain; charset=utf-8", {"Allow": "GET, POST"})
    return None


@functools.cache
def _load_pages() -> None:
    from . import hosted  # noqa: F401 - registers its pages
    from . import portal  # noqa: F401 - the billing portal's page


@functools.cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def render(name: str, status: int = 200, **values: Any) -> PageResponse:
    """templates/<name> with each value HTML-escaped (``raw_*`` values as they are)."""
    escaped = {k: (v if k.startswith("raw_") else html.escape(str(v), quote=True)) for k, v in values.items()}
    return PageResponse(status, _template(name).substitute(escaped).encode("utf-8"))


@page("GET", "/js/v3/")
@page("GET", "/js/v3")
def stripe_js(emulator: Any, request: PageRequest) -> PageResponse:
    body = (STATIC / "stripe-js-v3.js").read_bytes()
    return PageResponse(200, body, "application/javascript; charset=utf-8", {"Cache-Control": "no-cache"})
