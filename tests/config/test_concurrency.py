"""The cap on HTTP requests inside Django at once (config/concurrency.py).

The PostgreSQL storm that needs it (200 deliveries of one event to a real
Daphne, every one answered 200) is tests/payments/webhooks/test_real_server.py."""

import asyncio

import pytest

from config.asgi import application
from config.concurrency import ConcurrencyLimit


class Recorder:
    """An ASGI app that records how many calls are inside it at once."""

    def __init__(self):
        self.inside = 0
        self.most = 0
        self.served = 0

    async def __call__(self, scope, receive, send):
        self.inside += 1
        self.most = max(self.most, self.inside)
        await asyncio.sleep(0.01)
        self.inside -= 1
        self.served += 1


def run_concurrently(app, scope_type: str, n: int) -> None:
    async def main():
        await asyncio.gather(*(app({"type": scope_type}, None, None) for _ in range(n)))

    asyncio.run(main())


def test_at_most_limit_http_requests_are_inside_at_once_and_every_one_is_served():
    inner = Recorder()
    run_concurrently(ConcurrencyLimit(inner, 5), "http", 60)
    assert (inner.most, inner.served) == (5, 60)


def test_websockets_are_not_counted():
    inner = Recorder()
    run_concurrently(ConcurrencyLimit(inner, 2), "websocket", 10)
    assert (inner.most, inner.served) == (10, 10)


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError, match="HTTP_MAX_CONCURRENT_REQUESTS"):
        ConcurrencyLimit(Recorder(), 0)


def test_the_server_application_caps_http_at_the_setting(settings):
    http = application.application_mapping["http"]
    assert isinstance(http, ConcurrencyLimit)
    assert http.limit == settings.HTTP_MAX_CONCURRENT_REQUESTS
