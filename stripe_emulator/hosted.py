"""The emulator's hosted pages, on its public URL: the 3-D Secure challenge an
intent's ``next_action`` points at (where Stripe's is on hooks.stripe.com) and a
Checkout Session's ``url`` (where Stripe's is on checkout.stripe.com). They act
through the same code as the ``stripe_emulator`` command (actions.py), so their
events are the ones Stripe sends, delivered soon after with auto-delivery on.

The challenge page needs the intent's client secret, as Stripe's URL carries it;
without it (or with another intent's) it answers 404, as for an unknown intent.
Where it sends the browser afterwards is the ``return_url`` the intent was
confirmed with, never a URL of the request: the page is no open redirect.
"""

from __future__ import annotations

import hmac
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .objects import format_amount
from .pages import PageRequest, PageResponse, page, render

_REDIRECT_STATUS = {"succeeded": "succeeded", "processing": "processing"}  # anything else: "failed"


def _stored(emulator: Any, object_id: str, resource: str) -> dict[str, Any] | None:
    try:
        found = emulator.retrieve(object_id)
    except KeyError:
        return None
    return found if found.get("object") == resource else None


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit(parts._replace(query=query))


def _message(title: str, text: str, status: int) -> PageResponse:
    return render("message.html", status, title=title, text=text)


# ------------------------------------------------------------ 3-D Secure


# A PaymentIntent's challenge, or a SetupIntent's (saving a card: nothing charged).
_CHALLENGED = {"pi_": ("payment_intent", "payment_intent_client_secret"), "seti_": ("setup_intent", "setup_intent_client_secret")}


def _challenged(emulator: Any, request: PageRequest, intent_id: str) -> dict[str, Any] | None:
    kind = next((found for prefix, found in _CHALLENGED.items() if intent_id.startswith(prefix)), None)
    if kind is None:
        return None
    intent = _stored(emulator, intent_id, kind[0])
    secret = request.query.get(kind[1], "")
    if intent is None or not hmac.compare_digest(intent["client_secret"], secret):
        return None
    return intent


def _what(intent: dict[str, Any]) -> str:
    if intent["object"] == "setup_intent":
        return "nothing now (a card saved for later payments)"
    return format_amount(intent["amount"], intent["currency"])


@page("GET", "/3d_secure/{id}")
def challenge(emulator: Any, request: PageRequest, intent_id: str) -> PageResponse:
    intent = _challenged(emulator, request, intent_id)
    if intent is None:
        return _message("Not found", "There is no authentication to complete here.", 404)
    if intent["status"] != "requires_action":
        return render("three_d_secure_done.html", title="Nothing to authenticate",
                      text=f"This {intent['object'].replace('_', ' ')} is {intent['status']}.", payment_intent=intent["id"])
    return render("three_d_secure.html", amount=_what(intent), payment_intent=intent["id"])


@page("POST", "/3d_secure/{id}")
def authenticate(emulator: Any, request: PageRequest, intent_id: str) -> PageResponse:
    intent = _challenged(emulator, request, intent_id)
    if intent is None:
        return _message("Not found", "There is no authentication to complete here.", 404)
    action = intent.get("next_action") or {}
    return_url = (action.get("redirect_to_url") or {}).get("return_url")
    kind = intent["object"]
    succeed = request.form.get("outcome") == "complete"
    if kind == "setup_intent":
        result = emulator.authenticate_setup(intent_id, succeed=succeed)
    else:
        result = emulator.authenticate(intent_id, succeed=succeed)
    emulator.deliver_soon()
    if result["error"] is not None:
        return _message("Authentication not possible", result["error"]["message"], 400)
    intent = result[kind]
    if return_url and request.query.get("embedded") != "1":
        return PageResponse.redirect(_with_query(return_url, {
            kind: intent["id"],
            f"{kind}_client_secret": intent["client_secret"],
            "redirect_status": _REDIRECT_STATUS.get(intent["status"], "failed"),
        }))
    done = "Authentication complete." if intent["status"] == "succeeded" else "Authentication failed."
    return render("three_d_secure_done.html", title=done, text=done, payment_intent=intent["id"])


# -------------------------------------------------------------- Checkout


def _checkout_page(session: dict[str, Any], *, error: str = "", status: int = 200) -> PageResponse:
    back = session.get("cancel_url")
    return render(
        "checkout.html", status,
        amount=format_amount(session["amount_total"], session["currency"]),
        mode="Pay",
        error=error,
        raw_back=f'<a href="{_attr(back)}" id="back">Back</a>' if back else "",
        expiry=f"12 / {(time.gmtime().tm_year + 3) % 100:02d}",
    )


def _attr(value: str) -> str:
    import html

    return html.escape(value, quote=True)


@page("GET", "/checkout/{id}")
def checkout(emulator: Any, request: PageRequest, session_id: str) -> PageResponse:
    session = _stored(emulator, session_id, "checkout.session")
    if session is None:
        return _message("Not found", "There is no Checkout page here.", 404)
    if session["status"] != "open":
        return _message("Checkout", f"This Checkout Session is {session['status']}.", 410)
    return _checkout_page(session)


@page("POST", "/checkout/{id}")
def pay(emulator: Any, request: PageRequest, session_id: str) -> PageResponse:
    session = _stored(emulator, session_id, "checkout.session")
    if session is None:
        return _message("Not found", "There is no Checkout page here.", 404)
    number = "".join(ch for ch in request.form.get("cardnumber", "") if not ch.isspace())
    result = emulator.complete_checkout(session_id, number or "0")
    emulator.deliver_soon()
    if result["error"] is not None:
        current = result["session"] or session
        if current["status"] != "open":
            return _message("Checkout", result["error"]["message"], 410)
        return _checkout_page(current, error=result["error"]["message"], status=402)
    success = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
    return PageResponse.redirect(success)
