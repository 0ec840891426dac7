"""GraphiQL at /graphql/ (DEBUG only), offline: Strawberry's page with its
assets served by us (schema/static/graphiql/, vendored from npm: see
VENDORED.md there) instead of a CDN, and a fetcher that reads the csrftoken
cookie on every request, since Django rotates the token at login.

The assets are static files (django.contrib.staticfiles). `manage.py runserver`
serves them in DEBUG; `daphne config.asgi:application` (the tests' servers, a
bare deployment) does not, so STATIC_URLPATTERNS serves them through Django,
in DEBUG only (staticfiles' serve() answers 404 otherwise, read per request
like the page itself). In production GraphiQL is off, so nothing here needs a
static-file server such as whitenoise."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.staticfiles.views import serve
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import re_path

TEMPLATE = "schema/graphiql.html"


class OfflineGraphiQL:
    """Mixin for Strawberry's GraphQLView: our page instead of the CDN one."""

    def render_graphql_ide(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(render_to_string(TEMPLATE, request=request))


STATIC_URLPATTERNS = [
    re_path(rf"^{re.escape(settings.STATIC_URL.lstrip('/'))}(?P<path>.*)$", serve),
]
