from django.conf import settings
from django.contrib import admin
from django.urls import path
from django.views.decorators.csrf import ensure_csrf_cookie
from strawberry.django.views import GraphQLView

from payments.webhooks.views import stripe_webhook
from schema.schema import schema

urlpatterns = [
    path("admin/", admin.site.urls),
    # Cookie-authenticated POSTs need Django's CSRF token: any GET of /graphql/
    # (GraphiQL, or a query) hands the client its csrftoken cookie.
    path(
        "graphql/",
        ensure_csrf_cookie(GraphQLView.as_view(schema=schema, graphql_ide="graphiql" if settings.DEBUG else None)),
    ),
    path("api/payments/webhook/", stripe_webhook, name="stripe-webhook"),
]
