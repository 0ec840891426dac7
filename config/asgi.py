"""ASGI entry point (Daphne): Django for HTTP, Strawberry's consumer for
GraphQL over WebSocket at /graphql/, the viewer from the session cookie.

WebSockets: a browser's handshake (it always sends Origin) whose Origin is
neither one of ALLOWED_HOSTS nor one of CSRF_TRUSTED_ORIGINS (which include
CORS_ALLOWED_ORIGINS) is refused, and the consumer refuses a cross-origin one
from an origin not trusted; a handshake without Origin is not a browser's
(Node, SSR, a script: no ambient cookies to abuse) and is accepted, then
authenticated like any other. The consumer (schema/limits.py) closes a
connection that sends no connection_init within
GRAPHQL_CONNECTION_INIT_TIMEOUT_SECONDS (4408) and answers the subscribe after
GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION concurrent ones with an error; both are
read from settings when a connection opens. A connection follows its session
(schema/ws_sessions.py): when the viewer logs out anywhere, or the session
expires or is flushed, its operations end with an error and it closes (4401).

HTTP: each request runs on one of HTTP_MAX_CONCURRENT_REQUESTS worker threads,
which keep their database connections (config/concurrency.py); the others wait
in the event loop, so a storm of deliveries never asks the database for more
connections than there are workers. Django's ASGI handler runs there with its
middleware chain in sync mode, the chain and the view in one hop to the worker
thread (OneHopASGIHandler), not one hop per sync middleware hook."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
get_asgi_application()  # django.setup(), before the imports below

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from config.concurrency import OneHopASGIHandler, RequestWorkers  # noqa: E402
from django.urls import re_path  # noqa: E402

from payments.checks import enforce_production_settings  # noqa: E402
from schema.schema import schema  # noqa: E402
from schema.ws_sessions import GraphQLConsumer  # noqa: E402

enforce_production_settings()


class BrowserOriginValidator(OriginValidator):
    """Channels' check of the Origin header against ALLOWED_HOSTS and the
    trusted origins (read per handshake), for browsers only: no Origin, no check."""

    def __init__(self, application):
        super().__init__(application, allowed_origins=())

    def valid_origin(self, parsed_origin):
        self.allowed_origins = [*settings.ALLOWED_HOSTS, *settings.CSRF_TRUSTED_ORIGINS]
        return parsed_origin is None or self.validate_origin(parsed_origin)

application = ProtocolTypeRouter(
    {
        "http": RequestWorkers(OneHopASGIHandler(), settings.HTTP_MAX_CONCURRENT_REQUESTS),
        "websocket": BrowserOriginValidator(
            AuthMiddlewareStack(URLRouter([re_path(r"^graphql/?$", GraphQLConsumer.as_asgi(schema=schema))]))
        ),
    }
)
