"""The built React client (client/dist, `make run` builds it) served at /.

Its files (index.html, assets/…) are served by WhiteNoise (ETags, compressed
variants, ranges; Vite's hashed assets/ cached for a year as immutable).
Only that directory: /static/ keeps its own meaning (schema/graphiql.py), so
this is WhiteNoise's serving without its Django middleware's STATIC_ROOT and
finders. Any other GET of a path that is no file and none of the server's own
(/graphql/, /admin/, /api/, /_emulator/, /static/, /healthz) is a client route
(/checkout/success, /payment/return, …): index.html, never cached, so a new
build is picked up at the next page load. Without a build, those answer a 404
saying how to build it.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from whitenoise.base import WhiteNoise
from whitenoise.middleware import WhiteNoiseMiddleware

# Vite's build writes assets/<name>-<hash>.<ext>: a new build never reuses a name.
_HASHED = re.compile(r"^assets/.+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$")
NOT_BUILT = (
    "The React client is not built. With Node.js 20.19+ and npm: `make run` builds it "
    "(or `cd client && npm ci && npm run build`). The API is at /graphql/.\n"
)


def _dist() -> Path:
    return Path(settings.CLIENT_DIST_DIR)


class ClientAssetsMiddleware:
    """Answers the files of the client's build; everything else goes on."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.autorefresh = settings.DEBUG  # a rebuild during `make run` is seen without a restart
        self.files = WhiteNoise(
            None,
            autorefresh=self.autorefresh,
            max_age=0 if settings.DEBUG else 60,
            allow_all_origins=False,  # the page's own files, for the page's own origin
            immutable_file_test=lambda path, url: bool(_HASHED.match(url.lstrip("/"))),
        )
        if self.autorefresh or _dist().is_dir():  # autorefresh looks the file up per request
            self.files.add_files(str(_dist()), prefix="/")

    def __call__(self, request: HttpRequest):
        if self.autorefresh:
            found = self.files.find_file(request.path_info)
        else:
            found = self.files.files.get(request.path_info)
        if found is None or request.path_info in {"/", "/index.html"}:  # the index: client_index, never cached
            return self.get_response(request)
        return WhiteNoiseMiddleware.serve(found, request)


def client_index(request: HttpRequest, route: str = "") -> HttpResponse:
    """index.html for / and every client route."""
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    index = _dist() / "index.html"
    if not index.is_file():
        return HttpResponse(NOT_BUILT, status=404, content_type="text/plain; charset=utf-8")
    response = HttpResponse(index.read_bytes(), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


# A client route: not one of the server's paths (with or without their slash),
# not under assets/, and no file name with an extension (a missing asset is a 404).
CLIENT_ROUTE = r"^(?!(?:graphql|admin|api|_emulator|static|healthz|assets)(?:/|$))(?P<route>(?:[^/.]+/)*[^/.]*)$"
