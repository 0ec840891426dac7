"""The Emulator: the v1 endpoints the project uses, the customer's side of a
payment (pay, authenticate, settle), Stripe's own later moves (refunds that
settle or fail, Dashboard refunds) and webhook delivery.

The money ledger: a succeeded charge gets a "charge" balance transaction with
the card fee (``objects.card_fee``), a refund a "refund" one (-amount) once it
succeeds, and a refund that fails after succeeding a "refund_failure" one
(+amount). Every balance transaction is available at once, so ``/v1/balance``
is the sum of their nets per currency, with nothing pending.

Billing: a subscription (one recurring price) is created with its first
invoice finalized at once and a PaymentIntent to pay it; the intent carries no
``invoice`` (API endive), the invoice_payment objects link the two. Whatever
moves an invoice's intent (the confirm endpoint, ``pay``, ``authenticate``)
moves the invoice and its subscription too (``_invoice_follows``).
``advance_subscription`` plays a test clock reaching the period's end.

Checkout: a session (hosted page, one price, quantity 1) is only a promise
until its customer pays the page (``complete_checkout``): then, and not
before, its PaymentIntent (payment mode) or its subscription with the first
invoice (subscription mode) is made and paid through the code above, and the
session is ``complete`` (``checkout.session.completed``). A delayed method
completes it ``unpaid`` until ``settle_checkout`` (the ``async_payment_*``
events). Sessions expire only through the expire endpoint or
``expire_checkout``: the emulator has no clock.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlsplit

import stripe.params as sp

from . import objects
from .delivery import HttpSender, Sender, signed_request
from .forms import decode_form
from .objects import (
    AUTHENTICATION_REQUIRED,
    GENERIC_DECLINE,
    REFUND_FAILS,
    REFUND_PENDING,
    REQUIRES_3DS,
    Decline,
)
from .params import ParamsError
from .params import check as check_params
from .store import IdempotentResult, Store, StoredEvent, Tx

Params = dict[str, Any]
StripeObject = dict[str, Any]

_CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
_CANCELABLE = (*_CONFIRMABLE, "requires_capture", "processing")
_CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
_REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
# Refunds that hold part of the charge's amount; failed and canceled ones give it back.
_REFUNDING = ("pending", "requires_action", "succeeded")
_FAULT_KINDS = ("connection_error", "timeout", "500", "429")
_FAULT_ERRORS = {
    "500": {"type": "api_error", "message": "An unknown error occurred."},
    "429": {
        "type": "rate_limit_error",
        "code": "rate_limit",
        "message": "Too many requests hit the API too quickly.",
    },
}
# How Stripe names a resource in "No such ...".
_NAMES = {"payment_method": "PaymentMethod", "webhook_endpoint": "webhook endpoint"}
_PAYMENT_BEHAVIORS = ("allow_incomplete", "default_incomplete", "error_if_incomplete")
_SUBSCRIPTION_STATUSES = (
    *("active", "canceled", "incomplete", "incomplete_expired"),
    *("past_due", "paused", "trialing", "unpaid"),
)
_ENDED = ("canceled", "incomplete_expired")
_CHECKOUT_MODES = ("payment", "setup", "subscription")
_CHECKOUT_STATUSES = ("complete", "expired", "open")
# What a session keeps of its create request beyond its own fields (line_items is
# includable only; payment_intent_data and subscription_data are not on it at all).
_CHECKOUT_REQUEST = "emulator.checkout_session_request"
_INVOICE_INCLUDABLE = ("confirmation_secret", "payments")  # on the invoice only when expanded
# The moves of an invoice's PaymentIntent that the invoice (and its subscription) follow.
_INVOICE_FOLLOWS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.requires_action",
)


class EmulatorConnectionError(Exception):
    """The request got no answer; the gateway turns it into stripe's APIConnectionError."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class ApiError(Exception):
    """A Stripe error response: ``error`` is the body's ``error`` object."""

    def __init__(
        self, status: int, message: str, *, error_type: str = "invalid_request_error", **fields: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error: dict[str, Any] = {"type": error_type, "message": message, **fields}


def _missing(resource: str, object_id: str, param: str = "id") -> ApiError:
    name = _NAMES.get(resource, resource)
    return ApiError(404, f"No such {name}: '{object_id}'", code="resource_missing", param=param)


def _parameter_missing(param: str) -> ApiError:
    return ApiError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def _parameter_unknown(param: str) -> ApiError:
    return ApiError(
        400, f"Received unknown parameter: {param}", code="parameter_unknown", param=param
    )


def _unexpected_state(intent: StripeObject, action: str) -> ApiError:
    return ApiError(
        400,
        f"You cannot {action} this PaymentIntent because it has a status of {intent['status']}.",
        code="payment_intent_unexpected_state",
        payment_intent=intent,
    )


def _subscription_state(sub: StripeObject, action: str) -> ApiError:
    return ApiError(
        400, f"You cannot {action} this subscription because it has a status of {sub['status']}."
    )


def _doc_url(code: str) -> str:
    return f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"


def _int(params: Params, name: str, *, param: str | None = None, default: int | None = None) -> int:
    value = params.get(name)
    if value is None or value == "":
        if default is None:
            raise _parameter_missing(param or name)
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(
            400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=param or name
        ) from None


def _limit(params: Params) -> int:
    limit = _int(params, "limit", default=10)
    if not 1 <= limit <= 100:
        raise ApiError(400, "Invalid limit: must be between 1 and 100", param="limit")
    return limit


def _bool(params: Params, name: str) -> bool:
    return str(params.get(name, "")).lower() == "true"


def _filters(params: Params, *names: str) -> dict[str, Any]:
    """Stripe's equality filters among ``names`` that ``params`` sets; ``active`` is a
    boolean, compared as SQLite reads a JSON true (1)."""
    found = {name: params[name] for name in names if params.get(name)}
    if "active" in found:
        found["active"] = int(_bool(params, "active"))
    return found


def _metadata(current: dict[str, str], params: Params) -> dict[str, str]:
    """Stripe merges metadata; an empty value unsets a key, ``metadata=`` unsets all."""
    value = params.get("metadata")
    if value is None:
        return current
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise ApiError(400, "Invalid object", param="metadata")
    return {key: v for key, v in {**current, **value}.items() if v != ""}


@dataclass(frozen=True)
class _Route:
    method: str
    path: str
    pattern: re.Pattern[str]
    handler: str
    # What Stripe accepts there, at the library's pinned API version (params.py).
    params: type


def _route(method: str, path: str, handler: str, params: type) -> _Route:
    pattern = re.compile(path.replace("{id}", "([^/]+)"))
    return _Route(method, path, pattern, handler, params)


# Each emulated endpoint and stripe-python's request params class for it: the
# emulator accepts the parameters that class declares, and refuses others as
# Stripe does (the only hand-written part of what an endpoint accepts).
_ROUTES = (
    _route("POST", "/v1/customers", "_create_customer", sp.CustomerCreateParams),
    _route("GET", "/v1/customers/{id}", "_get_customer", sp.CustomerRetrieveParams),
    _route("POST", "/v1/customers/{id}", "_update_customer", sp.CustomerUpdateParams),
    _route("POST", "/v1/payment_methods", "_create_payment_method", sp.PaymentMethodCreateParams),
    _route(
        "GET", "/v1/payment_methods/{id}", "_get_payment_method", sp.PaymentMethodRetrieveParams
    ),
    _route("POST", "/v1/payment_intents", "_create_payment_intent", sp.PaymentIntentCreateParams),
    _route(
        "GET", "/v1/payment_intents/{id}", "_get_payment_intent", sp.PaymentIntentRetrieveParams
    ),
    _route(
        "POST", "/v1/payment_intents/{id}", "_update_payment_intent", sp.PaymentIntentUpdateParams
    ),
    _route(
        "POST",
        "/v1/payment_intents/{id}/confirm",
        "_confirm_payment_intent",
        sp.PaymentIntentConfirmParams,
    ),
    _route(
        "POST",
        "/v1/payment_intents/{id}/cancel",
        "_cancel_payment_intent",
        sp.PaymentIntentCancelParams,
    ),
    _route("GET", "/v1/charges/{id}", "_get_charge", sp.ChargeRetrieveParams),
    _route("POST", "/v1/refunds", "_create_refund", sp.RefundCreateParams),
    _route("GET", "/v1/refunds", "_list_refunds", sp.RefundListParams),
    _route("GET", "/v1/refunds/{id}", "_get_refund", sp.RefundRetrieveParams),
    _route("POST", "/v1/refunds/{id}", "_update_refund", sp.RefundUpdateParams),
    _route("POST", "/v1/refunds/{id}/cancel", "_cancel_refund", sp.RefundCancelParams),
    _route(
        "GET",
        "/v1/balance_transactions",
        "_list_balance_transactions",
        sp.BalanceTransactionListParams,
    ),
    _route(
        "GET",
        "/v1/balance_transactions/{id}",
        "_get_balance_transaction",
        sp.BalanceTransactionRetrieveParams,
    ),
    _route("GET", "/v1/balance", "_get_balance", sp.BalanceRetrieveParams),
    _route("GET", "/v1/events", "_list_events", sp.EventListParams),
    _route("GET", "/v1/events/{id}", "_get_event", sp.EventRetrieveParams),
    _route("POST", "/v1/products", "_create_product", sp.ProductCreateParams),
    _route("GET", "/v1/products", "_list_products", sp.ProductListParams),
    _route("GET", "/v1/products/{id}", "_get_product", sp.ProductRetrieveParams),
    _route("POST", "/v1/products/{id}", "_update_product", sp.ProductUpdateParams),
    _route("POST", "/v1/prices", "_create_price", sp.PriceCreateParams),
    _route("GET", "/v1/prices", "_list_prices", sp.PriceListParams),
    _route("GET", "/v1/prices/{id}", "_get_price", sp.PriceRetrieveParams),
    _route("POST", "/v1/prices/{id}", "_update_price", sp.PriceUpdateParams),
    _route("POST", "/v1/subscriptions", "_create_subscription", sp.SubscriptionCreateParams),
    _route("GET", "/v1/subscriptions", "_list_subscriptions", sp.SubscriptionListParams),
    _route("GET", "/v1/subscriptions/{id}", "_get_subscription", sp.SubscriptionRetrieveParams),
    _route("POST", "/v1/subscriptions/{id}", "_update_subscription", sp.SubscriptionUpdateParams),
    _route("DELETE", "/v1/subscriptions/{id}", "_cancel_subscription", sp.SubscriptionCancelParams),
    _route("GET", "/v1/invoices", "_list_invoices", sp.InvoiceListParams),
    _route("GET", "/v1/invoices/{id}", "_get_invoice", sp.InvoiceRetrieveParams),
    _route(
        "POST", "/v1/checkout/sessions", "_create_checkout_session", sp.checkout.SessionCreateParams
    ),
    _route(
        "GET", "/v1/checkout/sessions", "_list_checkout_sessions", sp.checkout.SessionListParams
    ),
    _route(
        "GET",
        "/v1/checkout/sessions/{id}",
        "_get_checkout_session",
        sp.checkout.SessionRetrieveParams,
    ),
    _route(
        "POST",
        "/v1/checkout/sessions/{id}/expire",
        "_expire_checkout_session",
        sp.checkout.SessionExpireParams,
    ),
    _route(
        "POST", "/v1/webhook_endpoints", "_create_webhook_endpoint", sp.WebhookEndpointCreateParams
    ),
    _route("GET", "/v1/webhook_endpoints", "_list_webhook_endpoints", sp.WebhookEndpointListParams),
    _route(
        "GET",
        "/v1/webhook_endpoints/{id}",
        "_get_webhook_endpoint",
        sp.WebhookEndpointRetrieveParams,
    ),
    _route(
        "POST",
        "/v1/webhook_endpoints/{id}",
        "_update_webhook_endpoint",
        sp.WebhookEndpointUpdateParams,
    ),
    _route(
        "DELETE",
        "/v1/webhook_endpoints/{id}",
        "_delete_webhook_endpoint",
        sp.WebhookEndpointDeleteParams,
    ),
)


class Headers(dict[str, str]):
    """Response headers looked up case-insensitively, as HTTP libraries return them:
    the stripe library reads both ``Request-Id`` and ``stripe-should-retry``."""

    def _key(self, name: str) -> str:
        return next((key for key in self if key.lower() == name.lower()), name)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(self._key(name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(self._key(name))

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(self._key(name), default)


@dataclass
class _Fault:
    kind: str
    path_prefix: str | None
    remaining: int


class Emulator:
    """Stripe, for one test-mode account, with its state in the SQLite file ``db_path``."""

    def __init__(self, *, db_path: str, webhook_secret: str, webhook_url: str) -> None:
        self.db_path = db_path
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self._store = Store(db_path)
        self._faults: list[_Fault] = []
        self._faults_lock = threading.Lock()

    # ------------------------------------------------------------- HTTP

    def handle_http(
        self, method: str, url: str, headers: Mapping[str, str], post_data: str | bytes | None
    ) -> tuple[str, int, Headers]:
        """Answer one API request as Stripe would: (JSON body, status, headers)."""
        method = method.upper()
        parts = urlsplit(url)
        fault = self._take_fault(parts.path)
        if fault == "connection_error":
            raise EmulatorConnectionError(fault)
        if fault in ("500", "429"):
            return self._fault_response(fault)

        body = post_data.decode("utf-8") if isinstance(post_data, bytes) else post_data or ""
        lowered = {name.lower(): value for name, value in headers.items()}
        key = lowered.get("idempotency-key") if method == "POST" else None
        result, replayed = self._execute(method, parts.path, parts.query, body, key)
        if fault == "timeout":  # Stripe did the work; the answer was lost on the way back.
            raise EmulatorConnectionError(fault)
        response_headers = Headers(
            {"Request-Id": result.request_id, "Content-Type": "application/json"}
        )
        if key:
            response_headers["Idempotency-Key"] = key
        if replayed:
            response_headers["Idempotent-Replayed"] = "true"
        return result.body, result.status, response_headers

    def _execute(
        self, method: str, path: str, query: str, body: str, key: str | None
    ) -> tuple[IdempotentResult, bool]:
        """Run the request, or replay what this idempotency key got the first time."""
        pairs = sorted(
            parse_qsl(query, keep_blank_values=True) + parse_qsl(body, keep_blank_values=True)
        )
        fingerprint = hashlib.sha256(json.dumps([method, path, pairs]).encode()).hexdigest()
        request_id = objects.new_id("req")
        with self._store.transaction({"id": request_id, "idempotency_key": key}) as tx:
            stored = tx.idempotent_result(key) if key else None
            if stored is not None and stored.fingerprint == fingerprint:
                return stored, True
            if stored is not None:
                message = (
                    "Keys for idempotent requests can only be used with the same parameters they"
                    f" were first used with. Try using a key other than '{key}' if you meant to"
                    " execute a different request."
                )
                error = {"error": {"type": "idempotency_error", "message": message}}
                return IdempotentResult(fingerprint, 400, json.dumps(error), request_id), False
            status, response = self._dispatch(tx, method, path, query, body)
            result = IdempotentResult(fingerprint, status, json.dumps(response), request_id)
            if key and status < 500:
                tx.remember(key, result)
            return result, False

    def _dispatch(
        self, tx: Tx, method: str, path: str, query: str, body: str
    ) -> tuple[int, StripeObject]:
        try:
            route, path_args = self._match(method, path)
            try:
                params = {**decode_form(query), **decode_form(body)}
            except ValueError as exc:
                raise ApiError(400, str(exc)) from None
            try:  # what Stripe refuses before the endpoint runs
                check_params(route.params, params)
            except ParamsError as exc:
                unknown = exc.code == "parameter_unknown"
                raise (_parameter_unknown if unknown else _parameter_missing)(exc.param) from None
            found = getattr(self, route.handler)(tx, params, *path_args)
            return 200, self._expand(tx, found, params.get("expand") or [])
        except ApiError as exc:
            return exc.status, {"error": self._with_log_url(tx, exc.error)}

    @staticmethod
    def _match(method: str, path: str) -> tuple[_Route, tuple[str, ...]]:
        for route in _ROUTES:
            match = route.pattern.fullmatch(path)
            if match and route.method == method:
                return route, match.groups()
        raise ApiError(404, f"Unrecognized request URL ({method}: {path}).")

    @staticmethod
    def _with_log_url(tx: Tx, error: dict[str, Any]) -> dict[str, Any]:
        request_id = tx.request["id"]
        if request_id:
            error.setdefault(
                "request_log_url", f"https://dashboard.stripe.com/test/logs/{request_id}"
            )
        return error

    def _expand(self, tx: Tx, found: StripeObject, paths: list[str]) -> StripeObject:
        for path in paths:
            self._expand_path(tx, found, path.split("."), path)
        return found

    def _expand_path(self, tx: Tx, node: StripeObject, parts: list[str], path: str) -> None:
        if node.get("object") == "list" and parts[0] == "data":
            for item in node["data"]:
                self._expand_path(tx, item, parts[1:], path)
            return
        field, rest = parts[0], parts[1:]
        refused = ApiError(400, f"This property cannot be expanded ({path}).")
        if node.get("object") == "invoice" and field in _INVOICE_INCLUDABLE:
            node[field] = self._included(tx, node["id"], field)
        if field not in node:
            raise refused
        value = node[field]
        if isinstance(value, str):
            value = node[field] = tx.get(value)
            if value is None:
                raise refused
        elif value is not None and not isinstance(value, dict):
            raise refused
        if rest and value is not None:
            self._expand_path(tx, value, rest, path)

    # -------------------------------------------------------- resources

    @staticmethod
    def _load(tx: Tx, resource: str, object_id: str, param: str = "id") -> StripeObject:
        found = tx.get(object_id)
        if found is None or found["object"] != resource:
            raise _missing(resource, object_id, param)
        return found

    def _create_customer(self, tx: Tx, params: Params) -> StripeObject:
        return self._save_customer(tx, objects.customer(), params, "customer.created")

    def _get_customer(self, tx: Tx, params: Params, customer_id: str) -> StripeObject:
        return self._load(tx, "customer", customer_id)

    def _update_customer(self, tx: Tx, params: Params, customer_id: str) -> StripeObject:
        customer = self._load(tx, "customer", customer_id)
        return self._save_customer(tx, customer, params, "customer.updated")

    @staticmethod
    def _save_customer(tx: Tx, customer: StripeObject, params: Params, event: str) -> StripeObject:
        customer["metadata"] = _metadata(customer["metadata"], params)
        for field in ("email", "name", "phone", "description"):
            if field in params:
                customer[field] = params[field] or None
        tx.put(customer)
        tx.emit(event, customer)
        return customer

    def _create_payment_method(self, tx: Tx, params: Params) -> StripeObject:
        if not params.get("type"):
            raise _parameter_missing("type")
        if params["type"] != "card":
            raise ApiError(
                400, "The Stripe emulator supports only card payment methods.", param="type"
            )
        card = params.get("card")
        if not isinstance(card, dict):
            raise _parameter_missing("card")
        if not card.get("number"):
            raise _parameter_missing("card[number]")
        return self._create_card(
            tx,
            str(card["number"]),
            exp_month=_int(card, "exp_month", param="card[exp_month]"),
            exp_year=_int(card, "exp_year", param="card[exp_year]"),
            cvc=card.get("cvc") or None,
            metadata=_metadata({}, params),
        )

    @staticmethod
    def _create_card(
        tx: Tx,
        number: str,
        *,
        exp_month: int,
        exp_year: int,
        cvc: str | None,
        metadata: dict[str, str],
    ) -> StripeObject:
        number = number.replace(" ", "")
        if not objects.luhn_valid(number):
            raise ApiError(
                402,
                "Your card number is incorrect.",
                error_type="card_error",
                code="incorrect_number",
                param="number",
                doc_url=_doc_url("incorrect_number"),
            )
        method = objects.payment_method(number, exp_month, exp_year, cvc)
        method["metadata"] = metadata
        return tx.put(method)

    def _get_payment_method(self, tx: Tx, params: Params, method_id: str) -> StripeObject:
        return self._payment_method(tx, method_id, param="id")

    def _payment_method(
        self, tx: Tx, method_id: str, param: str = "payment_method"
    ) -> StripeObject:
        """An existing PaymentMethod, or a new one for a test id such as ``pm_card_visa``."""
        number = objects.TEST_PAYMENT_METHODS.get(method_id)
        if number is None:
            return self._load(tx, "payment_method", method_id, param)
        return self._test_card(tx, number)

    def _test_card(self, tx: Tx, number: str) -> StripeObject:
        year = time.gmtime().tm_year + 3
        return self._create_card(tx, number, exp_month=12, exp_year=year, cvc="123", metadata={})

    def _create_payment_intent(self, tx: Tx, params: Params) -> StripeObject:
        amount = _int(params, "amount")
        if amount < 1:
            raise ApiError(
                400,
                "This value must be greater than or equal to 1.",
                code="parameter_invalid_integer",
                param="amount",
            )
        if not params.get("currency"):
            raise _parameter_missing("currency")
        if params.get("customer"):
            self._load(tx, "customer", params["customer"], param="customer")
        confirm = _bool(params, "confirm")
        if confirm and not params.get("payment_method"):
            raise _parameter_missing("payment_method")
        metadata = _metadata({}, params)
        method = (
            self._payment_method(tx, params["payment_method"])
            if params.get("payment_method")
            else None
        )
        automatic = params.get("automatic_payment_methods")
        intent = objects.payment_intent(
            amount=amount,
            currency=str(params["currency"]).lower(),
            customer=params.get("customer") or None,
            description=params.get("description") or None,
            receipt_email=params.get("receipt_email") or None,
            allowed_payment_method_types=self._allowed_types(params),
            automatic_payment_methods=isinstance(automatic, dict) and _bool(automatic, "enabled"),
        )
        intent["metadata"] = metadata
        if method is not None:
            intent.update(payment_method=method["id"], status="requires_confirmation")
        tx.put(intent)
        tx.emit("payment_intent.created", intent)
        if confirm:  # with the PaymentMethod resolved above, not a second one for a test id
            return self._confirm(tx, intent, {**params, "payment_method": intent["payment_method"]})
        return intent

    @staticmethod
    def _allowed_types(params: Params) -> list[str] | None:
        """``allowed_payment_method_types`` (API endive; payment_method_types is no
        longer a create parameter), or None for Stripe's choice (card, here)."""
        types = params.get("allowed_payment_method_types")
        if types in (None, ""):
            return None
        if not isinstance(types, list) or not all(isinstance(t, str) and t for t in types):
            raise ApiError(400, "Invalid array", param="allowed_payment_method_types")
        return types

    def _get_payment_intent(self, tx: Tx, params: Params, intent_id: str) -> StripeObject:
        return self._load(tx, "payment_intent", intent_id)

    def _update_payment_intent(self, tx: Tx, params: Params, intent_id: str) -> StripeObject:
        """Stripe has no payment_intent.updated event; an update clears last_payment_error."""
        intent = self._load(tx, "payment_intent", intent_id)
        intent["metadata"] = _metadata(intent["metadata"], params)
        for field in ("description", "receipt_email"):
            if field in params:
                intent[field] = params[field] or None
        intent["last_payment_error"] = None
        return tx.put(intent)

    def _confirm_payment_intent(self, tx: Tx, params: Params, intent_id: str) -> StripeObject:
        return self._confirm(tx, self._load(tx, "payment_intent", intent_id), params)

    def _cancel_payment_intent(self, tx: Tx, params: Params, intent_id: str) -> StripeObject:
        intent = self._load(tx, "payment_intent", intent_id)
        reason = params.get("cancellation_reason") or None
        if reason is not None and reason not in _CANCELLATION_REASONS:
            raise ApiError(
                400,
                f"Invalid cancellation_reason: must be one of {', '.join(_CANCELLATION_REASONS)}",
                param="cancellation_reason",
            )
        if intent["status"] not in _CANCELABLE:
            raise _unexpected_state(intent, "cancel")
        if self._invoice_payment(tx, intent_id):
            raise ApiError(
                400,
                "You cannot cancel this PaymentIntent because it was created by an invoice.",
                code="payment_intent_unexpected_state",
                payment_intent=intent,
            )
        intent.update(canceled_at=objects.now(), cancellation_reason=reason, next_action=None)
        return self._transition(tx, intent, "canceled", "payment_intent.canceled")

    def _list_events(self, tx: Tx, params: Params) -> StripeObject:
        limit = _limit(params)
        before_seq = None
        if params.get("starting_after"):
            before_seq = tx.event_seq(params["starting_after"])
            if before_seq is None:
                raise _missing("event", params["starting_after"], "starting_after")
        created = params.get("created") or {}
        if not isinstance(created, dict):
            created = {"eq": created}
        if set(created) - {"eq", "gt", "gte", "lt", "lte"}:
            raise ApiError(400, "Invalid created: use created[gt|gte|lt|lte]", param="created")
        rows = tx.list_events(
            limit=limit + 1,
            before_seq=before_seq,
            type_pattern=params.get("type") or None,
            created={op: _int(created, op, param=f"created[{op}]") for op in created},
        )
        return {
            "object": "list",
            "data": rows[:limit],
            "has_more": len(rows) > limit,
            "url": "/v1/events",
        }

    def _get_event(self, tx: Tx, params: Params, event_id: str) -> StripeObject:
        return self._load(tx, "event", event_id)

    def _get_charge(self, tx: Tx, params: Params, charge_id: str) -> StripeObject:
        return self._load(tx, "charge", charge_id)

    def _get_balance_transaction(self, tx: Tx, params: Params, txn_id: str) -> StripeObject:
        return self._load(tx, "balance_transaction", txn_id)

    def _list_balance_transactions(self, tx: Tx, params: Params) -> StripeObject:
        return self._list(tx, params, "balance_transaction", _filters(params, "source", "type"))

    @staticmethod
    def _get_balance(tx: Tx, params: Params) -> StripeObject:
        return objects.balance(tx.net_by_currency())

    def _list(
        self,
        tx: Tx,
        params: Params,
        resource: str,
        filters: dict[str, Any],
        keep: Callable[[StripeObject], bool] | None = None,
        *,
        url: str | None = None,
    ) -> StripeObject:
        """A page of ``resource``, newest first: ``filters`` maps a JSON path to the value it
        must equal; ``keep``, when given, filters further. ``url`` defaults to
        ``/v1/<resource>s``."""
        limit = _limit(params)
        after = params.get("starting_after") or None
        if after:
            self._load(tx, resource, after, "starting_after")
        rows = tx.list_objects(
            resource, filters, limit=-1 if keep else limit + 1, starting_after=after
        )
        if keep:
            rows = [row for row in rows if keep(row)]
        return {
            "object": "list",
            "data": rows[:limit],
            "has_more": len(rows) > limit,
            "url": url or f"/v1/{resource}s",
        }

    # ------------------------------------------------------------ refunds

    def _create_refund(self, tx: Tx, params: Params) -> StripeObject:
        """Succeeded at once, or ``pending`` for the refund-pending test card.

        The charge's ``refunds``, ``amount_refunded`` and ``refunded`` count
        pending refunds as Stripe does, but ``charge.refunded`` is sent only
        once a refund has succeeded.
        """
        reason = params.get("reason") or None
        if reason is not None and reason not in _REFUND_REASONS:
            raise ApiError(
                400,
                "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
                param="reason",
            )
        charge = self._charge_to_refund(tx, params)
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining <= 0:
            raise ApiError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = _int(params, "amount", default=remaining)
        if amount < 1:
            raise ApiError(
                400,
                "This value must be greater than or equal to 1.",
                code="parameter_invalid_integer",
                param="amount",
            )
        if amount > remaining:
            currency = charge["currency"]
            raise ApiError(
                400,
                f"Refund amount ({objects.format_amount(amount, currency)}) is greater than"
                f" unrefunded amount on charge ({objects.format_amount(remaining, currency)})",
                code="amount_too_large",
                param="amount",
            )
        refund = objects.refund(charge, amount, reason, _metadata({}, params))
        if objects.card_behaviour(charge["payment_method_details"]["card"]) != REFUND_PENDING:
            self._refund_succeeds(tx, refund)
        charge = self._save_refund(tx, refund)
        tx.emit("refund.created", refund)
        if refund["status"] == "succeeded":
            tx.emit("charge.refunded", charge)
        return refund

    def _charge_to_refund(self, tx: Tx, params: Params) -> StripeObject:
        """The succeeded charge named by ``charge``, or by ``payment_intent`` (its latest)."""
        intent_id, charge_id = params.get("payment_intent"), params.get("charge")
        if intent_id:
            intent = self._load(tx, "payment_intent", intent_id, "payment_intent")
            if intent["status"] != "succeeded":
                raise ApiError(
                    400,
                    f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                    code="payment_intent_unexpected_state",
                    payment_intent=intent,
                )
            if charge_id and charge_id != intent["latest_charge"]:
                raise ApiError(
                    400,
                    f"The charge {charge_id} is not the PaymentIntent {intent_id}'s charge.",
                    param="charge",
                )
            charge_id = intent["latest_charge"]
        if not charge_id:
            raise ApiError(
                400,
                "One of the following params should be provided for this request:"
                " payment_intent or charge.",
                code="parameter_missing",
            )
        charge = self._load(tx, "charge", charge_id, "charge")
        if charge["status"] != "succeeded":
            raise ApiError(
                400,
                f"Charge {charge_id} has not succeeded and cannot be refunded.",
                code="charge_not_refundable",
                param="charge",
            )
        return charge

    def _get_refund(self, tx: Tx, params: Params, refund_id: str) -> StripeObject:
        return self._load(tx, "refund", refund_id)

    def _list_refunds(self, tx: Tx, params: Params) -> StripeObject:
        return self._list(tx, params, "refund", _filters(params, "payment_intent", "charge"))

    def _update_refund(self, tx: Tx, params: Params, refund_id: str) -> StripeObject:
        refund = self._load(tx, "refund", refund_id)
        refund["metadata"] = _metadata(refund["metadata"], params)
        self._save_refund(tx, refund)
        self._refund_updated(tx, refund)
        return refund

    def _cancel_refund(self, tx: Tx, params: Params, refund_id: str) -> StripeObject:
        """Only a refund waiting for the customer can be canceled; card refunds never do."""
        refund = self._load(tx, "refund", refund_id)
        if refund["status"] != "requires_action":
            raise ApiError(
                400,
                f"You cannot cancel this refund because it has a status of {refund['status']}."
                " Only a refund with a status of requires_action can be canceled.",
            )
        refund["status"] = "canceled"
        self._save_refund(tx, refund)
        self._refund_updated(tx, refund)
        return refund

    @staticmethod
    def _refund_succeeds(tx: Tx, refund: StripeObject) -> None:
        txn = objects.balance_transaction(
            refund["id"], -refund["amount"], refund["currency"], type_="refund"
        )
        refund.update(status="succeeded", balance_transaction=tx.put(txn)["id"])

    def _save_refund(self, tx: Tx, refund: StripeObject) -> StripeObject:
        """Store ``refund`` and bring its charge's refund totals up to date; returns the charge."""
        tx.put(refund)
        charge = self._load(tx, "charge", refund["charge"])
        refunds = tx.list_objects("refund", {"charge": charge["id"]})
        refunding = sum(r["amount"] for r in refunds if r["status"] in _REFUNDING)
        charge.update(amount_refunded=refunding, refunded=refunding == charge["amount"])
        charge["refunds"]["data"] = refunds
        return tx.put(charge)

    @staticmethod
    def _refund_updated(tx: Tx, refund: StripeObject) -> None:
        tx.emit("refund.updated", refund)
        tx.emit("charge.refund.updated", refund)  # the legacy event, sent on later changes only

    # ------------------------------------------------ products and prices

    def _create_product(self, tx: Tx, params: Params) -> StripeObject:
        if not params.get("name"):
            raise _parameter_missing("name")
        product = self._apply_product(objects.product(params["name"]), params)
        tx.put(product)
        tx.emit("product.created", product)
        return product

    def _get_product(self, tx: Tx, params: Params, product_id: str) -> StripeObject:
        return self._load(tx, "product", product_id)

    def _update_product(self, tx: Tx, params: Params, product_id: str) -> StripeObject:
        product = self._apply_product(self._load(tx, "product", product_id), params)
        product["updated"] = objects.now()
        return self._save_changes(tx, product, "product.updated")

    @staticmethod
    def _apply_product(product: StripeObject, params: Params) -> StripeObject:
        product["metadata"] = _metadata(product["metadata"], params)
        if params.get("name"):
            product["name"] = params["name"]
        if "description" in params:
            product["description"] = params["description"] or None
        if "active" in params:
            product["active"] = _bool(params, "active")
        return product

    def _list_products(self, tx: Tx, params: Params) -> StripeObject:
        return self._list(tx, params, "product", _filters(params, "active"))

    def _create_price(self, tx: Tx, params: Params) -> StripeObject:
        if not params.get("product"):
            raise _parameter_missing("product")
        self._load(tx, "product", params["product"], "product")
        if not params.get("currency"):
            raise _parameter_missing("currency")
        amount = _int(params, "unit_amount")
        if amount < 0:
            raise ApiError(
                400,
                "This value must be greater than or equal to 0.",
                code="parameter_invalid_integer",
                param="unit_amount",
            )
        recurring = params.get("recurring")
        price = objects.price(
            params["product"],
            str(params["currency"]).lower(),
            amount,
            None if recurring is None else self._recurring(recurring),
        )
        price["lookup_key"] = params.get("lookup_key") or None
        self._apply_price(price, params)
        tx.put(price)
        tx.emit("price.created", price)
        return price

    @staticmethod
    def _recurring(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ApiError(400, "Invalid object", param="recurring")
        if not value.get("interval"):
            raise _parameter_missing("recurring[interval]")
        if value["interval"] not in objects.INTERVALS:
            raise ApiError(
                400,
                "Invalid recurring[interval]: must be one of day, week, month, or year",
                param="recurring[interval]",
            )
        count = _int(value, "interval_count", param="recurring[interval_count]", default=1)
        if count < 1:
            raise ApiError(
                400,
                "This value must be greater than or equal to 1.",
                code="parameter_invalid_integer",
                param="recurring[interval_count]",
            )
        return {"interval": value["interval"], "interval_count": count}

    def _get_price(self, tx: Tx, params: Params, price_id: str) -> StripeObject:
        return self._load(tx, "price", price_id)

    def _update_price(self, tx: Tx, params: Params, price_id: str) -> StripeObject:
        """Only these fields: the route refuses unit_amount or currency, as Stripe does."""
        price = self._apply_price(self._load(tx, "price", price_id), params)
        return self._save_changes(tx, price, "price.updated")

    @staticmethod
    def _apply_price(price: StripeObject, params: Params) -> StripeObject:
        price["metadata"] = _metadata(price["metadata"], params)
        if "nickname" in params:
            price["nickname"] = params["nickname"] or None
        if "active" in params:
            price["active"] = _bool(params, "active")
        return price

    def _list_prices(self, tx: Tx, params: Params) -> StripeObject:
        return self._list(tx, params, "price", _filters(params, "product", "active", "type"))

    @staticmethod
    def _save_changes(tx: Tx, obj: StripeObject, event: str, *first: str) -> StripeObject:
        """Store ``obj``; when it changed since the last event about it, send ``first``,
        then ``event`` with Stripe's previous_attributes: the changed fields, as they were."""
        last = tx.last_snapshot(obj["id"]) or {}
        previous = {key: value for key, value in last.items() if obj.get(key) != value}
        tx.put(obj)
        if previous:
            for other in first:
                tx.emit(other, obj)
            tx.emit(event, obj, previous)
        return obj

    # ------------------------------------------- subscriptions, invoices

    def _create_subscription(self, tx: Tx, params: Params) -> StripeObject:
        """One item of quantity 1. The first invoice is finalized at once; unless
        ``payment_behavior`` is default_incomplete, it is paid off the default payment
        method if there is one. error_if_incomplete undoes everything unless that pays."""
        if not params.get("customer"):
            raise _parameter_missing("customer")
        customer = self._load(tx, "customer", params["customer"], "customer")
        price = self._subscription_price(tx, params.get("items"))
        behavior = params.get("payment_behavior") or "allow_incomplete"
        if behavior not in _PAYMENT_BEHAVIORS:
            raise ApiError(
                400,
                f"Invalid payment_behavior: must be one of {', '.join(_PAYMENT_BEHAVIORS)}",
                param="payment_behavior",
            )
        settings = params.get("payment_settings") or {}
        save = settings.get("save_default_payment_method") if isinstance(settings, dict) else None
        unsupported = set(settings) - {"save_default_payment_method"}
        if unsupported or save not in (None, "off", "on_subscription"):
            raise ApiError(
                400,
                "The Stripe emulator supports only"
                " payment_settings[save_default_payment_method]=on_subscription or off.",
                param="payment_settings",
            )
        sub = objects.subscription(customer["id"], price, save_default_payment_method=save or "off")
        sub["metadata"] = _metadata({}, params)
        if params.get("default_payment_method"):
            method = self._payment_method(
                tx, params["default_payment_method"], "default_payment_method"
            )
            sub["default_payment_method"] = method["id"]
        if _bool(params, "cancel_at_period_end"):
            self._set_cancel_at_period_end(sub, True)
        if behavior != "error_if_incomplete":
            return self._start_subscription(tx, sub, customer, behavior, params)
        try:
            with tx.savepoint():
                sub = self._start_subscription(tx, sub, customer, behavior, params)
                if sub["status"] != "active":
                    raise ApiError(
                        402,
                        "This payment requires additional user action before it can be"
                        " completed successfully.",
                        code="invoice_payment_intent_requires_action",
                    )
        except ApiError as exc:  # nothing of it is left, as with Stripe
            for key in ("charge", "payment_intent"):
                exc.error.pop(key, None)
            raise
        return sub

    def _subscription_price(self, tx: Tx, items: Any) -> StripeObject:
        if not items:
            raise _parameter_missing("items")
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ApiError(400, "Invalid array", param="items")
        if len(items) != 1:
            raise ApiError(
                400, "The Stripe emulator supports subscriptions of one item.", param="items"
            )
        if str(items[0].get("quantity", 1)) != "1":
            raise ApiError(
                400, "The Stripe emulator supports a quantity of 1.", param="items[0][quantity]"
            )
        if not items[0].get("price"):
            raise _parameter_missing("items[0][price]")
        price = self._load(tx, "price", items[0]["price"], "items[0][price]")
        if price["type"] != "recurring":
            raise ApiError(
                400,
                "The price specified is set to `type=one_time` but this field only accepts"
                " prices with `type=recurring`.",
                param="items[0][price]",
            )
        if not price["active"]:
            raise ApiError(
                400,
                "The price specified is inactive. This field only accepts active prices.",
                param="items[0][price]",
            )
        return price

    def _start_subscription(
        self, tx: Tx, sub: StripeObject, customer: StripeObject, behavior: str, params: Params
    ) -> StripeObject:
        created = sub["created"]
        invoice = self._draft_invoice(tx, sub, customer, "subscription_create", (created, created))
        sub["latest_invoice"] = invoice["id"]
        tx.put(sub)
        tx.emit("customer.subscription.created", sub)
        intent = self._open_invoice(tx, invoice, customer, sub)
        method_id = (
            sub["default_payment_method"] or customer["invoice_settings"]["default_payment_method"]
        )
        if behavior != "default_incomplete" and method_id:
            confirm = {"payment_method": method_id, "off_session": params.get("off_session")}
            try:
                self._confirm(tx, intent, confirm)
            except ApiError as exc:
                if behavior == "error_if_incomplete" or exc.error["type"] != "card_error":
                    raise
        elif behavior == "error_if_incomplete":
            raise ApiError(
                400,
                "This customer has no attached payment source or default payment method."
                " Please consider adding a default payment method.",
            )
        return self._load(tx, "subscription", sub["id"])

    def _draft_invoice(
        self,
        tx: Tx,
        sub: StripeObject,
        customer: StripeObject,
        billing_reason: str,
        period: tuple[int, int],
    ) -> StripeObject:
        product = self._load(tx, "product", sub["items"]["data"][0]["price"]["product"])
        return objects.invoice(sub, customer, product, billing_reason=billing_reason, period=period)

    @staticmethod
    def _open_invoice(
        tx: Tx, invoice: StripeObject, customer: StripeObject, sub: StripeObject
    ) -> StripeObject:
        """Store the draft, then finalize it at once as Stripe does a subscription's:
        numbered, open, and with the PaymentIntent that pays it, which it returns."""
        tx.put(invoice)
        tx.emit("invoice.created", invoice)
        finalized = objects.now()
        invoice.update(
            status="open",
            number=f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}",
            hosted_invoice_url=f"https://invoice.stripe.com/i/emulated/{invoice['id']}",
            invoice_pdf=f"https://pay.stripe.com/invoice/{invoice['id']}/pdf",
            effective_at=finalized,
            ending_balance=0,
        )
        invoice["status_transitions"]["finalized_at"] = finalized
        customer["next_invoice_sequence"] += 1
        tx.put(customer)
        intent = objects.payment_intent(
            amount=invoice["amount_due"],
            currency=invoice["currency"],
            customer=customer["id"],
            description=(
                "Subscription creation"
                if invoice["billing_reason"] == "subscription_create"
                else "Subscription update"
            ),
            receipt_email=None,
            allowed_payment_method_types=None,
            automatic_payment_methods=False,
        )
        if sub["payment_settings"]["save_default_payment_method"] == "on_subscription":
            intent["setup_future_usage"] = "off_session"
        tx.put(intent)
        tx.put(objects.invoice_payment(invoice, intent["id"]))
        tx.put(invoice)
        tx.emit("invoice.finalized", invoice)
        tx.emit("payment_intent.created", intent)
        return intent

    @staticmethod
    def _invoice_payment(tx: Tx, intent_id: str) -> StripeObject | None:
        """The invoice payment of the PaymentIntent: endive's intent has no ``invoice``."""
        found = tx.list_objects("invoice_payment", {"payment.payment_intent": intent_id})
        return found[0] if found else None

    def _invoice_follows(self, tx: Tx, intent: StripeObject, event: str) -> None:
        """The PaymentIntent moved (``event``): its invoice, if any, and the invoice's
        subscription follow. A payment makes the subscription active again."""
        payment = self._invoice_payment(tx, intent["id"])
        if payment is None:
            return
        invoice = self._load(tx, "invoice", payment["invoice"])
        if event == "payment_intent.requires_action":
            tx.emit("invoice.payment_action_required", invoice)
            return
        sub = self._load(
            tx, "subscription", invoice["parent"]["subscription_details"]["subscription"]
        )
        invoice.update(attempted=True, attempt_count=invoice["attempt_count"] + 1)
        if event == "payment_intent.payment_failed":
            tx.put(invoice)
            tx.emit("invoice.payment_failed", invoice)
            if sub["status"] == "active":
                sub["status"] = "past_due"
        else:
            paid_at = objects.now()
            invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0)
            invoice["status_transitions"]["paid_at"] = paid_at
            payment.update(status="paid", amount_paid=invoice["amount_due"])
            payment["status_transitions"]["paid_at"] = paid_at
            tx.put(payment)
            tx.put(invoice)
            tx.emit("invoice.payment_succeeded", invoice)
            tx.emit("invoice.paid", invoice)
            if sub["status"] in ("incomplete", "past_due"):
                sub["status"] = "active"
            saves = sub["payment_settings"]["save_default_payment_method"] == "on_subscription"
            if saves and sub["status"] not in _ENDED:
                sub["default_payment_method"] = intent["payment_method"]
        self._save_changes(tx, sub, "customer.subscription.updated")

    @staticmethod
    def _included(tx: Tx, invoice_id: str, field: str) -> StripeObject | None:
        """An invoice's includable ``payments`` or ``confirmation_secret``."""
        payments = tx.list_objects("invoice_payment", {"invoice": invoice_id})
        if field == "payments":
            return {
                "object": "list",
                "data": payments,
                "has_more": False,
                "url": f"/v1/invoice_payments?invoice={invoice_id}",
            }
        default = next((payment for payment in payments if payment["is_default"]), None)
        if default is None:
            return None
        intent = tx.get(default["payment"]["payment_intent"]) or {}
        return {"client_secret": intent.get("client_secret"), "type": "payment_intent"}

    def _get_subscription(self, tx: Tx, params: Params, sub_id: str) -> StripeObject:
        return self._load(tx, "subscription", sub_id)

    def _list_subscriptions(self, tx: Tx, params: Params) -> StripeObject:
        """Without ``status``, those not ended, as Stripe lists them; ``all``: every one."""
        status = params.get("status") or None
        if status not in (None, "all", "ended", *_SUBSCRIPTION_STATUSES):
            raise ApiError(
                400,
                f"Invalid status: must be one of all, ended, {', '.join(_SUBSCRIPTION_STATUSES)}",
                param="status",
            )
        filters = _filters(params, "customer")
        if params.get("price"):
            filters["items.data[0].price.id"] = params["price"]
        keep = None
        if status in (None, "ended"):
            keep = lambda sub: (sub["status"] in _ENDED) == (status == "ended")  # noqa: E731
        elif status != "all":
            filters["status"] = status
        return self._list(tx, params, "subscription", filters, keep)

    def _update_subscription(self, tx: Tx, params: Params, sub_id: str) -> StripeObject:
        sub = self._load(tx, "subscription", sub_id)
        if "cancel_at_period_end" in params:
            if sub["status"] in _ENDED:
                raise ApiError(
                    400,
                    "A canceled subscription can only update its cancellation_details and"
                    " metadata.",
                )
            self._set_cancel_at_period_end(sub, _bool(params, "cancel_at_period_end"))
        sub["metadata"] = _metadata(sub["metadata"], params)
        return self._save_changes(tx, sub, "customer.subscription.updated")

    @staticmethod
    def _set_cancel_at_period_end(sub: StripeObject, cancel: bool) -> None:
        """Stripe's canceled_at is when the cancellation was asked for, not when it ends."""
        period_end = sub["items"]["data"][0]["current_period_end"]
        sub.update(
            cancel_at_period_end=cancel,
            cancel_at=period_end if cancel else None,
            canceled_at=objects.now() if cancel else None,
        )
        sub["cancellation_details"]["reason"] = "cancellation_requested" if cancel else None

    def _cancel_subscription(self, tx: Tx, params: Params, sub_id: str) -> StripeObject:
        sub = self._load(tx, "subscription", sub_id)
        if sub["status"] in _ENDED:
            raise ApiError(400, f"This subscription has already ended ({sub['status']}).")
        now = objects.now()
        sub.update(status="canceled", canceled_at=now, ended_at=now)
        sub["cancellation_details"]["reason"] = "cancellation_requested"
        tx.put(sub)
        tx.emit("customer.subscription.deleted", sub)
        return sub

    def _get_invoice(self, tx: Tx, params: Params, invoice_id: str) -> StripeObject:
        return self._load(tx, "invoice", invoice_id)

    def _list_invoices(self, tx: Tx, params: Params) -> StripeObject:
        filters = _filters(params, "customer", "status")
        if params.get("subscription"):
            filters["parent.subscription_details.subscription"] = params["subscription"]
        return self._list(tx, params, "invoice", filters)

    # --------------------------------------------------- checkout sessions

    def _create_checkout_session(self, tx: Tx, params: Params) -> StripeObject:
        """A hosted-page session for one price, quantity 1. Nothing is paid or subscribed
        until the customer completes the page (``complete_checkout``), and Stripe sends
        no event at creation."""
        mode = params.get("mode")
        if not mode:
            raise _parameter_missing("mode")
        if mode not in _CHECKOUT_MODES:
            raise ApiError(
                400, "Invalid mode: must be one of payment, setup, or subscription", param="mode"
            )
        if mode == "setup":
            raise ApiError(
                400,
                "The Stripe emulator supports only payment and subscription mode.",
                param="mode",
            )
        price = self._checkout_price(tx, params.get("line_items"), mode)
        customer = None
        if params.get("customer"):
            customer = self._load(tx, "customer", params["customer"], "customer")
        if not params.get("success_url"):
            raise _parameter_missing("success_url")
        own, other = "payment_intent_data", "subscription_data"
        if mode == "subscription":
            own, other = other, own
        if params.get(other) is not None:
            raise ApiError(400, f"You can not pass `{other}` in `{mode}` mode.", param=other)
        data = params.get(own) or {}
        if not isinstance(data, dict):
            raise ApiError(400, "Invalid object", param=own)
        data_metadata = _metadata({}, data)  # for the PaymentIntent or the subscription
        session = objects.checkout_session(
            mode=mode,
            price=price,
            quantity=1,
            customer_id=customer["id"] if customer else None,
            success_url=params["success_url"],
            cancel_url=params.get("cancel_url") or None,
            allowed_payment_method_types=self._allowed_types(params),
            expires_at=self._checkout_expires_at(params),
        )
        session["client_reference_id"] = params.get("client_reference_id") or None
        session["metadata"] = _metadata({}, params)
        if tx.get(price["id"]) is None:  # an inline price (price_data)
            tx.put(price)
        tx.put(session)
        tx.put(
            {
                "id": f"{session['id']}_request",
                "object": _CHECKOUT_REQUEST,
                "created": session["created"],
                "price": price["id"],
                "quantity": 1,
                "metadata": data_metadata,
            }
        )
        return session

    def _checkout_price(self, tx: Tx, items: Any, mode: str) -> StripeObject:
        if not items:
            raise _parameter_missing("line_items")
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ApiError(400, "Invalid array", param="line_items")
        if len(items) != 1:
            raise ApiError(
                400,
                "The Stripe emulator supports Checkout Sessions of one line item.",
                param="line_items",
            )
        if items[0].get("price") and items[0].get("price_data"):
            raise ApiError(
                400,
                "You may only specify one of these parameters: price, price_data.",
                param="line_items[0][price_data]",
            )
        if items[0].get("price_data"):
            price = self._inline_price(tx, items[0]["price_data"])
        elif items[0].get("price"):
            price = self._load(tx, "price", items[0]["price"], "line_items[0][price]")
        else:
            raise _parameter_missing("line_items[0][price]")
        if items[0].get("quantity") in (None, ""):
            raise ApiError(
                400,
                "Quantity is required. Add `quantity` to `line_items[0]`",
                param="line_items[0][quantity]",
            )
        if _int(items[0], "quantity", param="line_items[0][quantity]") != 1:
            raise ApiError(
                400,
                "The Stripe emulator supports a quantity of 1.",
                param="line_items[0][quantity]",
            )
        if not price["active"] and not items[0].get("price_data"):
            raise ApiError(
                400,
                "The price specified is inactive. This field only accepts active prices.",
                param="line_items[0][price]",
            )
        if mode == "payment" and price["type"] == "recurring":
            raise ApiError(
                400,
                "You specified `payment` mode but passed a recurring price. Either switch to"
                " `subscription` mode or use only one-time prices.",
                param="line_items[0][price]",
            )
        if mode == "subscription" and price["type"] != "recurring":
            raise ApiError(
                400,
                "You must provide at least one recurring price in `subscription` mode when"
                " using prices.",
                param="line_items",
            )
        return price

    def _inline_price(self, tx: Tx, data: Any) -> StripeObject:
        """The price ``line_items[0][price_data]`` describes, made for this session alone
        (inactive, no event) so that the session's payment can use it."""
        name = "line_items[0][price_data]"
        if not isinstance(data, dict):
            raise ApiError(400, "Invalid object", param=name)
        if data.get("product_data") is not None:
            raise ApiError(
                400,
                "The Stripe emulator supports price_data with a product, not product_data.",
                param=f"{name}[product_data]",
            )
        for field in ("currency", "product"):
            if not data.get(field):
                raise _parameter_missing(f"{name}[{field}]")
        self._load(tx, "product", data["product"], f"{name}[product]")
        amount = _int(data, "unit_amount", param=f"{name}[unit_amount]")
        if amount < 0:
            raise ApiError(
                400,
                "This value must be greater than or equal to 0.",
                code="parameter_invalid_integer",
                param=f"{name}[unit_amount]",
            )
        recurring = data.get("recurring")
        price = objects.price(
            data["product"],
            str(data["currency"]).lower(),
            amount,
            None if recurring is None else self._recurring(recurring),
        )
        price["active"] = False
        return price  # stored with the session, once the whole request is valid

    @staticmethod
    def _checkout_expires_at(params: Params) -> int | None:
        """Between 30 minutes and 24 hours from now; None for Stripe's default (24 hours)."""
        if params.get("expires_at") in (None, ""):
            return None
        expires_at, now = _int(params, "expires_at"), objects.now()
        if expires_at < now + 30 * 60:
            raise ApiError(
                400,
                "The `expires_at` timestamp must be at least 30 minutes from Checkout Session"
                " creation.",
                param="expires_at",
            )
        if expires_at > now + objects.CHECKOUT_SESSION_LIFETIME:
            raise ApiError(
                400,
                "The `expires_at` timestamp must be less than 24 hours from Checkout Session"
                " creation.",
                param="expires_at",
            )
        return expires_at

    def _get_checkout_session(self, tx: Tx, params: Params, session_id: str) -> StripeObject:
        return self._load(tx, "checkout.session", session_id)

    def _list_checkout_sessions(self, tx: Tx, params: Params) -> StripeObject:
        status = params.get("status") or None
        if status not in (None, *_CHECKOUT_STATUSES):
            raise ApiError(
                400, "Invalid status: must be one of complete, expired, or open", param="status"
            )
        filters = _filters(params, "payment_intent", "subscription", "customer", "status")
        return self._list(tx, params, "checkout.session", filters, url="/v1/checkout/sessions")

    def _expire_checkout_session(self, tx: Tx, params: Params, session_id: str) -> StripeObject:
        return self._expire_session(tx, self._load(tx, "checkout.session", session_id))

    def _expire_session(self, tx: Tx, session: StripeObject) -> StripeObject:
        """An open session expires; the PaymentIntent of a failed attempt is canceled."""
        if session["status"] != "open":
            raise ApiError(
                400,
                'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout'
                f" Session has a status of `{session['status']}`.",
            )
        intent = tx.get(session["payment_intent"]) if session["payment_intent"] else None
        if intent is not None and intent["status"] in _CANCELABLE:
            intent.update(canceled_at=objects.now(), cancellation_reason="abandoned")
            intent["next_action"] = None
            self._transition(tx, intent, "canceled", "payment_intent.canceled")
        session.update(status="expired", url=None)
        tx.put(session)
        tx.emit("checkout.session.expired", session)
        return session

    def _checkout_request(self, tx: Tx, session: StripeObject) -> StripeObject:
        return self._load(tx, _CHECKOUT_REQUEST, f"{session['id']}_request")

    def _session_intent(self, tx: Tx, session: StripeObject) -> StripeObject:
        """The PaymentIntent paying the session: its own, or its first invoice's."""
        if session["payment_intent"]:
            return self._load(tx, "payment_intent", session["payment_intent"])
        [payment] = tx.list_objects("invoice_payment", {"invoice": session["invoice"]})
        return self._load(tx, "payment_intent", payment["payment"]["payment_intent"])

    # -------------------------------------------------- webhook endpoints

    def _create_webhook_endpoint(self, tx: Tx, params: Params) -> StripeObject:
        """The response alone shows the signing secret, as Stripe's does. It is the
        emulator's own: every event is signed with it, whichever endpoint asked."""
        if not params.get("url"):
            raise _parameter_missing("url")
        if not params.get("enabled_events"):
            raise _parameter_missing("enabled_events")
        endpoint = objects.webhook_endpoint(params["url"], [])
        endpoint["api_version"] = params.get("api_version") or None
        tx.put(self._apply_webhook_endpoint(endpoint, params))
        secret = self.webhook_secret or f"whsec_{objects.random_string(32)}"
        return {**endpoint, "secret": secret}

    def _get_webhook_endpoint(self, tx: Tx, params: Params, endpoint_id: str) -> StripeObject:
        return self._load(tx, "webhook_endpoint", endpoint_id)

    def _list_webhook_endpoints(self, tx: Tx, params: Params) -> StripeObject:
        return self._list(tx, params, "webhook_endpoint", {})

    def _update_webhook_endpoint(self, tx: Tx, params: Params, endpoint_id: str) -> StripeObject:
        endpoint = self._load(tx, "webhook_endpoint", endpoint_id)
        return tx.put(self._apply_webhook_endpoint(endpoint, params))

    @staticmethod
    def _apply_webhook_endpoint(endpoint: StripeObject, params: Params) -> StripeObject:
        endpoint["metadata"] = _metadata(endpoint["metadata"], params)
        if params.get("url"):
            endpoint["url"] = params["url"]
        if "enabled_events" in params:
            if not isinstance(params["enabled_events"], list) or not params["enabled_events"]:
                raise ApiError(400, "Invalid array", param="enabled_events")
            endpoint["enabled_events"] = params["enabled_events"]
        if "description" in params:
            endpoint["description"] = params["description"] or None
        if "disabled" in params:
            endpoint["status"] = "disabled" if _bool(params, "disabled") else "enabled"
        return endpoint

    def _delete_webhook_endpoint(self, tx: Tx, params: Params, endpoint_id: str) -> StripeObject:
        self._load(tx, "webhook_endpoint", endpoint_id)
        tx.delete(endpoint_id)
        return {**objects.template("deleted_webhook_endpoint"), "id": endpoint_id}

    # ------------------------------------------ a payment's state machine

    def _confirm(
        self, tx: Tx, intent: StripeObject, params: Params, *, processing: bool = False
    ) -> StripeObject:
        """Confirm as the test card dictates; a decline raises the 402 after recording it."""
        if intent["status"] not in _CONFIRMABLE:
            raise _unexpected_state(intent, "confirm")
        method_id = params.get("payment_method") or intent["payment_method"]
        if not method_id:
            raise _parameter_missing("payment_method")
        method = self._payment_method(tx, method_id)
        intent.update(payment_method=method["id"], last_payment_error=None, next_action=None)
        if processing:
            return self._transition(tx, intent, "processing", "payment_intent.processing")
        behaviour = objects.card_behaviour(method["card"])
        if behaviour == REQUIRES_3DS and _bool(params, "off_session"):
            behaviour = AUTHENTICATION_REQUIRED
        if behaviour == REQUIRES_3DS:
            intent["next_action"] = self._next_action(intent, params.get("return_url") or None)
            return self._transition(tx, intent, "requires_action", "payment_intent.requires_action")
        if isinstance(behaviour, Decline):
            self._decline(tx, intent, method, behaviour)
        return self._succeed(tx, intent, method, three_d_secure=False)

    @staticmethod
    def _next_action(intent: StripeObject, return_url: str | None) -> dict[str, Any]:
        source = objects.new_id("src")
        url = f"https://hooks.stripe.com/3d_secure_2/hosted?payment_intent={intent['id']}&source={source}"
        if return_url:
            return {
                "type": "redirect_to_url",
                "redirect_to_url": {"return_url": return_url, "url": url},
            }
        return {
            "type": "use_stripe_sdk",
            "use_stripe_sdk": {
                "type": "three_d_secure_redirect",
                "source": source,
                "stripe_js": url,
            },
        }

    def _transition(self, tx: Tx, intent: StripeObject, status: str, event: str) -> StripeObject:
        intent["status"] = status
        tx.put(intent)
        tx.emit(event, intent)
        if event in _INVOICE_FOLLOWS:
            self._invoice_follows(tx, intent, event)
        return intent

    def _succeed(
        self, tx: Tx, intent: StripeObject, method: StripeObject, *, three_d_secure: bool
    ) -> StripeObject:
        charge = objects.charge(intent, method, decline=None, three_d_secure=three_d_secure)
        balance = tx.put(
            objects.balance_transaction(
                charge["id"],
                charge["amount"],
                charge["currency"],
                type_="charge",
                fee=objects.card_fee(charge["amount"]),
            )
        )
        charge["balance_transaction"] = balance["id"]
        tx.put(charge)
        tx.emit("charge.succeeded", charge)
        intent.update(
            amount_received=intent["amount"], latest_charge=charge["id"], next_action=None
        )
        return self._transition(tx, intent, "succeeded", "payment_intent.succeeded")

    def _decline(
        self, tx: Tx, intent: StripeObject, method: StripeObject, decline: Decline
    ) -> NoReturn:
        charge = tx.put(objects.charge(intent, method, decline=decline, three_d_secure=False))
        tx.emit("charge.failed", charge)
        exc = ApiError(
            402,
            decline.message,
            error_type="card_error",
            code=decline.code,
            decline_code=decline.decline_code,
            charge=charge["id"],
            doc_url=_doc_url(decline.code),
            payment_method=method,
        )
        intent.update(
            last_payment_error=dict(exc.error),
            latest_charge=charge["id"],
            payment_method=None,
            next_action=None,
        )
        self._transition(tx, intent, "requires_payment_method", "payment_intent.payment_failed")
        exc.error["payment_intent"] = intent
        raise exc

    # ----------------------------------- the customer's browser and bank

    def pay(
        self,
        payment_intent_id: str,
        card_number: str = "4242424242424242",
        *,
        processing: bool = False,
    ) -> dict[str, Any]:
        """Confirm with a new card as Stripe.js would, through the confirm endpoint's code.

        ``processing`` makes it an asynchronous method whatever the card: the
        PaymentIntent stays ``processing`` until :meth:`settle`.
        Returns ``{"payment_intent": ..., "error": <Stripe error object or None>}``.
        """

        def act(tx: Tx) -> None:
            intent = self._load(tx, "payment_intent", payment_intent_id)
            method = self._test_card(tx, card_number)
            self._confirm(tx, intent, {"payment_method": method["id"]}, processing=processing)

        return self._act(payment_intent_id, act, request_id=objects.new_id("req"))

    def authenticate(self, payment_intent_id: str, succeed: bool = True) -> dict[str, Any]:
        """Complete (or fail) 3-D Secure on a ``requires_action`` PaymentIntent.

        A failed authentication is not an API error: it is reported in the
        PaymentIntent's ``last_payment_error``, and ``error`` stays None.
        """

        def act(tx: Tx) -> None:
            intent = self._load(tx, "payment_intent", payment_intent_id)
            if intent["status"] != "requires_action":
                raise _unexpected_state(intent, "authenticate")
            method = self._load(tx, "payment_method", intent["payment_method"])
            if succeed:
                self._succeed(tx, intent, method, three_d_secure=True)
                return
            intent.update(
                last_payment_error={
                    "type": "invalid_request_error",
                    "code": "payment_intent_authentication_failure",
                    "message": (
                        "The provided PaymentMethod has failed authentication. You can provide"
                        " payment_method_data or a new PaymentMethod to attempt to fulfill this"
                        " PaymentIntent again."
                    ),
                    "doc_url": _doc_url("payment_intent_authentication_failure"),
                    "payment_method": method,
                },
                payment_method=None,
                next_action=None,
            )
            self._transition(tx, intent, "requires_payment_method", "payment_intent.payment_failed")

        return self._act(payment_intent_id, act)

    def settle(self, payment_intent_id: str, succeed: bool = True) -> dict[str, Any]:
        """Finish a ``processing`` payment: it succeeds, or its charge fails (a card_error)."""

        def act(tx: Tx) -> None:
            self._settle(tx, self._load(tx, "payment_intent", payment_intent_id), succeed)

        return self._act(payment_intent_id, act)

    def _settle(self, tx: Tx, intent: StripeObject, succeed: bool) -> StripeObject:
        if intent["status"] != "processing":
            raise _unexpected_state(intent, "settle")
        method = self._load(tx, "payment_method", intent["payment_method"])
        if not succeed:
            self._decline(tx, intent, method, GENERIC_DECLINE)
        return self._succeed(tx, intent, method, three_d_secure=False)

    # ------------------------------------ the customer on a Checkout page

    def complete_checkout(
        self, session_id: str, card_number: str = "4242424242424242", *, delayed: bool = False
    ) -> dict[str, Any]:
        """Pay an open Checkout Session's page with a card, as its customer would.

        Payment mode: the session's PaymentIntent is created (the first time; a retry
        after a decline reuses it) with payment_intent_data's metadata and confirmed
        through the confirm endpoint's code. Subscription mode: the subscription is
        created (subscription_data's metadata, the card as its default payment method)
        with its first invoice, which the card pays; a decline undoes all of it. A card
        asking for 3-D Secure is authenticated on the page. Paid, the session is
        ``complete`` and ``paid`` (``checkout.session.completed``); declined, it stays
        ``open`` and the card_error is returned. ``delayed`` plays an asynchronous
        method: the payment stays ``processing`` and the session is ``complete`` but
        ``unpaid`` until :meth:`settle_checkout`.
        Returns ``{"session": ..., "error": <Stripe error object or None>}``.
        """

        def act(tx: Tx, session: StripeObject) -> None:
            if session["status"] != "open":
                raise ApiError(
                    400,
                    f"This Checkout Session is no longer open: it is {session['status']}.",
                )
            method = self._test_card(tx, card_number)
            if session["mode"] == "payment":
                intent = self._checkout_payment(tx, session, method, delayed)
            else:
                intent = self._checkout_subscription(tx, session, method, delayed)
            customer = tx.get(session["customer"]) if session["customer"] else None
            session.update(
                status="complete",
                payment_status="paid" if intent["status"] == "succeeded" else "unpaid",
                url=None,
                customer_details=objects.checkout_customer_details(customer),
                collected_information={
                    "business_name": None,
                    "individual_name": None,
                    "shipping_details": None,
                },
            )
            tx.put(session)
            tx.emit("checkout.session.completed", session)

        return self._checkout_act(session_id, act)

    def _checkout_payment(
        self, tx: Tx, session: StripeObject, method: StripeObject, delayed: bool
    ) -> StripeObject:
        intent = tx.get(session["payment_intent"]) if session["payment_intent"] else None
        if intent is None:
            intent = objects.payment_intent(
                amount=session["amount_total"],
                currency=session["currency"],
                customer=session["customer"],
                description=None,
                receipt_email=None,
                allowed_payment_method_types=session.get("allowed_payment_method_types"),
                automatic_payment_methods=False,
            )
            intent["metadata"] = dict(self._checkout_request(tx, session)["metadata"])
            tx.put(intent)
            tx.emit("payment_intent.created", intent)
            session["payment_intent"] = intent["id"]
            tx.put(session)  # kept through a decline: the page retries with this intent
        return self._checkout_confirm(tx, intent, method, delayed)

    def _checkout_subscription(
        self, tx: Tx, session: StripeObject, method: StripeObject, delayed: bool
    ) -> StripeObject:
        request = self._checkout_request(tx, session)
        price = self._load(tx, "price", request["price"])
        try:
            with tx.savepoint():
                if session["customer"]:
                    customer = self._load(tx, "customer", session["customer"])
                else:  # Checkout makes one in subscription mode
                    customer = tx.put(objects.customer())
                    tx.emit("customer.created", customer)
                    session["customer"] = customer["id"]
                sub = objects.subscription(customer["id"], price, save_default_payment_method="off")
                sub.update(metadata=dict(request["metadata"]), default_payment_method=method["id"])
                sub = self._start_subscription(tx, sub, customer, "default_incomplete", {})
                session.update(subscription=sub["id"], invoice=sub["latest_invoice"])
                intent = self._session_intent(tx, session)
                return self._checkout_confirm(tx, intent, method, delayed)
        except ApiError as exc:  # nothing of it is left
            for key in ("charge", "payment_intent"):
                exc.error.pop(key, None)
            raise

    def _checkout_confirm(
        self, tx: Tx, intent: StripeObject, method: StripeObject, delayed: bool
    ) -> StripeObject:
        intent = self._confirm(tx, intent, {"payment_method": method["id"]}, processing=delayed)
        if intent["status"] == "requires_action":  # 3-D Secure, passed on the page
            intent = self._succeed(tx, intent, method, three_d_secure=True)
        return intent

    def settle_checkout(self, session_id: str, succeed: bool = True) -> dict[str, Any]:
        """Finish the delayed payment of a completed, unpaid session, as :meth:`settle`
        does, then ``checkout.session.async_payment_succeeded`` (now ``paid``) or
        ``checkout.session.async_payment_failed`` (the card_error is returned)."""

        def act(tx: Tx, session: StripeObject) -> None:
            if (session["status"], session["payment_status"]) != ("complete", "unpaid"):
                raise ApiError(
                    400,
                    "This Checkout Session has no payment to settle: it is"
                    f" {session['status']} and {session['payment_status']}.",
                )
            intent = self._session_intent(tx, session)
            try:
                self._settle(tx, intent, succeed)
            except ApiError as exc:
                if exc.error["type"] == "card_error":
                    tx.emit("checkout.session.async_payment_failed", session)
                raise
            session["payment_status"] = "paid"
            tx.put(session)
            tx.emit("checkout.session.async_payment_succeeded", session)

        return self._checkout_act(session_id, act)

    def expire_checkout(self, session_id: str) -> dict[str, Any]:
        """What the expire endpoint does (Stripe's own expiry: the emulator has no clock)."""
        return self._checkout_act(session_id, self._expire_session)

    def _checkout_act(
        self, session_id: str, action: Callable[[Tx, StripeObject], Any]
    ) -> dict[str, Any]:
        with self._store.transaction() as tx:
            try:
                action(tx, self._load(tx, "checkout.session", session_id))
                error = None
            except ApiError as exc:
                error = self._with_log_url(tx, exc.error)
            session = tx.get(session_id)
            if session is not None and session["object"] != "checkout.session":
                session = None
            return {"session": session, "error": error}

    # ------------------------------------ Stripe's own moves, the Dashboard

    def advance_refunds(self) -> list[dict[str, Any]]:
        """Move every refund that has a later state one step on, oldest first.

        A pending refund succeeds (``refund.updated``, ``charge.refund.updated``,
        ``charge.refunded``); a succeeded refund of the refund-fails test card
        fails with ``expired_or_canceled_card``, its amount going back to the
        balance and to the charge (``refund.failed``, ``refund.updated``,
        ``charge.refund.updated``). Returns the refunds changed, as they are now.
        """
        changed = []
        with self._store.transaction() as tx:
            for refund in reversed(tx.list_objects("refund")):
                charge = self._load(tx, "charge", refund["charge"])
                behaviour = objects.card_behaviour(charge["payment_method_details"]["card"])
                if refund["status"] == "pending":
                    self._refund_succeeds(tx, refund)
                    charge = self._save_refund(tx, refund)
                    self._refund_updated(tx, refund)
                    tx.emit("charge.refunded", charge)
                elif refund["status"] == "succeeded" and behaviour == REFUND_FAILS:
                    txn = objects.balance_transaction(
                        refund["id"], refund["amount"], refund["currency"], type_="refund_failure"
                    )
                    refund.update(
                        status="failed",
                        failure_reason="expired_or_canceled_card",
                        failure_balance_transaction=tx.put(txn)["id"],
                    )
                    self._save_refund(tx, refund)
                    tx.emit("refund.failed", refund)
                    self._refund_updated(tx, refund)
                else:
                    continue
                changed.append(refund)
        return changed

    def dashboard_refund(
        self, payment_intent_id: str, amount: int | None = None, reason: str | None = None
    ) -> dict[str, Any]:
        """Refund as from the Stripe Dashboard: the API's checks, effects and events, the
        events with ``request`` ``{"id": None, "idempotency_key": None}`` as no API
        request made them. Returns ``{"refund": ..., "error": <Stripe error or None>}``.
        """
        params = {"payment_intent": payment_intent_id, "amount": amount, "reason": reason}
        with self._store.transaction() as tx:
            try:
                refund = self._create_refund(tx, {k: v for k, v in params.items() if v is not None})
            except ApiError as exc:
                return {"refund": None, "error": exc.error}
        return {"refund": refund, "error": None}

    # ---------------------------------------- a subscription's later moves

    def advance_subscription(self, subscription_id: str, *, succeed: bool = True) -> dict[str, Any]:
        """Move an active or past_due subscription to its next period, as a test clock would.

        One set to cancel at the period's end ends instead, without an invoice.
        Otherwise a ``subscription_cycle`` invoice is charged off-session to the
        subscription's (else the customer's) default payment method: paid, the
        subscription is (again) active; declined (by the card, or ``succeed=False``),
        the invoice stays open and the subscription is past_due. Returns
        ``{"subscription": ..., "invoice": <the new invoice or None>, "error": <Stripe
        error or None>}``; the emulator has no clock: only the periods move.
        """

        def act(tx: Tx, sub: StripeObject) -> None:
            if sub["status"] not in ("active", "past_due"):
                raise _subscription_state(sub, "advance")
            item = sub["items"]["data"][0]
            if sub["cancel_at_period_end"]:  # canceled_at stays when it was asked for
                sub.update(status="canceled", ended_at=item["current_period_end"])
                tx.put(sub)
                tx.emit("customer.subscription.deleted", sub)
                return
            ended = (item["current_period_start"], item["current_period_end"])
            item.update(
                current_period_start=ended[1],
                current_period_end=objects.period_end(
                    sub["billing_cycle_anchor"], ended[1], item["price"]["recurring"]
                ),
            )
            customer = self._load(tx, "customer", sub["customer"])
            invoice = self._draft_invoice(tx, sub, customer, "subscription_cycle", ended)
            sub["latest_invoice"] = invoice["id"]
            tx.put(sub)  # announced with the payment's outcome
            intent = self._open_invoice(tx, invoice, customer, sub)
            method_id = (
                sub["default_payment_method"]
                or customer["invoice_settings"]["default_payment_method"]
            )
            if method_id is None:
                self._invoice_follows(tx, intent, "payment_intent.payment_failed")
            elif succeed:
                self._confirm(tx, intent, {"payment_method": method_id, "off_session": "true"})
            else:
                method = self._load(tx, "payment_method", method_id)
                self._decline(tx, intent, method, GENERIC_DECLINE)

        return self._subscription_act(subscription_id, act)

    def pause_subscription(self, subscription_id: str) -> dict[str, Any]:
        """Pause an active subscription (status ``paused``); same result as advance."""
        return self._subscription_act(
            subscription_id, lambda tx, sub: self._set_paused(tx, sub, True)
        )

    def resume_subscription(self, subscription_id: str) -> dict[str, Any]:
        """Make a paused subscription active again; same result as advance."""
        return self._subscription_act(
            subscription_id, lambda tx, sub: self._set_paused(tx, sub, False)
        )

    def _set_paused(self, tx: Tx, sub: StripeObject, paused: bool) -> None:
        if sub["status"] != ("active" if paused else "paused"):
            raise _subscription_state(sub, "pause" if paused else "resume")
        sub["status"] = "paused" if paused else "active"
        event = "customer.subscription.paused" if paused else "customer.subscription.resumed"
        self._save_changes(tx, sub, "customer.subscription.updated", event)

    def _subscription_act(
        self, subscription_id: str, action: Callable[[Tx, StripeObject], None]
    ) -> dict[str, Any]:
        with self._store.transaction() as tx:
            before = tx.get(subscription_id) or {}
            try:
                action(tx, self._load(tx, "subscription", subscription_id))
                error = None
            except ApiError as exc:
                error = self._with_log_url(tx, exc.error)
            sub = tx.get(subscription_id) if before.get("object") == "subscription" else None
            invoice = None
            if sub is not None and sub["latest_invoice"] != before["latest_invoice"]:
                invoice = tx.get(sub["latest_invoice"])
            return {"subscription": sub, "invoice": invoice, "error": error}

    def _act(
        self, intent_id: str, action: Callable[[Tx], None], request_id: str | None = None
    ) -> dict[str, Any]:
        with self._store.transaction({"id": request_id, "idempotency_key": None}) as tx:
            try:
                action(tx)
                error = None
            except ApiError as exc:
                error = self._with_log_url(tx, exc.error)
            intent = tx.get(intent_id)
            if intent is not None and intent["object"] != "payment_intent":
                intent = None
            return {"payment_intent": intent, "error": error}

    # ------------------------------------------------ inspection, webhooks

    def retrieve(self, object_id: str) -> StripeObject:
        """Any stored object or event by id; KeyError when there is none."""
        with self._store.transaction() as tx:
            found = tx.get(object_id)
        if found is None:
            raise KeyError(object_id)
        return found

    def events(self, since_seq: int | None = None) -> list[StoredEvent]:
        """Every event after ``since_seq``, oldest first, with its delivery state."""
        return self._store.events(since_seq)

    def deliver_pending(self, sender: Sender | None = None) -> list[tuple[str, int]]:
        """POST each undelivered event, oldest first, signed with the webhook secret.

        A non-2xx answer (or 0: unreachable) leaves the event pending for the
        next call, as Stripe retries; later events are still attempted. The
        database is not locked while sending: the endpoint may call Stripe.
        """
        send = sender or HttpSender(self.webhook_url)
        results = []
        for stored in self._store.events(pending_only=True):
            body, headers = signed_request(stored.event, self.webhook_secret)
            status = send(body, headers)
            with self._store.transaction() as tx:
                tx.record_delivery(stored.event["id"], delivered=200 <= status < 300)
            results.append((stored.event["id"], status))
        return results

    # ----------------------------------------------------------- faults

    def inject_fault(self, kind: str, *, path_prefix: str | None = None, times: int = 1) -> None:
        """Make the next ``times`` requests (under ``path_prefix``) fail.

        "connection_error": no request reaches Stripe. "timeout": Stripe acts
        (and stores the idempotent result) but the answer is lost. "500" and
        "429": Stripe answers with that error and ``Stripe-Should-Retry: false``.
        """
        if kind not in _FAULT_KINDS:
            raise ValueError(f"Unknown fault {kind!r}; expected one of {_FAULT_KINDS}")
        with self._faults_lock:
            self._faults.append(_Fault(kind, path_prefix, times))

    def _take_fault(self, path: str) -> str | None:
        with self._faults_lock:
            for fault in self._faults:
                if fault.path_prefix is None or path.startswith(fault.path_prefix):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault.kind
        return None

    @staticmethod
    def _fault_response(kind: str) -> tuple[str, int, Headers]:
        headers = Headers(
            {
                "Request-Id": objects.new_id("req"),
                "Content-Type": "application/json",
                "Stripe-Should-Retry": "false",
            }
        )
        return json.dumps({"error": _FAULT_ERRORS[kind]}), int(kind), headers
