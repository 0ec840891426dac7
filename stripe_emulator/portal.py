"""The customer portal's page, one of the emulator's pages (pages.py) at a
portal session's ``url``: the customer's card, subscriptions and invoices, a form
to save a new card, a button per subscription to cancel it at the period's end,
and a link back to the session's ``return_url``. The actions are billing_portal.py's.

Plain HTML forms (no script): a POST answers 303 back to the page, which shows
what happened. The session's URL secret is the only credential, as on Stripe.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from .billing_portal import PORTAL_PATH
from .objects import format_amount
from .pages import PageRequest, PageResponse, page


@page("GET", PORTAL_PATH + "{id}")
def portal_page(emulator: Any, request: PageRequest, secret: str) -> PageResponse:
    session = emulator.portal_session_by_url(secret)
    if session is None:
        return _page(404, "<h1>This portal session does not exist.</h1>")
    return _page(200, _body(emulator.portal_view(session["id"]), request.query.get("done", "")))


@page("POST", PORTAL_PATH + "{id}")
def portal_action(emulator: Any, request: PageRequest, secret: str) -> PageResponse:
    session = emulator.portal_session_by_url(secret)
    if session is None:
        return _page(404, "<h1>This portal session does not exist.</h1>")
    action = request.form.get("action", "")
    if action == "update_card":
        result = emulator.portal_update_card(session["id"], request.form.get("card", "").replace(" ", ""))
    elif action == "cancel":
        result = emulator.portal_cancel(session["id"], request.form.get("subscription", ""))
    else:
        return _page(400, "<h1>Unknown action.</h1>")
    emulator.deliver_soon()  # its events, as after an API call
    # Relative: the page is reached under a prefix (``/_emulator``) in the dev server.
    return PageResponse.redirect(f"?done={'error' if result['error'] else action}")


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


def _page(status: int, body: str) -> PageResponse:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Billing portal (Stripe emulator)</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f"<body>{body}</body></html>"
    ).encode("utf-8")
    return PageResponse(
        status,
        document,
        headers={
            "Content-Security-Policy": "default-src 'none'; form-action 'self'",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
        },
    )
