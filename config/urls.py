import logging

from cross_web import HTTPException
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponse, JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import ensure_csrf_cookie
from strawberry.django.views import GraphQLView
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from config.client import CLIENT_ROUTE, client_index
from config.emulator import emulator
from payments.health import healthz
from payments.webhooks.views import stripe_webhook
from schema.graphiql import STATIC_URLPATTERNS, OfflineGraphiQL
from schema import public_cache
from schema.schema import schema



logger = logging.getLogger(__name__)

# HTTP status of a refused request -> its extensions.code.
_HTTP_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}


class _RequestRefused(HTTPException):
    def __init__(self, status_code: int, reason: str, code: str) -> None:
        super().__init__(status_code, reason)
        self.code = code


class ProjectGraphQLView(OfflineGraphiQL, GraphQLView):
    """GraphiQL only in DEBUG (read per request, so a test can switch it), offline (schema/graphiql.py).

    A request refused before any GraphQL runs (body not JSON, nested too deeply
    to decode, larger than DATA_UPLOAD_MAX_MEMORY_SIZE, a subscription over
    HTTP, ...) is answered in the GraphQL-over-HTTP error shape,
    ``{"errors": [{"message": ..., "extensions": {"code": ...}}]}``, with its
    4xx status: never Django's HTML error page nor a 500."""

    def dispatch(self, request, *args, **kwargs):
        try:
            return self._cached_or_run(request)
        except HTTPException as refused:
            code = getattr(refused, "code", None) or _HTTP_CODES.get(refused.status_code, "BAD_REQUEST")
            return _json_error(refused.status_code, refused.reason, code)
        except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent) as too_big:
            # Raised by Django when the body is read: its handler would answer an HTML 400.
            logger.warning("GraphQL request refused: %s", too_big)
            return _json_error(413, "The request body is larger than this server accepts.", "PAYLOAD_TOO_LARGE")

    def decode_json(self, data):
        try:
            return super().decode_json(data)
        except RecursionError:
            raise _RequestRefused(400, "The request body is nested too deeply.", "BAD_REQUEST") from None

    def execute_single(self, request, request_adapter, sub_response, context, root_value, request_data):
        """Strawberry's, without subscriptions: this synchronous view cannot stream
        them (Strawberry would run one as a query and answer "Unexpected error")."""
        allowed = OperationType.from_http(request_adapter.method) - {OperationType.SUBSCRIPTION}
        if not self.allow_queries_via_get and request_adapter.method == "GET":
            allowed -= {OperationType.QUERY}
        try:
            return self.schema.execute_sync(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.SUBSCRIPTION:
                raise _RequestRefused(
                    400,
                    "Subscriptions need a WebSocket: connect to this URL with ws:// or wss:// "
                    "(protocol graphql-transport-ws).",
                    "SUBSCRIPTION_NEEDS_WEBSOCKET",
                ) from error
            raise HTTPException(400, error.as_http_error_reason(request_adapter.method)) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request") from error

    @property
    def graphql_ide(self):
        return "graphiql" if settings.DEBUG else None

    @graphql_ide.setter
    def graphql_ide(self, value):  # as_view() passes it; DEBUG decides
        pass

    def _cached_or_run(self, request):
        """Public catalog queries are answered from schema/public_cache.py
        (serialized once per catalog version); everything else as usual."""
        key = public_cache.key_for(request)
        if key is None:
            return self.run(request=request)
        body = public_cache.get(key)
        if body is not None:
            return HttpResponse(body, content_type="application/json")
        response = self.run(request=request)
        if response.status_code == 200 and response.get("Content-Type") == "application/json":
            public_cache.put(key, response.content)
        return response


def _json_error(status: int, message: str, code: str) -> JsonResponse:
    return JsonResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status=status)


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
    # The Stripe emulator's HTTP face, only while it is active (config/emulator.py).
    path("_emulator/<path:rest>", emulator, name="stripe-emulator"),
    *STATIC_URLPATTERNS,  # GraphiQL's assets, in DEBUG
    # The React client's index.html for / and its routes (config/client.py); last.
    re_path(CLIENT_ROUTE, client_index, name="client"),
]
