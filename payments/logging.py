"""Structured log lines: ``key=value`` pairs a log search can filter on.

``kv(event="evt_1", outcome="processed", duration_ms=12.3)`` gives
``event=evt_1 outcome=processed duration_ms=12.3``. A value with a space, a
quote, an ``=`` (or an empty one) is double-quoted with ``\\`` escapes; None is
``-``. Two line makers use it: one per webhook delivery (``payments.webhooks``)
and one per call that reaches Stripe (``payments.stripe``, from the gateway's
``client.call``). It formats what it is given: no ``stripe`` import, no query.
"""

from __future__ import annotations

import logging
import re
import time
import types
from typing import Any

stripe_logger = logging.getLogger("payments.stripe")

_PLAIN = re.compile(r"[^\s\"'=\\]+")


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.1f}"
    text = str(value)
    if _PLAIN.fullmatch(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def kv(**fields: Any) -> str:
    """``key=value`` pairs in the order given; values with spaces (or quotes, ``=``) quoted."""
    return " ".join(f"{key}={_text(value)}" for key, value in fields.items())


# ------------------------------------------------------------------ webhooks


def webhook_line(
    *,
    event_id: str | None,
    event_type: str | None,
    outcome: str,
    duration_ms: float,
    payment_id: str | None = None,
    reason: str | None = None,
) -> str:
    """The one line logged per webhook delivery (logger ``payments.webhooks``):
    ``webhook event=evt_… type=… outcome=processed duration_ms=12.3 payment=<id or ->``.

    ``payment_id``: our Payment's id, as the caller found it (this module runs no
    query: the webhook view passes what its event lookup answered); ``-`` without.
    A delivery refused before it was parsed has no event: ``event=- type=-``, and
    its ``reason`` (the last field, only then).

    ``outcome``, as the endpoint answers: ``processed``, ``ignored`` (a type we do
    not handle: stored), ``duplicate`` (done before): 200; ``refused`` (before
    parsing: a bad signature or a body that is not an event, nothing stored; or
    an event of the other mode: stored as refused), ``invalid`` (signed, but its
    object cannot be read: stored as failed): 400; ``too_large`` (before the body
    is parsed): 413; ``failed`` (stored, the handler raised; Stripe retries): 500."""
    fields: dict[str, Any] = {
        "event": event_id,
        "type": event_type,
        "outcome": outcome,
        "duration_ms": duration_ms,
        "payment": payment_id,
    }
    if reason is not None:
        fields["reason"] = reason[:200]
    return "webhook " + kv(**fields)


# ------------------------------------------------------------ Stripe calls


def stripe_operation(fn: Any) -> str:
    """``payment_intents.create`` for ``client.v1.payment_intents.create``: the
    service's snake_case name (without "Service") and the method's name."""
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__name__", None) or repr(fn)
    if owner is None or isinstance(owner, types.ModuleType):
        return getattr(fn, "__qualname__", name)
    service = type(owner).__name__.removesuffix("Service")
    return f"{re.sub(r'(?<!^)(?=[A-Z])', '_', service).lower()}.{name}"


def log_stripe_call(fn: Any, started: float, *, outcome: str, request_id: str | None) -> None:
    """One line per call that reached (or tried to reach) Stripe, on ``payments.stripe``:
    ``stripe operation=payment_intent.create duration_ms=12.3 outcome=ok request_id=req_…``;
    ``outcome`` is ``ok`` or the stripe error's class name (e.g. ``APIConnectionError``),
    logged at WARNING except ``ok`` and ``CardError``."""
    # A declined card is business as usual; any other error is worth a look.
    level = logging.INFO if outcome in ("ok", "CardError") else logging.WARNING
    if not stripe_logger.isEnabledFor(level):
        return
    stripe_logger.log(
        level,
        "stripe %s",
        kv(
            operation=stripe_operation(fn),
            duration_ms=(time.monotonic() - started) * 1000,
            outcome=outcome,
            request_id=request_id,
        ),
    )


def request_id_of(result: Any) -> str | None:
    """The Request-Id Stripe answered a call with (``StripeObject.last_response``)."""
    response = getattr(result, "last_response", None)
    return getattr(response, "request_id", None)
