"""Trials, and what Stripe sends before a period ends.

A subscription created with a trial (``trial_period_days``, ``trial_end``, or
``trial_from_plan`` with the price's ``recurring.trial_period_days``) starts
``trialing``: its first period is the trial, its first invoice is for zero
(a "Trial period for ..." line) and is paid at once without any PaymentIntent,
and with ``payment_behavior=default_incomplete`` it carries a
``pending_setup_intent`` for the customer to save a card (setup_intents.py).

Before a renewal the emulator sends what Stripe sends some days before it:
``customer.subscription.trial_will_end`` (three days before a trial ends) and
``invoice.upcoming`` (an invoice preview without an id), once per period:
:meth:`Trials.approach_period_end` plays that moment, and ``advance`` at a
trial's end sends them first if that moment was skipped. At the trial's end ``advance`` makes the
subscription ``active`` and charges its first real invoice to the saved card;
without one, or declined, the invoice stays open and the subscription is
``past_due`` (``trial_settings.end_behavior.missing_payment_method`` is
``create_invoice``, Stripe's default and the only one played).
"""

from __future__ import annotations

import copy
from typing import Any

from . import billing_objects, objects
from .common import ApiError, Params, StripeObject, _bool, _int, _subscription_state
from .setup_intents import setup_intent
from .store import Tx

_MAX_TRIAL_DAYS = 730


