"""The webhook endpoint at Stripe (``payments_webhook_setup``): created or
updated to our URL and the event types we handle, its secret shown once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit


from payments import gateway
from payments.conf import get_config
from payments.errors import InvalidInput

from payments.webhooks import processing
from payments.services.reports import (
    new_key,
)

logger = logging.getLogger(__name__)



LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
ENDPOINT_DESCRIPTION = "payments backend (manage.py payments_webhook_setup)"


@dataclass(frozen=True)
class WebhookSetup:
    action: str  # created | updated | unchanged | would create | would update
    url: str
    enabled_events: tuple[str, ...]
    api_version: str
    endpoint: gateway.WebhookEndpointData | None = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # the endpoint works, but not as it should: exit non-zero
    warnings: tuple[str, ...] = ()

    @property
    def secret(self) -> str | None:
        return self.endpoint.secret if self.action == "created" and self.endpoint else None


def check_webhook_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput(f"not an absolute http(s) URL: {url!r}", field="url")
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise InvalidInput(
            f"refusing {url!r}: Stripe must post to https (http only for localhost / 127.0.0.1)", field="url"
        )
    return url.strip()


def webhook_endpoint_setup(*, url: str, dry_run: bool = False) -> WebhookSetup:
    """Create the endpoint for ``url`` (or update the one there is) with exactly the
    event types we handle and our pinned API version. Stripe shows the signing
    secret only in the answer to the creation. Raises PaymentsError."""
    url = check_webhook_url(url)
    events = tuple(sorted(processing.HANDLERS))
    version = get_config().api_version
    same_url = [e for e in gateway.list_webhook_endpoints() if e.url == url]
    if not same_url:
        if dry_run:
            return WebhookSetup("would create", url, events, version)
        endpoint = gateway.create_webhook_endpoint(
            url=url, enabled_events=list(events), api_version=version, description=ENDPOINT_DESCRIPTION,
            idempotency_key=new_key("webhook-endpoint-create"),
        )
        return WebhookSetup("created", url, events, version, endpoint=endpoint)

    endpoint, others = same_url[0], same_url[1:]
    added = tuple(sorted(set(events) - set(endpoint.enabled_events)))
    removed = tuple(sorted(set(endpoint.enabled_events) - set(events)))
    problems, warnings = [], []
    if endpoint.api_version != version:
        problems.append(
            f"{endpoint.id} sends events in API version {endpoint.api_version or 'the account default'}, not {version}:"
            " Stripe cannot change an endpoint's version. Delete it (Dashboard > Webhooks) and run this again;"
            " a new signing secret will be printed."
        )
    if endpoint.status != "enabled":
        warnings.append(f"{endpoint.id} is {endpoint.status}: enable it in the Dashboard to receive events")
    if others:
        warnings.append(
            f"other endpoints for the same URL: {', '.join(e.id for e in others)} (each signs with its own secret;"
            " delete the extra ones)"
        )
    if list(endpoint.enabled_events) == list(events):
        action = "unchanged"
    elif dry_run:
        action = "would update"
    else:
        endpoint = gateway.update_webhook_endpoint(
            endpoint.id, enabled_events=list(events), description=ENDPOINT_DESCRIPTION,
            idempotency_key=new_key("webhook-endpoint-update"),
        )
        action = "updated"
    return WebhookSetup(
        action, url, events, version, endpoint=endpoint, added=added, removed=removed,
        problems=tuple(problems), warnings=tuple(warnings),
    )
