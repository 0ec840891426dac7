"""HTTP requests on a fixed set of worker threads that keep their database
connections (config/concurrency.py).

The PostgreSQL storm that needs it (200 deliveries of one event to a real
Daphne, every one answered 200) is tests/payments/webhooks/test_real_server.py."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.core.asgi import get_asgi_application
from django.db.backends.signals import connection_created

from config.asgi import application
from config.concurrency import RequestWorkers


class Recorder:
    """An ASGI app that records how many calls are inside it at once, and on
    which thread its sync part (as Django's would) runs."""

    def __init__(self):
        self.inside = 0
        self.most = 0
        self.served = 0
        self.threads = set()

    async def __call__(self, scope, receive, send):
        self.inside += 1
        self.most = max(self.most, self.inside)
        await sync_to_async(lambda: self.threads.add(threading.current_thread().name))()
        await asyncio.sleep(0.01)
        self.inside -= 1
        self.served += 1


def run_concurrently(app, scope_type: str, n: int) -> None:
    async def main():
        await asyncio.gather(*(app({"type": scope_type}, None, None) for _ in range(n)))

    asyncio.run(main())


def test_at_most_n_requests_are_inside_at_once_on_n_threads_and_every_one_is_served():
    inner = Recorder()
    run_concurrently(RequestWorkers(inner, 5), "http", 60)
    assert (inner.most, inner.served) == (5, 60)
    assert len(inner.threads) == 5 and all(name.startswith("http-worker-") for name in inner.threads)


def test_websockets_are_not_counted():
    inner = Recorder()
    run_concurrently(RequestWorkers(inner, 2), "websocket", 10)
    assert (inner.most, inner.served) == (10, 10)
    assert not any(name.startswith("http-worker-") for name in inner.threads)


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError, match="HTTP_MAX_CONCURRENT_REQUESTS"):
        RequestWorkers(Recorder(), 0)


def test_the_server_application_runs_http_on_the_workers_of_the_setting(settings):
    http = application.application_mapping["http"]
    assert isinstance(http, RequestWorkers)
    assert http.workers == settings.HTTP_MAX_CONCURRENT_REQUESTS


def get(app, path: str) -> int:
    async def request() -> int:
        communicator = ApplicationCommunicator(
            app,
            {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": [(b"host", b"localhost")],
             "scheme": "http", "server": ("localhost", 80), "client": ("127.0.0.1", 1234), "asgi": {"version": "3.0"}},
        )
        await communicator.send_input({"type": "http.request", "body": b""})
        start = await communicator.receive_output(5)
        await communicator.receive_output(5)
        return start["status"]

    return asyncio.run(request())


def test_a_worker_keeps_its_database_connection_between_requests(transactional_db, settings):
    """Ten requests that read the database on one worker: one connection, not ten."""
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0
    opened = []
    receiver = lambda sender, connection, **kw: opened.append(threading.current_thread().name)  # noqa: E731
    connection_created.connect(receiver)
    try:
        app = RequestWorkers(get_asgi_application(), 1)
        assert [get(app, "/healthz") for _ in range(10)] == [200] * 10
    finally:
        connection_created.disconnect(receiver)
    assert opened == ["http-worker-0_0"]
