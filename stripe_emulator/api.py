"""The Emulator: Stripe's HTTP semantics (routing by the route table in
routes.py, form decoding, the params check, idempotency, expansion, injected
faults) over the resource handlers, one mixin per resource family
(customers, payment_intents, refunds, catalog, billing, plan_changes, checkout,
webhook_endpoints, events, and the customer's actions), and webhook delivery.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import objects
from .actions import Actions
from .billing import Billing
from .billing_portal import BillingPortal
from .catalog import Catalog
from .checkout import Checkout
from .common import (
    ApiError,
    EmulatorConnectionError,
    Params,
    StripeObject,
    _FAULT_ERRORS,
    _FAULT_KINDS,
    _INVOICE_INCLUDABLE,
    _limit,
    _missing,
    _parameter_missing,
    _parameter_unknown,
)
from .customers import Customers
from .delivery import AutoDelivery, HttpSender, Sender, signed_request
from .events import Events
from .forms import decode_form
from .params import ParamsError
from .params import check as check_params
from .payment_intents import PaymentIntents
from . import publishable as browser_key
from .plan_changes import PlanChanges
from .refunds import Refunds
from .setup_intents import SetupIntents
from .trials import Trials
from .routes import _ROUTES, _route, _Route, not_emulated  # noqa: F401 - _route: the tests build routes
from .store import IdempotentResult, Store, StoredEvent, Tx
from .webhook_endpoints import WebhookEndpoints

__all__ = ["ApiError", "Emulator", "EmulatorConnectionError", "Headers"]


def _key_param(query: str, body: str) -> str:
    """The API key sent as the ``key`` parameter, as Stripe.js sends its publishable key."""
    for name, value in parse_qsl(query) + parse_qsl(body):
        if name == "key":
            return value
    return ""


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



class Emulator(
    Customers, PaymentIntents, SetupIntents, Refunds, Catalog, Billing, PlanChanges, Trials, BillingPortal,
    Checkout, WebhookEndpoints, Events, Actions,
):
    """Stripe, for one test-mode account, with its state in the SQLite file ``db_path``."""

    def __init__(
        self,
        *,
        db_path: str,
        webhook_secret: str,
        webhook_url: str,
        auto_deliver: bool = False,
        delivery_delay: float = AutoDelivery.DELAY,
        public_url: str = "http://127.0.0.1:12111",
    ) -> None:
        """``auto_deliver``: the events an API request causes are POSTed to
        ``webhook_url`` by a background thread ``delivery_delay`` seconds after it,
        as Stripe delivers soon after the call; off, they wait for
        :meth:`deliver_pending` (the tests, the ``stripe_emulator`` command).
        ``public_url``: where a browser reaches this emulator's HTTP face (its pages:
        3-D Secure, hosted Checkout), put into the objects' URLs."""
        self.db_path = db_path
        self.public_url = public_url.rstrip("/")
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self._store = Store(db_path)
        self._faults: list[_Fault] = []
        self._faults_lock = threading.Lock()
        self._delivering = threading.Lock()  # one delivery run at a time in this process
        self._auto = AutoDelivery(self.deliver_pending, delivery_delay) if auto_deliver else None

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
        api_key = lowered.get("authorization", "").removeprefix("Bearer ").strip() or _key_param(parts.query, body)
        result, replayed = self._execute(
            method, parts.path, parts.query, body, key, publishable=browser_key.is_publishable(api_key)
        )
        if fault == "timeout":  # Stripe did the work; the answer was lost on the way back.
            raise EmulatorConnectionError(fault)
        response_headers = Headers(
            {"Request-Id": result.request_id, "Content-Type": "application/json"}
        )
        if key:
            response_headers["Idempotency-Key"] = key
        if replayed:
            response_headers["Idempotent-Replayed"] = "true"
        if not replayed:
            self.deliver_soon()
        return result.body, result.status, response_headers

    def deliver_soon(self) -> None:
        """With auto-delivery on, deliver the pending events soon (after an API call or a
        customer's action on a page); otherwise they wait for :meth:`deliver_pending`."""
        if self._auto is not None:
            self._auto.soon()

    def _execute(
        self, method: str, path: str, query: str, body: str, key: str | None, *, publishable: bool = False
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
            status, response = self._dispatch(tx, method, path, query, body, publishable=publishable)
            result = IdempotentResult(fingerprint, status, json.dumps(response), request_id)
            if key and status < 500:
                tx.remember(key, result)
            return result, False

    def _dispatch(
        self, tx: Tx, method: str, path: str, query: str, body: str, *, publishable: bool = False
    ) -> tuple[int, StripeObject]:
        try:
            route, path_args = self._match(method, path)
            try:
                params = {**decode_form(query), **decode_form(body)}
            except ValueError as exc:
                raise ApiError(400, str(exc)) from None
            if publishable:  # the browser's key: Stripe.js's few calls, with the client secret
                params = browser_key.authorize(tx, route, path_args, params)
                params = browser_key.with_card(self, tx, route, params)
            elif _key_param(query, body):  # a secret key sent as Stripe.js sends its key
                params.pop("key", None)
            try:  # what Stripe refuses before the endpoint runs
                check_params(route.params, params)
            except ParamsError as exc:
                unknown = exc.code == "parameter_unknown"
                raise (_parameter_unknown if unknown else _parameter_missing)(exc.param) from None
            refused = not_emulated(route, params)
            if refused:
                param, value = refused
                raise ApiError(
                    400, f"The emulator does not play {param}={value!r}; use Stripe test keys for it.",
                    code="parameter_not_emulated", param=param,
                )
            found = getattr(self, route.handler)(tx, params, *path_args)
            found = self._expand(tx, found, params.get("expand") or [])
            return 200, browser_key.public_view(found) if publishable else found
        except ApiError as exc:
            if publishable and isinstance(exc.error.get("payment_intent"), dict):
                exc.error["payment_intent"] = browser_key.public_view(exc.error["payment_intent"])
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



    @staticmethod
    def _load(tx: Tx, resource: str, object_id: str, param: str = "id") -> StripeObject:
        found = tx.get(object_id)
        if found is None or found["object"] != resource:
            raise _missing(resource, object_id, param)
        return found

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
        with self._delivering:
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
