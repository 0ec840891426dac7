"""HTTP requests run on a fixed set of worker threads, each keeping its
database connection: a bounded pool of connections, per server process.

Under ASGI, Django runs each request's sync code (middleware, view) on a
thread made for that request (asgiref's ThreadSensitiveContext), and each
such thread opens a database connection of its own and drops it at the end:

- a storm of 200 webhook deliveries asked PostgreSQL for 200 connections and,
  past ``max_connections`` (100 by default), got "too many clients" and a 500;
- every request paid for a new connection (a forked PostgreSQL backend, a few
  milliseconds) and a new thread.

psycopg2 has no pool Django can use (Django's own pool needs psycopg 3).
Instead, ``RequestWorkers`` keeps HTTP_MAX_CONCURRENT_REQUESTS single-thread
executors and runs each request wholly on one of them (asgiref's
``ThreadSensitiveContext(executor=...)``, which Django's own context then
defers to). A request waits, in the event loop, for a free worker: waiting
costs a coroutine, not a thread or a connection. Each worker's thread keeps
its connection between requests for DATABASE_CONN_MAX_AGE seconds (Django's
persistent connections, with health checks), which is safe here because the
threads live as long as the process. Daphne hands us a request only once its
body has arrived, so a slow client never holds a worker.

Size it so that processes x HTTP_MAX_CONCURRENT_REQUESTS, plus the
management commands, stays under the database's connection limit.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import FileResponse


class RequestWorkers:
    """ASGI middleware: each HTTP request runs on one of ``workers`` threads;
    at most that many at once. Other scopes (WebSocket, lifespan) pass."""

    def __init__(self, app, workers: int):
        if workers < 1:
            raise ValueError("HTTP_MAX_CONCURRENT_REQUESTS must be at least 1")
        self.app = app
        self.workers = workers
        self._idle: asyncio.Queue[ThreadPoolExecutor] = asyncio.Queue()  # binds to the loop on first use
        for n in range(workers):
            # A thread starts on the worker's first request, and lives as long as the process.
            self._idle.put_nowait(ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"http-worker-{n}"))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        executor = await self._idle.get()
        try:
            async with ThreadSensitiveContext(executor=executor):
                return await self.app(scope, receive, send)
        finally:
            self._idle.put_nowait(executor)


class OneHopASGIHandler(ASGIHandler):
    """Django's ASGI handler with its middleware chain built in sync mode and
    run, with the view, in one ``sync_to_async`` call: one hop to the request's
    worker thread and back per request, instead of one per sync middleware hook
    and per view (about 14 with our middleware).

    Everything else is Django's own: the body read into a spooled file in the
    event loop (FILE_UPLOAD_MAX_MEMORY_SIZE, DATA_UPLOAD_MAX_MEMORY_SIZE), the
    request_started / request_finished signals (so old connections are closed
    on the worker's thread, as before), the response sent from the event loop
    (streaming responses included), the client's disconnect cancelling the
    request. An async view (``/healthz``) is called through ``async_to_sync``,
    which runs it on the server's event loop, like a ``group_send`` made by a
    sync view (both find the loop through the ``sync_to_async`` they run under).
    """

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def run_get_response(self, request):
        response = await sync_to_async(self.get_response, thread_sensitive=True)(request)
        response._handler_class = self.__class__
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        return response
