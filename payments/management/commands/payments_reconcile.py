"""Heal what webhooks missed: Stripe's events we never processed, open payments,
the subscriptions whose re-read is pending and live subscriptions read again
from Stripe, refunds whose answer never came sent again. The work is
payments.operations.reconcile.reconcile."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from payments.errors import InvalidInput
from payments.operations.reconcile import EVENT_RETENTION, reconcile, reread_counts, rereads_pending
from payments.services.reports import UNCHANGED, parse_since


def _minutes(value: str) -> int:
    try:
        minutes = int(value)
    except ValueError:
        minutes = -1
    if minutes < 0:
        raise CommandError(f"--pending-older-than takes whole minutes >= 0, not {value!r}")
    return minutes


class Command(BaseCommand):
    help = (
        "Process Stripe's events since --since that we never processed (GET /v1/events), then read and apply"
        " open payments older than --pending-older-than minutes, the subscriptions whose re-read from Stripe is"
        " pending (oldest first) and those that have not ended, and"
        " send again the refunds of that age whose Stripe answer never came."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since", default="3d",
            help="events created since: a duration ago (90m, 2h, 3d, 1w) or an ISO date/datetime (UTC);"
            " default 3d; Stripe keeps 30 days",
        )
        parser.add_argument(
            "--pending-older-than", type=_minutes, default=15, metavar="MINUTES",
            help="only payments created at least this long ago (default 15): younger ones are still being paid",
        )
        parser.add_argument("--dry-run", action="store_true", help="read Stripe, list what would be done, change nothing")

    def handle(self, *args, since="3d", pending_older_than=15, dry_run=False, verbosity=1, **options):
        try:
            moment = parse_since(since)
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        if moment < timezone.now() - EVENT_RETENTION:
            self.stderr.write(f"note: Stripe lists events of the last {EVENT_RETENTION.days} days only")
        report = reconcile(since=moment, pending_older_than=timedelta(minutes=pending_older_than), dry_run=dry_run)
        self.stdout.write(
            f"Reconcile: events since {moment:%Y-%m-%d %H:%M:%S %Z}, payments open for {pending_older_than}+ min,"
            f" pending re-reads, live subscriptions, unanswered refunds{' (dry run: nothing changed)' if dry_run else ''}"
        )
        for line in report.lines(verbose=verbosity >= 2, hide=(UNCHANGED, "event.known")):
            self.stdout.write(f"  {line}")
        examined = len(report.outcomes)
        applied = report.count_suffix(".applied")
        healed = report.count("event.healed")
        failed = len(report.failures)
        reread, reread_failed = reread_counts(report)
        self.stdout.write(
            f"Summary{' (dry run: what would be done)' if dry_run else ''}:"
            f" examined={examined} applied={applied} healed={healed} failed={failed}"
            f" reread={reread} reread_failed={reread_failed} reread_pending={rereads_pending()}"
        )
        if failed:
            raise CommandError(f"{failed} failed: " + "; ".join(str(o) for o in report.failures))
