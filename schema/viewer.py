"""Who asks: the one way every resolver gets the viewer, over HTTP and the
WebSocket alike (strawberry-django reads the request's user, or the Channels
scope's, which schema/ws_sessions.py and the login mutation keep current)."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from strawberry.types import Info
from strawberry_django.auth.utils import get_current_user

from payments.errors import Unauthenticated


def viewer(info: Info):
    """The logged-in user, or None for an anonymous caller."""
    user = get_current_user(info)
    return user if user.is_authenticated else None


aviewer = sync_to_async(viewer)
"""``viewer`` for an async resolver (a subscription): the user is loaded off the event loop."""


def require_viewer(info: Info):
    """The logged-in user; ``Unauthenticated`` for an anonymous caller."""
    user = viewer(info)
    if user is None:
        raise Unauthenticated("Log in first.")
    return user
