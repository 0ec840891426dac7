"""Open WebSockets follow their session: when the viewer logs out (on any
connection), the session expires or is flushed, or the password changes, the
connection's operations end with an error and the socket closes with 4401.

One watcher per event loop checks every watched connection of the process
every GRAPHQL_SESSION_CHECK_SECONDS in one batch (one query for the sessions
of the database-backed engines, one for their users), so 5,000 idle sockets
cost two queries per period, not 5,000. A connection is watched from the first
check that finds it logged in (at the handshake, or after ``login`` over the
socket); an anonymous connection is never closed by this.

What counts as "still the same viewer" is what Django's and Channels'
``get_user`` check: the session exists and has not expired, it names the same
user, and its auth hash is the user's current one (a password change ends it).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from contextlib import suppress
from importlib import import_module

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

from payments.conf import get_config
from schema.limits import GraphQLLimitsConsumer
from schema.mailbox import MailboxConsumer
from schema.limits import _LegacyProtocolHandler as LegacyProtocolHandler

logger = logging.getLogger(__name__)

SESSION_ENDED_CODE = 4401
SESSION_ENDED_MESSAGE = "Your session has ended: log in again."
_BATCH = 500  # keys per IN (...) query


def _store_class():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _session_data(keys: list[str]) -> dict[str, dict]:
    """The live sessions among ``keys``, decoded: one query per batch for the
    database engines, a load per key for the others (cache, files, cookies)."""
    store = _store_class()
    found: dict[str, dict] = {}
    if issubclass(store, DatabaseSessionStore):
        model, now = store.get_model_class(), timezone.now()
        for start in range(0, len(keys), _BATCH):
            rows = model.objects.filter(session_key__in=keys[start : start + _BATCH], expire_date__gt=now)
            for key, data in rows.values_list("session_key", "session_data"):
                found[key] = store().decode(data)
        return found
    for key in keys:
        session = store(session_key=key)
        data = session.load()
        if session.session_key is not None and data:
            found[key] = data
    return found


def dead_sessions(watched: dict[str, str]) -> set[str]:
    """Of ``{session_key: user_pk}``, the keys whose session no longer logs that user in."""
    if not watched:
        return set()
    data = _session_data(list(watched))
    users = get_user_model()._default_manager.in_bulk({pk for key, pk in watched.items() if key in data})
    dead = set()
    for key, pk in watched.items():
        session, user = data.get(key), users.get(_to_pk(pk))
        if session is None or user is None or str(session.get(SESSION_KEY)) != str(pk):
            dead.add(key)
            continue
        if session.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS:
            dead.add(key)
            continue
        if not constant_time_compare(session.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()):
            dead.add(key)
    return dead


def _to_pk(pk: str):
    return get_user_model()._meta.pk.to_python(pk)


class _Watcher:
    """The connections of one event loop, checked together each period."""

    def __init__(self) -> None:
        self.consumers: weakref.WeakSet = weakref.WeakSet()
        self.task: asyncio.Task | None = None

    def add(self, consumer) -> None:
        self.consumers.add(consumer)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    def discard(self, consumer) -> None:
        self.consumers.discard(consumer)

    async def _run(self) -> None:
        while self.consumers:
            await asyncio.sleep(get_config().graphql_session_check_seconds)
            try:
                await self.check()
            except Exception:  # a database hiccup must not stop the watching
                logger.exception("could not check the sessions of open WebSockets")

    async def check(self) -> None:
        ending, watched = [], {}
        for consumer in list(self.consumers):
            verdict = consumer.session_identity()
            if verdict is None:
                continue  # anonymous, never logged in: nothing to end
            if verdict is False:
                ending.append(consumer)  # logged out, or another user, on this very socket
            else:
                key, pk = verdict
                watched.setdefault(key, pk)
                consumer.watched_key = key
        dead = await sync_to_async(dead_sessions)(watched) if watched else set()
        ending += [c for c in list(self.consumers) if getattr(c, "watched_key", None) in dead and c not in ending]
        for consumer in ending:
            self.discard(consumer)
            await consumer.end_session()


_watchers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def watcher() -> _Watcher:
    """This event loop's watcher."""
    loop = asyncio.get_running_loop()
    if loop not in _watchers:
        _watchers[loop] = _Watcher()
    return _watchers[loop]


class SessionBoundConsumer:
    """Consumer mixin: watched while its scope is logged in; ``end_session``
    ends every operation with an error, then closes the socket (4401)."""

    handler = None  # the protocol handler serving this connection (set by it)
    viewer_pk: str | None = None  # the user the connection was first seen logged in as

    def session_identity(self):
        """``(session_key, user_pk)`` to check; False when the socket itself
        logged out or changed user; None while it was never logged in."""
        user = self.scope.get("user")
        session = self.scope.get("session")
        pk = str(user.pk) if user is not None and user.is_authenticated else None
        if self.viewer_pk is None:
            if pk is None or session is None or session.session_key is None:
                return None
            self.viewer_pk = pk
        if pk != self.viewer_pk or session is None or session.session_key is None:
            return False
        return session.session_key, pk

    def note_viewer(self) -> None:
        """Record who the connection is logged in as now (at the handshake, and
        by each subscription before it shows data), so that a logout before the
        next check is still seen as one."""
        self.session_identity()

    async def websocket_connect(self, message) -> None:
        self.note_viewer()
        await super().websocket_connect(message)
        watcher().add(self)

    async def websocket_disconnect(self, message) -> None:
        watcher().discard(self)
        await super().websocket_disconnect(message)

    async def end_session(self) -> None:
        handler = self.handler
        if handler is not None:
            for operation_id in list(handler.active_operation_ids()):
                with suppress(Exception):
                    await handler.cleanup_operation(operation_id)
                with suppress(Exception):
                    await handler.send_session_ended(operation_id)
        logger.info("closing a WebSocket whose session ended (user %s)", self.viewer_pk)
        await self.close(code=SESSION_ENDED_CODE, reason="Session ended")


class _SessionEndingTransportHandler(BaseGraphQLTransportWSHandler):
    """graphql-transport-ws: each operation ends with an ``error`` message."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.view.handler = self

    def active_operation_ids(self) -> list[str]:
        return list(self.operations)

    async def send_session_ended(self, operation_id: str) -> None:
        await self.websocket.send_json(
            {"id": operation_id, "type": "error",
             "payload": [{"message": SESSION_ENDED_MESSAGE, "extensions": {"code": "UNAUTHENTICATED"}}]}
        )


class _SessionEndingLegacyHandler(LegacyProtocolHandler):
    """graphql-ws (legacy): each operation ends with an ``error`` message."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.view.handler = self

    def active_operation_ids(self) -> list[str]:
        return list(self.tasks)

    async def send_session_ended(self, operation_id: str) -> None:
        await self.websocket.send_json(
            {"id": operation_id, "type": "error",
             "payload": {"message": SESSION_ENDED_MESSAGE, "extensions": {"code": "UNAUTHENTICATED"}}}
        )


class GraphQLConsumer(SessionBoundConsumer, MailboxConsumer, GraphQLLimitsConsumer):
    """The project's GraphQL WebSocket consumer: the limits of schema/limits.py,
    bound to the viewer's session, its queues mailboxes (schema/mailbox.py)."""

    graphql_transport_ws_handler_class = _SessionEndingTransportHandler
    graphql_ws_handler_class = _SessionEndingLegacyHandler
