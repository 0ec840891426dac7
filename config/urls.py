from django.conf import settings
from django.contrib import admin
from django.urls import path
from django.views.decorators.csrf import ensure_csrf_cookie
from strawberry.django.views import GraphQLView

from payments.health import healthz
from payments.webhooks.views import stripe_webhook
from schema.graphiql import STATIC_URLPATTERNS, OfflineGraphiQL
from schema.schema import schema



class ProjectGraphQLView(OfflineGraphiQL, GraphQLView):
    """GraphiQL only in DEBUG (read per request, so a test can switch it), offline (schema/graphiql.py)."""

    @property
    def graphql_ide(self):
        return "graphiql" if settings.DEBUG else None

    @graphql_ide.setter
    def graphql_ide(self, value):  # as_view() passes it; DEBUG decides
        pass


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
    *STATIC_URLPATTERNS,  # GraphiQL's assets, in DEBUG
]
