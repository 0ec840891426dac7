"""The host app's events (events/): what a payment pays for and activates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Union

import strawberry
import strawberry_django
from strawberry.types import Info
from strawberry_django.fields.types import OperationInfo

from events.models import Event as EventModel
from events.services import event_activate_free, event_create
from payments import selectors
from payments.errors import InvalidInput, PaymentsError
from schema.catalog import Tier
from schema.errors import operation_info
from schema.optimizing import optimized, selection_info
from schema.payments import Payment
from schema.viewer import require_viewer, viewer


@strawberry_django.type(EventModel, name="Event", description="A FutureReminder event; paying for a tier activates it.")
class Event:
    id: strawberry.ID
    title: str
    is_active: bool
    tier: Tier | None
    created_at: datetime

    @strawberry_django.field(only=["user_id"], description=f"Newest first, the newest {selectors.LIST_CAP}.")
    def payments(self, root: EventModel, info: strawberry.Info) -> list[Payment]:
        # Query.events reads the payments of all its events at once; an event
        # reached otherwise (createEvent's payload) reads its own.
        listed = getattr(root, "listed_payments", None)
        if listed is not None:
            return listed
        qs = selectors.payments_of_payable(user=root.user_id, payable_type="event", payable_id=root.pk)
        return list(optimized(qs, info))


@strawberry.input
class CreateEventInput:
    title: str


@strawberry.type
class CreateEventPayload:
    event: Event


CreateEventResult = Annotated[Union[CreateEventPayload, OperationInfo], strawberry.union("CreateEventResult")]


@strawberry.input
class ActivateEventInput:
    event_id: strawberry.ID
    tier_id: strawberry.ID


ActivateEventResult = Annotated[Union[CreateEventPayload, OperationInfo], strawberry.union("ActivateEventResult")]


def _with_payments(events: list[EventModel], *, user, info: Info) -> list[EventModel]:
    """Event.payments is not a relation the optimizer can prefetch: the payments
    of every listed event are read at once, planned for what is selected under
    `payments` (its tier, price, refunds... prefetched too)."""
    if events and (payments_info := selection_info(info, "payments")) is not None:
        grouped = selectors.payments_by_payable(
            user=user, payable_type="event", payable_ids=[e.pk for e in events],
            prepare=lambda qs: optimized(qs, payments_info, only=("payable_id",)),
        )
        for event in events:
            event.listed_payments = grouped[str(event.pk)]
    return events


@strawberry.type
class Query:
    @strawberry_django.field(description=f"The viewer's events, the newest {selectors.LIST_CAP}.")
    def events(self, info: Info) -> list[Event]:
        user = viewer(info)
        if user is None:
            return []
        events = EventModel.objects.filter(user=user).order_by("-created_at", "-id")[: selectors.LIST_CAP]
        return _with_payments(list(optimized(events, info)), user=user, info=info)


@strawberry.type
class Mutation:
    @strawberry_django.mutation(handle_django_errors=False)
    def create_event(self, info: Info, input: CreateEventInput) -> CreateEventResult:
        try:
            user = require_viewer(info)
            title = input.title.strip()
            if not 0 < len(title) <= 200:
                raise InvalidInput("title must be 1 to 200 characters.", field="title")
            return CreateEventPayload(event=event_create(user=user, title=title))
        except PaymentsError as exc:
            return operation_info(exc)

    @strawberry_django.mutation(
        handle_django_errors=False,
        description="Only while payments are switched off: activates the event at the tier for free.",
    )
    def activate_event(self, info: Info, input: ActivateEventInput) -> ActivateEventResult:
        try:
            event = event_activate_free(user=require_viewer(info), event_id=str(input.event_id), tier_id=str(input.tier_id))
        except PaymentsError as exc:
            return operation_info(exc)
        return CreateEventPayload(event=event)
