"""The customer portal's page, served by the emulator's HTTP face (http.py) at a
portal session's ``url``: the customer's card, subscriptions and invoices, a form
to save a new card, a button per subscription to cancel it at the period's end,
and a link back to the session's ``return_url``. The actions are billing_portal.py's.

Plain HTML forms (no script): a POST answers 303 back to the page, which shows
what happened. The session's URL secret is the only credential, as on Stripe.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from .billing_portal import PORTAL_PATH
from .objects import format_amount

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def handles(path: str) -> bool:
    return path.startswith(PORTAL_PATH)


def serve(emulator: Any, environ: dict[str, Any], path: str, start_response: StartResponse) -> Iterable[bytes]:
    secret = path[len(PORTAL_PATH):]
    session = emulator.portal_session_by_url(secret) if secret and "/" not in secret else None
    if session is None:
        return _page(start_response, "404 Not Found", "<h1>This portal session does not exist.</h1>")
    if environ["REQUEST_METHOD"] == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = parse_qs(environ["wsgi.input"].read(length).decode("utf-8") if length else "")
        action = (form.get("action") or [""])[0]
        if action == "update_card":
            result = emulator.portal_update_card(session["id"], (form.get("card") or [""])[0].replace(" ", ""))
        elif action == "cancel":
            result = emulator.portal_cancel(session["id"], (form.get("subscription") or [""])[0])
        else:
            return _page(start_response, "400 Bad Request", "<h1>Unknown action.</h1>")
        note = "error" if result["error"] else action
        # Relative: the page is reached under a prefix (``/_emulator``) in the dev server.
        start_response("303 See Other", [("Location", f"?done={note}"), ("Content-Length", "0")])
        return [b""]
    if environ["REQUEST_METHOD"] != "GET":
        return _page(start_response, "405 Method Not Allowed", "<h1>Method not allowed.</h1>")
    done = parse_qs(environ.get("QUERY_STRING") or "").get("done", [""])[0]
    return _page(start_response, "200 OK", _body(emulator.portal_view(session["id"]), done))


_NOTES = {
    "update_card": "Your card was saved.",
    "cancel": "Your subscription will be canceled at the end of the period.",
    "error": "That did not work (a declined or invalid card, or a subscription that has ended).",
}


def _date(timestamp: int | None) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d") if timestamp else "-"


def _body(view: dict[str, Any], done: str) -> str:
    e = html.escape
    session, customer, card = view["session"], view["customer"], view["card"]
    parts = ["<h1>Billing</h1>", f"<p>{e(customer['email'] or customer['id'])}</p>"]
    if done in _NOTES:
        parts.append(f'<p class="note" role="status">{e(_NOTES[done])}</p>')
    shown = f"{card['brand']} •••• {card['last4']}" if card else "no card saved"
    parts += [
        "<h2>Payment method</h2>",
        f'<p id="card">{e(shown)}</p>',
        '<form method="post"><input type="hidden" name="action" value="update_card">'
        '<label>Card number <input name="card" inputmode="numeric" autocomplete="cc-number" required></label>'
        ' <button type="submit">Save card</button></form>',
        "<h2>Subscriptions</h2>",
    ]
    for sub in view["subscriptions"]:
        item = sub["items"]["data"][0]
        price = item["price"]
        amount = format_amount(price["unit_amount"], price["currency"])
        line = f"{amount} / {price['recurring']['interval']} · {sub['status']}"
        if sub["status"] == "trialing":
            line += f" until {_date(sub['trial_end'])}"
        if sub["cancel_at_period_end"]:
            parts.append(f'<p class="subscription">{e(line)} · ends {_date(sub["cancel_at"])}</p>')
            continue
        parts.append(
            f'<form method="post" class="subscription"><p>{e(line)} · renews {_date(item["current_period_end"])}</p>'
            '<input type="hidden" name="action" value="cancel">'
            f'<input type="hidden" name="subscription" value="{e(sub["id"])}">'
            '<button type="submit">Cancel at period end</button></form>'
        )
    if not view["subscriptions"]:
        parts.append("<p>No subscription.</p>")
    parts.append("<h2>Invoices</h2><ul>")
    for invoice in view["invoices"]:
        amount = format_amount(invoice["amount_due"], invoice["currency"])
        parts.append(f"<li>{e(invoice['number'] or invoice['id'])} · {e(amount)} · {e(invoice['status'])}</li>")
    parts.append("</ul>")
    if session["return_url"]:
        parts.append(f'<p><a id="return" href="{e(session["return_url"])}">Return</a></p>')
    return "".join(parts)


def _page(start_response: StartResponse, status: str, body: str) -> list[bytes]:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Billing portal (Stripe emulator)</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f"<body>{body}</body></html>"
    ).encode("utf-8")
    start_response(
        status,
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(document))),
            ("Content-Security-Policy", "default-src 'none'; form-action 'self'"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
        ],
    )
    return [document]
