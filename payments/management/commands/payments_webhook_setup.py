"""Create (or update) the Stripe webhook endpoint for this server: exactly the
event types we handle, our pinned API version. The work is
payments.operations.webhook_setup.webhook_endpoint_setup."""

from django.core.management.base import BaseCommand, CommandError

from payments.errors import PaymentsError
from payments.operations.webhook_setup import webhook_endpoint_setup


class Command(BaseCommand):
    help = (
        "Create the Stripe webhook endpoint for --url (or update the one there is) with the event types we"
        " handle and the pinned API version; prints the signing secret once, on creation."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", required=True, help="https://<host>/api/payments/webhook/ (http only for localhost)")
        parser.add_argument("--dry-run", action="store_true", help="say what would be done, change nothing")

    def handle(self, *args, url, dry_run=False, **options):
        try:
            setup = webhook_endpoint_setup(url=url, dry_run=dry_run)
        except PaymentsError as exc:
            raise CommandError(exc.message) from exc
        endpoint = setup.endpoint
        self.stdout.write(f"Webhook endpoint for {setup.url}: {setup.action}{f' ({endpoint.id})' if endpoint else ''}")
        self.stdout.write(f"  API version: {setup.api_version}")
        self.stdout.write(f"  enabled events ({len(setup.enabled_events)}):")
        for event_type in setup.enabled_events:
            self.stdout.write(f"    {event_type}")
        if setup.added:
            self.stdout.write(f"  added: {', '.join(setup.added)}")
        if setup.removed:
            self.stdout.write(f"  removed: {', '.join(setup.removed)}")
        if setup.action == "created":
            self.stdout.write(f"  signing secret: {setup.secret}")
            self.stdout.write(
                "  Put it into STRIPE_WEBHOOK_SECRET now: Stripe shows it only this once"
                " (Dashboard > Webhooks can roll a new one)."
            )
        elif endpoint is not None:
            self.stdout.write("  The signing secret is unchanged: STRIPE_WEBHOOK_SECRET stays as it is.")
        for warning in setup.warnings:
            self.stderr.write(f"warning: {warning}")
        if setup.problems:
            raise CommandError(" ".join(setup.problems))
