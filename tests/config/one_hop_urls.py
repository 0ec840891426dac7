"""Views for tests/config/test_one_hop.py."""

import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


def where(request):
    return HttpResponse(threading.current_thread().name)


async def async_view(request):
    return HttpResponse(b"async")


def stream(request):
    return StreamingHttpResponse(iter([b"a", b"b", b"c"]))


@csrf_exempt
def echo(request):
    return HttpResponse(request.body)


def form(request):
    return HttpResponse(request.POST["a"])


@csrf_exempt
def publish(request):
    async_to_sync(get_channel_layer().group_send)("one-hop-test", {"type": "test.message"})
    return HttpResponse(b"sent")


urlpatterns = [
    path("where/", where),
    path("async/", async_view),
    path("stream/", stream),
    path("echo/", echo),
    path("form/", form),
    path("publish/", publish),
]
