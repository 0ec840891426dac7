"""CSRF refusals (settings.CSRF_FAILURE_VIEW): at /graphql/ a JSON GraphQL
response, so that a client (Apollo, fetch) reads an error instead of failing
to parse Django's HTML page; elsewhere (the admin) Django's own page. The same
in DEBUG or not."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.csrf import csrf_failure as django_csrf_failure

GRAPHQL_PATH = re.compile(r"^/graphql/?$")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if not GRAPHQL_PATH.match(request.path_info):
        return django_csrf_failure(request, reason=reason)
    message = (
        f"CSRF verification failed: {reason} Send the csrftoken cookie's value (or the csrfToken query's) "
        "in the X-CSRFToken header, read afresh after login."
    )
    return JsonResponse({"errors": [{"message": message, "extensions": {"code": "CSRF_FAILED"}}]}, status=403)