class Trials:
    """Trial handling, mixed into ``Emulator`` (used by billing.py and actions.py)."""

    @staticmethod
    def _trial_end(params: Params, price: StripeObject, start: int) -> int | None:
        """When the trial the create parameters ask for ends, or None for no trial."""
        from_plan = _bool(params, "trial_from_plan")
        end = params.get("trial_end")
        if from_plan and end not in (None, ""):
            raise ApiError(
                400, "You may not pass both trial_end and trial_from_plan.", param="trial_from_plan"
            )
        if end == "now":
            return None
        if end not in (None, ""):
            when = _int(params, "trial_end")
            if not start + 48 * 3600 <= when <= start + _MAX_TRIAL_DAYS * 86400:
                raise ApiError(
                    400,
                    "Invalid timestamp: must be at least 48 hours in the future and at most two"
                    " years from now",
                    param="trial_end",
                )
            return when
        days = _int(params, "trial_period_days", default=0)
        if from_plan and "trial_period_days" not in params:
            days = price["recurring"].get("trial_period_days") or 0
        if not 0 <= days <= _MAX_TRIAL_DAYS:
            raise ApiError(
                400,
                f"Invalid trial_period_days: must be between 0 and {_MAX_TRIAL_DAYS}",
                code="parameter_invalid_integer",
                param="trial_period_days",
            )
        return start + days * 86400 if days else None

    @staticmethod
    def _begin_trial(sub: StripeObject, trial_end: int) -> None:
        """The first period is the trial; the billing cycle starts when it ends."""
        item = sub["items"]["data"][0]
        item["current_period_end"] = trial_end
        sub.update(
            status="trialing",
            trial_start=sub["created"],
            trial_end=trial_end,
            billing_cycle_anchor=trial_end,
            trial_settings={"end_behavior": {"missing_payment_method": "create_invoice"}},
        )

    def _start_trial(
        self, tx: Tx, sub: StripeObject, customer: StripeObject, behavior: str
    ) -> StripeObject:
        if behavior == "default_incomplete":
            setup = setup_intent(customer=customer["id"], usage="off_session")
            tx.put(setup)
            tx.emit("setup_intent.created", setup)
            sub["pending_setup_intent"] = setup["id"]
        created = sub["created"]
        invoice = self._draft_invoice(tx, sub, customer, "subscription_create", (created, created))
        self._zero_trial_invoice(tx, invoice)
        sub["latest_invoice"] = invoice["id"]
        tx.put(sub)
        tx.emit("customer.subscription.created", sub)
        self._finalize_invoice(tx, invoice, customer)
        tx.emit("invoice.finalized", invoice)
        paid_at = objects.now()
        invoice.update(status="paid", attempted=True)  # nothing to pay: paid at finalization
        invoice["status_transitions"]["paid_at"] = paid_at
        tx.put(invoice)
        tx.emit("invoice.payment_succeeded", invoice)
        tx.emit("invoice.paid", invoice)
        return self._load(tx, "subscription", sub["id"])

    def _zero_trial_invoice(self, tx: Tx, invoice: StripeObject) -> None:
        [line] = invoice["lines"]["data"]
        product = self._load(tx, "product", line["pricing"]["price_details"]["product"])
        line.update(amount=0, subtotal=0, description=f"Trial period for {product['name']}")
        line["pricing"]["unit_amount_decimal"] = "0"
        for field in ("amount_due", "amount_remaining", "subtotal", "subtotal_excluding_tax"):
            invoice[field] = 0
        invoice.update(total=0, total_excluding_tax=0, amount_paid=0)

    # ------------------------------------------- before and at a renewal

    def _before_renewal(self, tx: Tx, sub: StripeObject) -> None:
        """``advance``'s first step: a trial ends, after the reminders not sent yet (an
        ordinary renewal's ``invoice.upcoming`` only comes from approach_period_end)."""
        if sub["status"] == "trialing":
            self._remind(tx, sub)
            sub["status"] = "active"  # its first invoice decides whether it stays so

    def _remind(self, tx: Tx, sub: StripeObject) -> None:
        item = sub["items"]["data"][0]
        end = item["current_period_end"]
        if sub["status"] == "trialing" and not self._sent(
            tx, "customer.subscription.trial_will_end", lambda obj: obj["id"] == sub["id"] and obj["trial_end"] == end
        ):
            tx.emit("customer.subscription.trial_will_end", sub)
        if sub["cancel_at_period_end"]:
            return  # no renewal is coming
        upcoming = lambda obj: (  # noqa: E731
            obj["parent"]["subscription_details"]["subscription"] == sub["id"] and obj["period_end"] == end
        )
        if not self._sent(tx, "invoice.upcoming", upcoming):
            tx.emit("invoice.upcoming", self._upcoming_invoice(tx, sub))

    def _upcoming_invoice(self, tx: Tx, sub: StripeObject) -> StripeObject:
        """The renewal's invoice as Stripe previews it: a draft without an id, its line
        for the next period. Nothing is stored."""
        renewal = copy.deepcopy(sub)
        item = renewal["items"]["data"][0]
        ended = (item["current_period_start"], item["current_period_end"])
        item.update(
            current_period_start=ended[1],
            current_period_end=billing_objects.period_end(
                sub["billing_cycle_anchor"], ended[1], item["price"]["recurring"]
            ),
        )
        customer = self._load(tx, "customer", sub["customer"])
        invoice = self._draft_invoice(tx, renewal, customer, "upcoming", ended)
        invoice["id"] = None
        invoice["lines"]["data"][0]["invoice"] = None
        invoice["lines"]["url"] = "/v1/invoices/upcoming/lines"
        return invoice

    @staticmethod
    def _sent(tx: Tx, event_type: str, about: Any) -> bool:
        events = tx.list_events(limit=-1, before_seq=None, type_pattern=event_type, created={})
        return any(about(event["data"]["object"]) for event in events)

    def approach_period_end(self, subscription_id: str) -> dict[str, Any]:
        """The test clock three days before the period ends: ``trial_will_end`` for a
        trialing subscription and ``invoice.upcoming`` for the coming renewal, each
        once per period. Same result as ``advance_subscription``."""

        def act(tx: Tx, sub: StripeObject) -> None:
            if sub["status"] not in ("trialing", "active", "past_due"):
                raise _subscription_state(sub, "advance")
            self._remind(tx, sub)

        return self._subscription_act(subscription_id, act)
