"""ASGI entry point (Daphne): Django for HTTP, Strawberry's consumer for
GraphQL over WebSocket at /graphql/, the viewer from the session cookie."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402
from strawberry.channels import GraphQLWSConsumer  # noqa: E402

from payments.checks import enforce_production_settings  # noqa: E402
from schema.schema import schema  # noqa: E402

enforce_production_settings()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter([re_path(r"^graphql/?$", GraphQLWSConsumer.as_asgi(schema=schema))]))
        ),
    }
)
