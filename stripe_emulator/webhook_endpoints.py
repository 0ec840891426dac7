"""Webhook endpoints (where Stripe would deliver; the emulator delivers to its own URL)."""

from __future__ import annotations

from . import billing_objects, objects
from .common import ApiError, Params, StripeObject, _bool, _metadata, _parameter_missing
from .store import Tx


class WebhookEndpoints:
    """The webhook endpoints endpoints' handlers, mixed into ``Emulator``."""

    # -------------------------------------------------- webhook endpoints

    def _create_webhook_endpoint(self, tx: Tx, params: Params) -> StripeObject:
        """The response alone shows the signing secret, as Stripe's does. It is the
        emulator's own: every event is signed with it, whichever endpoint asked."""
        if not params.get("url"):
            raise _parameter_missing("url")
        if not params.get("enabled_events"):
            raise _parameter_missing("enabled_events")
        endpoint = billing_objects.webhook_endpoint(params["url"], [])
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
