"""Process stored webhook events again (failed or received ones), oldest first,
once their cause is fixed. The work is payments.operations.replay.replay_events."""

from django.core.management.base import BaseCommand, CommandError

from payments.errors import InvalidInput
from payments.models import WebhookEvent
from payments.operations.replay import replay_events
from payments.services.reports import parse_since

STATUSES = (WebhookEvent.Status.FAILED, WebhookEvent.Status.RECEIVED)


class Command(BaseCommand):
    help = "Process stored failed/received webhook events again, oldest first; exit 1 if any fails."

    def add_arguments(self, parser):
        parser.add_argument("--id", action="append", default=[], dest="ids", metavar="EVENT_ID",
                            help="a stored event's Stripe id (evt_...); repeatable")
        parser.add_argument("--type", dest="event_type", help="event type, e.g. payment_intent.succeeded; may end in *")
        parser.add_argument("--since", help="events created by Stripe since: ISO date/datetime (UTC), or 2h / 3d ago")
        parser.add_argument("--status", choices=[s.value for s in STATUSES],
                            help="only events stored with this status (default: failed and received)")
        parser.add_argument("--dry-run", action="store_true", help="list what would be processed, change nothing")

    def handle(self, *args, ids=(), event_type=None, since=None, status=None, dry_run=False, **options):
        try:
            moment = parse_since(since) if since else None
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        report = replay_events(
            ids=ids, event_type=event_type, since=moment, statuses=[status] if status else STATUSES, dry_run=dry_run,
        )
        self.stdout.write(f"Replay of stored events{' (dry run: nothing changed)' if dry_run else ''}")
        for line in report.lines(hide=()):
            self.stdout.write(f"  {line}")
        if not report.outcomes:
            self.stdout.write("  (no stored event matches)")
        self.stdout.write(f"Summary: {report.summary()}")
        if report.failures:
            raise CommandError(f"{len(report.failures)} failed: " + "; ".join(str(o) for o in report.failures))
