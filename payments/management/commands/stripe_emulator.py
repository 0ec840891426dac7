"""Play the customer's browser and bank (on a payment form or a hosted Checkout
page), and the Stripe Dashboard, against the built-in Stripe emulator.

Run from a second terminal next to ``manage.py runserver``: each action
changes Stripe's state (the emulator's database file the server shares), then
delivers the resulting webhooks to the server, as Stripe would.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from payments.conf import get_config
from stripe_emulator import Emulator, get_emulator
from stripe_emulator.objects import format_amount


class Command(BaseCommand):
    help = (
        "Pay, authenticate, settle or refund a payment in the Stripe emulator, complete, settle"
        " or expire a Checkout Session, save a card (a SetupIntent), act on the billing portal,"
        " move refunds or a subscription on, and deliver the webhooks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        pay = actions.add_parser("pay", help="Confirm the payment with a test card.")
        pay.add_argument("payment", help="PaymentIntent id (pi_...) or Payment id")
        pay.add_argument(
            "--card", default="4242424242424242", help="card number (Stripe test cards)"
        )
        pay.add_argument(
            "--processing", action="store_true", help="pay asynchronously; finish with 'settle'"
        )
        for name, help_text in (
            ("authenticate", "Complete 3-D Secure on a payment that requires action."),
            ("settle", "Finish a processing payment."),
        ):
            action = actions.add_parser(name, help=help_text)
            action.add_argument("payment", help="PaymentIntent id (pi_...) or Payment id")
            action.add_argument("--fail", action="store_true", help="make it fail")
        refund = actions.add_parser("refund", help="Refund a payment, as from the Dashboard.")
        refund.add_argument("payment", help="PaymentIntent id (pi_...) or Payment id")
        refund.add_argument("--amount", type=int, help="in minor units; default: all not refunded")
        refund.add_argument("--reason", help="duplicate, fraudulent or requested_by_customer")
        refunds = actions.add_parser("refunds", help="Stripe's later moves on refunds.")
        refunds_actions = refunds.add_subparsers(dest="refunds_action", required=True)
        refunds_actions.add_parser(
            "advance", help="Pending refunds succeed; those of the refund-fails card fail."
        )
        subscription = actions.add_parser("subscription", help="Stripe's moves on a subscription.")
        moves = subscription.add_subparsers(dest="subscription_action", required=True)
        for name, help_text in (
            ("advance", "Go to the next period: renew and charge, or end if canceling then."),
            ("pause", "Pause an active subscription."),
            ("resume", "Resume a paused subscription."),
            ("expire-update", "A pending plan change runs out of time: its invoice is voided."),
            ("upcoming", "Three days before the period ends: trial_will_end, invoice.upcoming."),
        ):
            move = moves.add_parser(name, help=help_text)
            move.add_argument("subscription", help="Subscription id (sub_...)")
        moves.choices["advance"].add_argument(
            "--fail", action="store_true", help="decline the renewal's payment"
        )
        checkout = actions.add_parser("checkout", help="The customer on a Checkout page.")
        pages = checkout.add_subparsers(dest="checkout_action", required=True)
        for name, help_text in (
            ("complete", "Pay the page with a test card (payment or subscription mode)."),
            ("settle", "Finish the delayed payment of a completed session."),
            ("expire", "Expire an open session."),
        ):
            page = pages.add_parser(name, help=help_text)
            page.add_argument("session", help="Checkout Session id (cs_...)")
        pages.choices["complete"].add_argument(
            "--card", default="4242424242424242", help="card number (Stripe test cards)"
        )
        pages.choices["complete"].add_argument(
            "--delayed", action="store_true", help="a delayed method; finish with 'settle'"
        )
        pages.choices["settle"].add_argument("--fail", action="store_true", help="make it fail")
        setup = actions.add_parser("setup", help="The customer saving a card (a SetupIntent).")
        setups = setup.add_subparsers(dest="setup_action", required=True)
        for name, help_text in (
            ("confirm", "Save a test card, as stripe.confirmSetup would."),
            ("authenticate", "Complete 3-D Secure on a SetupIntent that requires action."),
        ):
            move = setups.add_parser(name, help=help_text)
            move.add_argument("setup_intent", help="SetupIntent id (seti_...) or a trialing subscription's (sub_...)")
        setups.choices["confirm"].add_argument(
            "--card", default="4242424242424242", help="card number (Stripe test cards)"
        )
        setups.choices["authenticate"].add_argument("--fail", action="store_true", help="make it fail")
        portal = actions.add_parser("portal", help="The customer on the billing portal's page.")
        portal_moves = portal.add_subparsers(dest="portal_action", required=True)
        card = portal_moves.add_parser("card", help="Save a new card as the default.")
        card.add_argument("session", help="the portal's url (createBillingPortalSession's), or its session id (bps_...)")
        card.add_argument("--card", default="4242424242424242", help="card number (Stripe test cards)")
        cancel = portal_moves.add_parser("cancel", help="Cancel a subscription at the period's end.")
        cancel.add_argument("session", help="the portal's url (createBillingPortalSession's), or its session id (bps_...)")
        cancel.add_argument("subscription", help="Subscription id (sub_...)")
        actions.add_parser("deliver", help="Deliver pending webhook events.")
        events = actions.add_parser("events", help="List recent events.")
        events.add_argument("--limit", type=int, default=20)

    def handle(self, *args: Any, **options: Any) -> None:
        if not get_config().uses_emulator:
            raise CommandError(
                "A Stripe secret key is configured (STRIPE_SECRET_KEY): the emulator is not in use."
            )
        emulator = get_emulator()
        action = options["action"]
        if action == "events":
            self._list_events(emulator, options["limit"])
            return
        if action == "refund":
            intent_id = self._payment_intent_id(options["payment"])
            result = emulator.dashboard_refund(intent_id, options["amount"], options["reason"])
            if result["error"]:
                raise CommandError(result["error"]["message"])
            self._report_refund(result["refund"])
        elif action == "refunds":
            changed = emulator.advance_refunds()
            for refund in changed:
                self._report_refund(refund)
            if not changed:
                self.stdout.write("No refund to advance.")
        elif action == "subscription":
            self._move_subscription(emulator, options)
        elif action == "checkout":
            self._checkout(emulator, options)
        elif action == "setup":
            self._setup(emulator, options)
        elif action == "portal":
            self._portal(emulator, options)
        elif action != "deliver":
            intent_id = self._payment_intent_id(options["payment"])
            if action == "pay":
                result = emulator.pay(intent_id, options["card"], processing=options["processing"])
            elif action == "authenticate":
                result = emulator.authenticate(intent_id, succeed=not options["fail"])
            else:
                result = emulator.settle(intent_id, succeed=not options["fail"])
            self._report(result)
        self._deliver(emulator)

    def _payment_intent_id(self, payment: str) -> str:
        if payment.startswith("pi_"):
            return payment
        from payments.models import Payment

        try:
            intent_id = (
                Payment.objects.filter(pk=payment)
                .values_list("stripe_payment_intent_id", flat=True)
                .first()
            )
        except ValidationError:  # not a UUID
            intent_id = None
        if not intent_id:
            raise CommandError(
                f"Unknown payment {payment!r}: give a Payment id or a PaymentIntent id (pi_...)."
            )
        return intent_id

    def _report(self, result: dict[str, Any]) -> None:
        intent, error = result["payment_intent"], result["error"]
        if error and error["type"] != "card_error":  # a card_error is the payment's outcome
            raise CommandError(error["message"])
        self.stdout.write(f"PaymentIntent {intent['id']}: {intent['status']}")
        failure = error or intent["last_payment_error"]
        if failure:
            reason = failure.get("decline_code") or failure["code"]
            self.stdout.write(
                self.style.WARNING(f"  payment failed: {reason}: {failure['message']}")
            )

    def _move_subscription(self, emulator: Emulator, options: dict[str, Any]) -> None:
        sub_id, move = options["subscription"], options["subscription_action"]
        if move == "advance":
            result = emulator.advance_subscription(sub_id, succeed=not options["fail"])
        elif move == "pause":
            result = emulator.pause_subscription(sub_id)
        elif move == "expire-update":
            result = emulator.expire_pending_update(sub_id)
        elif move == "upcoming":
            result = emulator.approach_period_end(sub_id)
        else:
            result = emulator.resume_subscription(sub_id)
        sub, invoice, error = result["subscription"], result["invoice"], result["error"]
        if error and error["type"] != "card_error":  # a card_error is the renewal's outcome
            raise CommandError(error["message"])
        self.stdout.write(f"Subscription {sub['id']}: {sub['status']}")
        self.stdout.write(f"  price {sub['items']['data'][0]['price']['id']}")
        if sub["pending_update"]:
            [item] = sub["pending_update"]["subscription_items"]
            self.stdout.write(f"  pending update to {item['price']['id']}, until its invoice is paid")
        if invoice:
            amount = format_amount(invoice["amount_due"], invoice["currency"])
            self.stdout.write(
                f"Invoice {invoice['id']} {invoice['number']}, {amount}: {invoice['status']}"
            )
        if error:
            reason = error.get("decline_code") or error["code"]
            self.stdout.write(self.style.WARNING(f"  payment failed: {reason}: {error['message']}"))

    def _checkout(self, emulator: Emulator, options: dict[str, Any]) -> None:
        session_id, move = options["session"], options["checkout_action"]
        if move == "complete":
            result = emulator.complete_checkout(
                session_id, options["card"], delayed=options["delayed"]
            )
        elif move == "settle":
            result = emulator.settle_checkout(session_id, succeed=not options["fail"])
        else:
            result = emulator.expire_checkout(session_id)
        session, error = result["session"], result["error"]
        if error and error["type"] != "card_error":  # a card_error is the payment's outcome
            raise CommandError(error["message"])
        self.stdout.write(
            f"Checkout Session {session['id']}: {session['status']}, {session['payment_status']}"
        )
        for field, name in (("payment_intent", "PaymentIntent"), ("subscription", "Subscription")):
            if session[field]:
                status = emulator.retrieve(session[field])["status"]
                self.stdout.write(f"  {name} {session[field]}: {status}")
        if error:
            reason = error.get("decline_code") or error["code"]
            self.stdout.write(self.style.WARNING(f"  payment failed: {reason}: {error['message']}"))

    def _setup(self, emulator: Emulator, options: dict[str, Any]) -> None:
        setup_id = options["setup_intent"]
        if setup_id.startswith("sub_"):
            try:
                setup_id = emulator.retrieve(setup_id)["pending_setup_intent"] or ""
            except KeyError:
                raise CommandError(f"No such subscription: {setup_id}") from None
            if not setup_id:
                raise CommandError(f"Subscription {options['setup_intent']} has no pending SetupIntent.")
        if options["setup_action"] == "confirm":
            result = emulator.confirm_setup(setup_id, options["card"])
        else:
            result = emulator.authenticate_setup(setup_id, succeed=not options["fail"])
        intent, error = result["setup_intent"], result["error"]
        if error and error["type"] != "card_error":  # a card_error is the setup's outcome
            raise CommandError(error["message"])
        self.stdout.write(f"SetupIntent {intent['id']}: {intent['status']}")
        failure = error or intent["last_setup_error"]
        if failure:
            reason = failure.get("decline_code") or failure["code"]
            self.stdout.write(self.style.WARNING(f"  setup failed: {reason}: {failure['message']}"))

    def _portal(self, emulator: Emulator, options: dict[str, Any]) -> None:
        session_id = options["session"]
        if "/p/session/" in session_id:  # the url the API answered
            found = emulator.portal_session_by_url(session_id.rstrip("/").rsplit("/", 1)[-1])
            session_id = found["id"] if found else session_id
        try:
            emulator.retrieve(session_id)
        except KeyError:
            raise CommandError(f"No such billing portal session: {session_id}") from None
        if options["portal_action"] == "card":
            result = emulator.portal_update_card(session_id, options["card"])
            if result["error"]:
                raise CommandError(result["error"]["message"])
            card = result["payment_method"]["card"]
            self.stdout.write(f"Customer {result['customer']['id']}: default card {card['brand']} {card['last4']}")
            return
        result = emulator.portal_cancel(session_id, options["subscription"])
        if result["error"]:
            raise CommandError(result["error"]["message"])
        self.stdout.write(f"Subscription {result['subscription']['id']}: cancels at period end")

    def _report_refund(self, refund: dict[str, Any]) -> None:
        amount = format_amount(refund["amount"], refund["currency"])
        line = f"Refund {refund['id']} of {refund['payment_intent']}, {amount}: {refund['status']}"
        if refund["failure_reason"]:
            self.stdout.write(self.style.WARNING(f"{line} ({refund['failure_reason']})"))
        else:
            self.stdout.write(line)

    def _deliver(self, emulator: Emulator) -> None:
        results = emulator.deliver_pending()
        self.stdout.write(f"Webhooks to {emulator.webhook_url}: {len(results) or 'none pending'}")
        failed = []
        for event_id, status in results:
            event_type = emulator.retrieve(event_id)["type"]
            line = f"  {event_id} {event_type} -> {status or 'unreachable'}"
            if 200 <= status < 300:
                self.stdout.write(self.style.SUCCESS(line))
            else:
                self.stdout.write(self.style.ERROR(line))
                failed.append(event_id)
        if failed:
            raise CommandError(
                f"{len(failed)} event(s) not accepted by {emulator.webhook_url}; they stay pending"
                " ('stripe_emulator deliver' retries)."
            )

    def _list_events(self, emulator: Emulator, limit: int) -> None:
        for stored in emulator.events()[-limit:]:
            event = stored.event
            state = "delivered" if stored.delivered else f"pending ({stored.attempts} attempts)"
            subject = event["data"]["object"]
            self.stdout.write(
                f"{stored.seq:>5} {event['id']} {event['type']:<32} {subject['id']}"
                f" {subject.get('status') or ''} {state}"
            )
