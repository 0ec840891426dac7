"""dj-stripe's webhook URL as its documentation wires it, the same bare
baseline view as ours (bench.views.bare), and /healthz for the runner."""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def bare(request):
    request.body  # noqa: B018 (read, like the webhook reads it)
    return HttpResponse(b'{"received": true}', content_type="application/json")


def healthz(request):
    return HttpResponse(b"ok")


urlpatterns = [
    path("stripe/", include("djstripe.urls", namespace="djstripe")),
    path("bench/bare/", bare),
    path("healthz", healthz),
]
