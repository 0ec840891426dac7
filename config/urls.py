from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import ensure_csrf_cookie
from strawberry.django.views import GraphQLView

from payments.health import healthz
from payments.webhooks.views import stripe_webhook
from schema import public_cache
from schema.schema import schema



class ProjectGraphQLView(GraphQLView):
    """GraphiQL only in DEBUG (read per request, so a test can switch it)."""

    @property
    def graphql_ide(self):
        return "graphiql" if settings.DEBUG else None

    @graphql_ide.setter
    def graphql_ide(self, value):  # as_view() passes it; DEBUG decides
        pass

    def dispatch(self, request, *args, **kwargs):
        """Public catalog queries are answered from schema/public_cache.py
        (serialized once per catalog version); everything else as usual."""
        key = public_cache.key_for(request)
        if key is None:
            return super().dispatch(request, *args, **kwargs)
        body = public_cache.get(key)
        if body is not None:
            return HttpResponse(body, content_type="application/json")
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code == 200 and response.get("Content-Type") == "application/json":
            public_cache.put(key, response.content)
        return response


urlpatterns = [
    path("admin/", admin.site.urls),
    # Cookie-authenticated POSTs need Django's CSRF token: any GET of /graphql/
    # (GraphiQL, or a query) hands the client its csrftoken cookie.
    path(
        "graphql/",
        ensure_csrf_cookie(ProjectGraphQLView.as_view(schema=schema)),
    ),
    path("api/payments/webhook/", stripe_webhook, name="stripe-webhook"),
    path("healthz", healthz, name="healthz"),
]
