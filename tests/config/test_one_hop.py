"""Django's request handling in one hop to the worker thread per request
(config.concurrency.OneHopASGIHandler, under RequestWorkers): the same
middleware, signals, body limits, streaming and async views as Django's own
ASGI handler, with one ``sync_to_async`` call for the whole middleware chain
and view instead of one per sync hook."""

import asyncio
import threading
from unittest import mock

import pytest
from asgiref.sync import SyncToAsync
from asgiref.testing import ApplicationCommunicator
from channels.layers import get_channel_layer
from django.core.asgi import get_asgi_application

from config.asgi import application
from config.concurrency import OneHopASGIHandler, RequestWorkers

pytestmark = pytest.mark.urls("tests.config.one_hop_urls")


def scope(method: str, path: str, headers=()):
    return {"type": "http", "method": method, "path": path, "query_string": b"", "root_path": "",
            "headers": [(b"host", b"localhost"), *headers], "scheme": "http", "server": ("localhost", 80),
            "client": ("127.0.0.1", 1234), "asgi": {"version": "3.0"}, "http_version": "1.1"}


async def call(app, method: str, path: str, body: bytes = b"", headers=()) -> tuple[int, dict, bytes]:
    communicator = ApplicationCommunicator(app, scope(method, path, headers))
    await communicator.send_input({"type": "http.request", "body": body})
    start = await communicator.receive_output(5)
    chunks = []
    while True:
        message = await communicator.receive_output(5)
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    await communicator.wait(5)
    return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, b"".join(chunks)


def request(app, *args, **kwargs):
    return asyncio.run(call(app, *args, **kwargs))


@pytest.fixture
def one_hop(db):
    return RequestWorkers(OneHopASGIHandler(), 2)


def test_the_server_runs_http_on_the_one_hop_handler_on_the_workers():
    http = application.application_mapping["http"]
    assert isinstance(http, RequestWorkers) and isinstance(http.app, OneHopASGIHandler)


def hops(app, *args) -> int:
    original = SyncToAsync.__call__
    count = 0

    async def counted(self, *a, **kw):
        nonlocal count
        count += 1
        return await original(self, *a, **kw)

    with mock.patch.object(SyncToAsync, "__call__", counted):
        status, _, _ = request(app, *args)
    assert status == 200
    return count


def test_one_hop_for_the_whole_middleware_chain_and_view(one_hop):
    django_own = RequestWorkers(get_asgi_application(), 2)
    # request_started, the chain and view, response.close (request_finished): 3 at most
    assert hops(one_hop, "GET", "/where/") <= 3
    assert hops(django_own, "GET", "/where/") >= 10


def test_the_middleware_and_the_view_run_on_the_worker_thread(one_hop):
    status, headers, body = request(one_hop, "GET", "/where/")
    assert status == 200 and body.decode().startswith("http-worker-")
    # the product's middleware ran (security and clickjacking headers)
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"


def test_an_async_view_runs(one_hop):
    status, _, body = request(one_hop, "GET", "/async/")
    assert (status, body) == (200, b"async")


def test_a_streaming_response_is_streamed(one_hop):
    status, _, body = request(one_hop, "GET", "/stream/")
    assert (status, body) == (200, b"abc")


def test_the_body_limit_is_django_s(one_hop, settings):
    """Past DATA_UPLOAD_MAX_MEMORY_SIZE: Django's answer (400), as from its own handler."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    too_big = ("POST", "/echo/", b"x" * 11, [(b"content-type", b"text/plain")])
    assert request(one_hop, *too_big)[0] == request(RequestWorkers(get_asgi_application(), 1), *too_big)[0] == 400
    status, _, body = request(one_hop, "POST", "/echo/", b"x" * 10, [(b"content-type", b"text/plain")])
    assert (status, body) == (200, b"x" * 10)


def test_csrf_is_enforced(one_hop):
    status, _, _ = request(one_hop, "POST", "/form/", b"a=1", [(b"content-type", b"application/x-www-form-urlencoded")])
    assert status == 403
    token = "t" * 32
    status, _, body = request(one_hop, "POST", "/form/", b"a=1",
                              [(b"content-type", b"application/x-www-form-urlencoded"),
                               (b"cookie", f"csrftoken={token}".encode()), (b"x-csrftoken", token.encode())])
    assert (status, body) == (200, b"1")


def test_a_group_send_from_a_sync_view_reaches_the_event_loop_s_channel_layer(one_hop):
    """As the webhook's push does (payments/live.py): async_to_sync finds the
    server's loop, so an in-memory layer's receiver on that loop gets it."""

    async def main():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add("one-hop-test", channel)
        status, _, _ = await call(one_hop, "POST", "/publish/")
        message = await asyncio.wait_for(layer.receive(channel), 2)
        return status, message, threading.current_thread().name

    status, message, _ = asyncio.run(main())
    assert status == 200 and message["type"] == "test.message"
