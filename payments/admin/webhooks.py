"""Stored webhook events: read, searched by indexed identifiers, reprocessed."""

from __future__ import annotations

import json
from collections.abc import Mapping

from django.contrib import admin, messages

from payments.admin.base import LedgerAdmin, admin_link, payment_intent_id_of, pre
from payments.admin.filters import EventTypeFilter
from payments.models import Payment, WebhookEvent
from payments.operations.replay import replay_events


@admin.register(WebhookEvent)
class WebhookEventAdmin(LedgerAdmin):
    list_display = (
        "stripe_event_id", "type", "status", "attempts", "object_display", "livemode", "stripe_created", "received_at",
    )
    list_filter = ("status", EventTypeFilter, "livemode", "received_at")
    # Indexed identifiers only (the payload is never searched): the event's id, its
    # object's (a PaymentIntent, refund, charge, subscription, invoice...) and the
    # PaymentIntent it is about (a charge's or refund's, for instance).
    search_fields = ("stripe_event_id__exact", "object_id__exact", "payment_intent_id__exact")
    date_hierarchy = "received_at"
    fields = (
        "stripe_event_id", "type", "status", "attempts", "livemode", "api_version", "stripe_created", "received_at",
        "processed_at", "payment_link", "last_error_display", "payload_display",
    )
    readonly_fields = ("payment_link", "last_error_display", "payload_display")
    actions = ("reprocess",)

    @admin.display(description="Object", ordering="object_id")
    def object_display(self, obj):
        return obj.object_id or "-"

    def get_queryset(self, request):
        """The list shows no payload: it is not read for it (a few KB a row)."""
        queryset = super().get_queryset(request)
        match = request.resolver_match
        return queryset.defer("payload") if match and match.url_name.endswith("_changelist") else queryset

    @admin.display(description="Payment")
    def payment_link(self, obj):
        """Detail page only (one query): the payment whose PaymentIntent the event is about."""
        pi = payment_intent_id_of(obj.payload) if isinstance(obj.payload, Mapping) else None
        if not pi:
            return "-"
        payment = Payment.objects.filter(stripe_payment_intent_id=pi).first()
        return admin_link(payment, pi) if payment else f"{pi} (not one of our payments)"

    @admin.display(description="Last error")
    def last_error_display(self, obj):
        return pre(obj.last_error)

    @admin.display(description="Payload")
    def payload_display(self, obj):
        return pre(json.dumps(obj.payload, indent=2, sort_keys=True))

    @admin.action(description="Reprocess (failed or received events)", permissions=["model_change"])
    def reprocess(self, request, queryset):
        """Run a stored event through processing again, once its cause is fixed."""
        # The same path as payments_replay_events (payments/operations/replay.py).
        for record in queryset:
            [outcome] = replay_events(ids=[record.stripe_event_id]).outcomes
            if outcome.action == "skipped":
                self.message_user(request, f"{record.stripe_event_id}: skipped, already {record.status}", messages.WARNING)
            elif outcome.failed:
                self.message_user(request, f"{record.stripe_event_id}: failed again: {outcome.detail}", messages.ERROR)
            else:
                self.message_user(request, f"{record.stripe_event_id}: {outcome.detail}", messages.SUCCESS)
