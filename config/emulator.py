"""The Stripe emulator's HTTP face (stripe_emulator.http) inside the product's
dev server, at /_emulator/: its /v1 API (CORS for any origin, as api.stripe.com;
django-cors-headers leaves this path alone, CORS_URLS_REGEX being /graphql/), and
the browser's pages: the Stripe.js stand-in at /_emulator/js/v3/, the 3-D Secure
challenge and hosted Checkout, answered by the same emulator the gateway's
in-process client talks to. Its pages may be framed by any site (the stand-in
shows 3-D Secure in an iframe, as Stripe.js does), so no X-Frame-Options here.

Only while the emulator is active: DEBUG on, no Stripe secret key and no other
Stripe (STRIPE_API_BASE). Otherwise, and so always in production, a 404.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

PREFIX = "/_emulator"


def emulator_active() -> bool:
    return bool(settings.DEBUG and not settings.STRIPE_SECRET_KEY and not settings.STRIPE_API_BASE)


STRIPE_JS_URL = "https://js.stripe.com/v3/"


def stripe_js_url(request: HttpRequest | None) -> str:
    """Where the browser loads Stripe.js from: the emulator's stand-in on the origin
    the request came to while the emulator is active (without an HTTP request, a
    WebSocket's: on STRIPE_EMULATOR_PUBLIC_URL), Stripe's otherwise."""
    if not emulator_active():
        return STRIPE_JS_URL
    if request is None:
        return f"{settings.STRIPE_EMULATOR_PUBLIC_URL}/js/v3/"
    return request.build_absolute_uri(f"{PREFIX}/js/v3/")


@csrf_exempt
@xframe_options_exempt
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
