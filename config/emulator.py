"""The Stripe emulator's HTTP face (stripe_emulator.http) inside the product's
dev server, at /_emulator/ (its /v1 API now; the browser pages of Stripe.js's
stand-in, Checkout and 3-D Secure later), answered by the same emulator the
gateway's in-process client talks to.

Only while the emulator is active: DEBUG on, no Stripe secret key and no other
Stripe (STRIPE_API_BASE). Otherwise, and so always in production, a 404.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

PREFIX = "/_emulator"


def emulator_active() -> bool:
    return bool(settings.DEBUG and not settings.STRIPE_SECRET_KEY and not settings.STRIPE_API_BASE)


@csrf_exempt
def emulator(request: HttpRequest, rest: str = "") -> HttpResponse:
    if not emulator_active():
        raise Http404("No such page.")
    from stripe_emulator import get_emulator
    from stripe_emulator.http import App

    body = request.body
    environ = {key: value for key, value in request.META.items() if key.startswith("HTTP_")}
    environ.update(
        REQUEST_METHOD=request.method,
        PATH_INFO=request.path,
        QUERY_STRING=request.META.get("QUERY_STRING", ""),
        CONTENT_LENGTH=str(len(body)),
        CONTENT_TYPE=request.META.get("CONTENT_TYPE", ""),
        **{"wsgi.input": io.BytesIO(body)},
    )
    answer: dict = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer.update(status=int(status.split()[0]), headers=headers)

    content = b"".join(App(get_emulator, prefix=PREFIX)(environ, start_response))
    response = HttpResponse(content, status=answer["status"])
    for name, value in answer["headers"]:
        response[name] = value
    return response
