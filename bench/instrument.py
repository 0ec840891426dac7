"""Bench-only counters, per request: SQL statements (every statement sent
through Django's cursor, as ``assertNumQueries`` counts them: SAVEPOINTs
included, the driver's own BEGIN/COMMIT not) and Stripe calls.

``CountersMiddleware`` (first in bench.settings.MIDDLEWARE) starts a counter in
a context variable; the sync view runs in a thread with a copy of that
context, so a wrapper installed on every database connection
(``connection_created``) and one around ``payments.gateway.client.get_client`` add to
the request's own counter. The response carries ``X-Bench-Queries`` and
``X-Bench-Stripe-Calls``."""

from __future__ import annotations

import threading
from contextvars import ContextVar

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.db.backends.signals import connection_created
from django.dispatch import receiver

# [sql statements, stripe calls] of the current request
_counters: ContextVar[list[int] | None] = ContextVar("bench_counters", default=None)
_lock = threading.Lock()
_stripe_calls_total = 0


def _count_statement(execute, sql, params, many, context):
    counters = _counters.get()
    if counters is not None:
        counters[0] += 1
    return execute(sql, params, many, context)


@receiver(connection_created)
def _install(sender, connection, **kwargs) -> None:
    if _count_statement not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count_statement)


def count_stripe_calls() -> None:
    """Wrap the gateway's client getter: every Stripe call goes through it."""
    from payments.gateway import client as gateway_client

    if getattr(gateway_client.get_client, "_bench_counted", False):
        return
    original = gateway_client.get_client

    def get_client():
        global _stripe_calls_total
        counters = _counters.get()
        if counters is not None:
            counters[1] += 1
        with _lock:
            _stripe_calls_total += 1
        return original()

    get_client._bench_counted = True
    gateway_client.get_client = get_client


def stripe_calls_total() -> int:
    return _stripe_calls_total


class CountersMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        counters = [0, 0]
        token = _counters.set(counters)
        try:
            response = self.get_response(request)
        finally:
            _counters.reset(token)
        return self._stamp(response, counters)

    async def _acall(self, request):
        counters = [0, 0]
        token = _counters.set(counters)
        try:
            response = await self.get_response(request)
        finally:
            _counters.reset(token)
        return self._stamp(response, counters)

    @staticmethod
    def _stamp(response, counters):
        response["X-Bench-Queries"] = str(counters[0])
        response["X-Bench-Stripe-Calls"] = str(counters[1])
        return response
