from __future__ import annotations

import strawberry
import strawberry_django
from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token
from graphql import GraphQLError
from strawberry.types import Info
from strawberry_django.auth.utils import get_current_user

from config.emulator import emulator_active, stripe_js_url
from events.models import Event as EventModel
from payments import selectors
from payments.cache import catalog_tier, catalog_tiers
from schema import types
from schema.optimizing import optimized, selection_info


def _viewer(info: Info):
    user = get_current_user(info)
    return user if user.is_authenticated else None


@strawberry.type
class Query:
    # The catalog is public and rarely changes: cached in the process, invalidated
    # when a Tier or Price is saved or deleted (payments/cache.py).
    @strawberry_django.field(description="Public; active tiers by position.")
    def tiers(self) -> list[types.Tier]:
        return catalog_tiers()

    @strawberry_django.field(description="Public.")
    def tier(self, id: strawberry.ID) -> types.Tier | None:
        return catalog_tier(id)

    @strawberry_django.field(description="Null when anonymous.")
    def me(self, info: Info) -> types.User | None:
        return _viewer(info)

    @strawberry_django.field(description=f"The viewer's events, the newest {selectors.LIST_CAP}.")
    def events(self, info: Info) -> list[types.Event]:
        user = _viewer(info)
        if user is None:
            return []
        events = list(optimized(EventModel.objects.filter(user=user).order_by("-created_at", "-id")[: selectors.LIST_CAP], info))
        # Event.payments is not a relation the optimizer can prefetch: read the
        # payments of every listed event at once, planned for what is selected
        # under `payments` (its tier, price, refunds... prefetched too).
        if events and (payments_info := selection_info(info, "payments")) is not None:
            grouped = selectors.payments_by_payable(
                user=user, payable_type="event", payable_ids=[e.pk for e in events],
                prepare=lambda qs: optimized(qs, payments_info, only=("payable_id",)),
            )
            for event in events:
                event.listed_payments = grouped[str(event.pk)]
        return events

    @strawberry_django.field(description="The viewer's own, or any for staff with payments.view_payment (or change_payment); null otherwise.")
    def payment(self, info: Info, id: strawberry.ID) -> types.Payment | None:
        return selectors.payment_get_for_viewer(user=_viewer(info), payment_id=id)

    @strawberry_django.field(description=f"Refunds of the viewer's payments, newest first (the newest {selectors.LIST_CAP}).")
    def refunds(self, info: Info) -> list[types.Refund]:
        user = _viewer(info)
        return selectors.refund_list_for_viewer(user=user) if user else []

    @strawberry_django.field(description=f"The viewer's subscriptions, newest first (the newest {selectors.LIST_CAP}).")
    def subscriptions(self, info: Info) -> list[types.Subscription]:
        user = _viewer(info)
        return selectors.subscription_list_for_viewer(user=user) if user else []

    @strawberry_django.field(description=f"The viewer's billing history, newest first (the newest {selectors.LIST_CAP}).")
    def invoices(self, info: Info) -> list[types.Invoice]:
        user = _viewer(info)
        return selectors.invoice_list_for_viewer(user=user) if user else []

    @strawberry_django.field(
        description="Public, works over GET: the CSRF token to send as X-CSRFToken with cookie-authenticated "
        "POSTs, and the csrftoken cookie set too (for a front end that cannot read the API's cookie). "
        "Ask again after login: Django rotates the token."
    )
    def csrf_token(self, info: Info) -> str:
        request = getattr(info.context, "request", None)
        if not isinstance(request, HttpRequest):
            raise GraphQLError(
                "csrfToken is served over HTTP only (GET or POST /graphql/): a WebSocket needs no CSRF token."
            )
        return get_token(request)

    @strawberry_django.field(
        description="Public: the publishable key and where to load Stripe.js from (the emulator's stand-in "
        "on this server while the emulator is active, https://js.stripe.com/v3/ otherwise)."
    )
    def stripe_config(self, info: Info) -> types.StripeConfig:
        request = getattr(info.context, "request", None)
        return types.StripeConfig(
            publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
            js_url=stripe_js_url(request if isinstance(request, HttpRequest) else None),
            emulated=emulator_active(),
        )

    @strawberry_django.field(description=f"The viewer's payments, newest first; at most {selectors.MAX_PAGE} a page.")
    def payments(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        status: types.PaymentStatusEnum | None = None,
    ) -> types.PaymentConnection:
        user = _viewer(info)
        if user is None:
            page = selectors.PaymentPage([], [], False, False, 0)
        else:
            page = selectors.payment_page_for_viewer(
                user=user, first=20 if first is None else first, after=after, status=status.value if status else None,
                # The rows are read once for the whole page, planned by the
                # optimizer for what is selected under `edges { node }`.
                prepare=lambda qs: optimized(qs, selection_info(info, "edges", "node"), only=("created_at",)),
            )
        edges = [types.PaymentEdge(cursor=c, node=p) for p, c in zip(page.payments, page.cursors)]
        return types.PaymentConnection(
            edges=edges,
            page_info=types.PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
            total_count=page.total_count,
        )
