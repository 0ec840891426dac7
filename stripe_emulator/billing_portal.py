"""The customer portal: sessions (``POST /v1/billing_portal/sessions``) and what the
customer does on the portal's page (portal.py serves it; the ``stripe_emulator``
command plays it too).

A session's ``url`` is on the emulator's public base URL (``public_url``: where
its HTTP face answers browsers, e.g. the product's dev server's ``/_emulator``),
named by a secret of its own, not by the session id. On the page the customer
updates the card (a new card attached: ``payment_method.attached``; made the
customer's default: ``customer.updated`` with ``invoice_settings``; and the
default of each subscription that had one, as the portal does:
``customer.subscription.updated``) and cancels a subscription at the period's
end (``customer.subscription.updated`` with ``cancel_at_period_end``). The
default configuration is the only one: ``configuration`` and ``flow_data`` are
refused by name (routes.py NOT_EMULATED).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from . import objects
from .common import _ENDED, ApiError, Params, StripeObject, _parameter_missing
from .store import Tx

PORTAL_PATH = "/billing_portal/p/session/"
_CONFIGURATION = "bpc_emulator_default"


def portal_session(customer: str, return_url: str | None, url_base: str) -> StripeObject:
    obj = objects.template("billing_portal.session")
    secret = f"test_{objects.random_string(40)}"
    obj.update(
        id=objects.new_id("bps"),
        configuration=_CONFIGURATION,
        created=objects.now(),
        customer=customer,
        customer_account=None,
        flow=None,
        livemode=False,
        locale=None,
        on_behalf_of=None,
        return_url=return_url,
        url=f"{url_base.rstrip('/')}{PORTAL_PATH}{secret}",
    )
    return obj


class BillingPortal:
    """The billing portal's handlers and the customer's actions there, mixed into ``Emulator``."""

    def _create_billing_portal_session(self, tx: Tx, params: Params) -> StripeObject:
        if not params.get("customer"):
            raise _parameter_missing("customer")
        self._load(tx, "customer", params["customer"], "customer")
        return_url = params.get("return_url") or None
        if return_url is not None:
            parts = urlsplit(str(return_url))
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ApiError(400, "Not a valid URL", code="url_invalid", param="return_url")
        session = portal_session(params["customer"], return_url, self.public_url)
        return tx.put(session)  # Stripe sends no event for a portal session

    def portal_session_by_url(self, url_secret: str) -> StripeObject | None:
        """The session whose page ``.../p/session/<url_secret>`` is, or None."""
        with self._store.transaction() as tx:
            for session in tx.list_objects("billing_portal.session"):
                if session["url"].endswith(PORTAL_PATH + url_secret):
                    return session
        return None

    def portal_view(self, session_id: str) -> dict[str, Any]:
        """What the portal page shows: the customer, their default card, their subscriptions
        not ended and their invoices, newest first."""
        with self._store.transaction() as tx:
            session = self._load(tx, "billing_portal.session", session_id)
            customer = self._load(tx, "customer", session["customer"])
            default = customer["invoice_settings"]["default_payment_method"]
            subs = [
                sub
                for sub in tx.list_objects("subscription", {"customer": customer["id"]})
                if sub["status"] not in _ENDED
            ]
            if default is None:
                default = next((s["default_payment_method"] for s in subs if s["default_payment_method"]), None)
            return {
                "session": session,
                "customer": customer,
                "card": (tx.get(default) or {}).get("card") if default else None,
                "subscriptions": subs,
                "invoices": tx.list_objects("invoice", {"customer": customer["id"]}, limit=20),
            }

    def portal_update_card(self, session_id: str, card_number: str = "4242424242424242") -> dict[str, Any]:
        """The customer saves a new card on the portal. Returns ``{"customer": ...,
        "payment_method": ..., "error": <Stripe error or None>}``."""
        with self._store.transaction({"id": None, "idempotency_key": None}) as tx:
            session = self._load(tx, "billing_portal.session", session_id)
            customer = self._load(tx, "customer", session["customer"])
            try:
                method = self._test_card(tx, card_number)
            except ApiError as exc:
                return {"customer": customer, "payment_method": None, "error": exc.error}
            method["customer"] = customer["id"]
            tx.put(method)
            tx.emit("payment_method.attached", method)
            customer["invoice_settings"]["default_payment_method"] = method["id"]
            self._save_changes(tx, customer, "customer.updated")
            for sub in tx.list_objects("subscription", {"customer": customer["id"]}):
                if sub["status"] not in _ENDED and sub["default_payment_method"]:
                    sub["default_payment_method"] = method["id"]
                    self._save_changes(tx, sub, "customer.subscription.updated")
            return {"customer": customer, "payment_method": method, "error": None}

    def portal_cancel(self, session_id: str, subscription_id: str) -> dict[str, Any]:
        """The customer cancels one of their subscriptions at the period's end on the portal.
        Returns ``{"subscription": ..., "error": <Stripe error or None>}``."""
        with self._store.transaction({"id": None, "idempotency_key": None}) as tx:
            session = self._load(tx, "billing_portal.session", session_id)
            sub = tx.get(subscription_id)
            if sub is None or sub.get("object") != "subscription" or sub["customer"] != session["customer"]:
                error = ApiError(404, f"No such subscription: '{subscription_id}'", code="resource_missing")
                return {"subscription": None, "error": error.error}
            if sub["status"] in _ENDED:
                return {"subscription": sub, "error": ApiError(400, "This subscription has ended.").error}
            if not sub["cancel_at_period_end"]:
                self._set_cancel_at_period_end(sub, True)
                self._save_changes(tx, sub, "customer.subscription.updated")
            return {"subscription": sub, "error": None}
