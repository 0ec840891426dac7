"""A cap on the HTTP requests inside Django at once, per server process.

Under ASGI, Django runs each request's sync code on a thread of its own
(asgiref's ThreadSensitiveContext), and each such thread opens its own
database connection: 200 concurrent webhook deliveries would ask PostgreSQL
for 200 connections and, past ``max_connections`` (100 by default), get
"too many clients" and a 500. psycopg2 has no pool Django can use (Django's
own pool needs psycopg 3), so the requests over the cap wait their turn here,
in the event loop, where waiting costs a coroutine, not a thread or a
connection. Daphne hands us a request only once its body has arrived, so a
slow client never holds a place.

Size it so that processes x HTTP_MAX_CONCURRENT_REQUESTS, plus the
management commands, stays under the database's connection limit.
"""

from __future__ import annotations

import asyncio


class ConcurrencyLimit:
    """ASGI middleware: at most ``limit`` HTTP requests in ``app`` at once; other scopes pass."""

    def __init__(self, app, limit: int):
        if limit < 1:
            raise ValueError("HTTP_MAX_CONCURRENT_REQUESTS must be at least 1")
        self.app = app
        self.limit = limit
        self._semaphore = asyncio.Semaphore(limit)  # binds to the running loop on first use

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        async with self._semaphore:
            return await self.app(scope, receive, send)
