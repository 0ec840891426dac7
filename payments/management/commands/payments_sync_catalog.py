"""Push our catalog (Tier, Price) to Stripe, or pull Stripe's products and prices
into it. The work is payments.services.catalog_sync.catalog_push and catalog_pull.catalog_pull."""

from django.core.management.base import BaseCommand, CommandError

from payments.services.catalog_pull import catalog_pull
from payments.services.catalog_sync import catalog_push


class Command(BaseCommand):
    help = (
        "--push: create missing Stripe Products/Prices, replace Stripe Prices whose amount, currency or"
        " interval was edited here (the old one is deactivated), update Products, deactivate what is inactive"
        " here. --pull: link or create Tier/Price rows for Stripe's products and prices, take their active flags."
    )

    def add_arguments(self, parser):
        direction = parser.add_mutually_exclusive_group(required=True)
        direction.add_argument("--push", action="store_true", help="our catalog -> Stripe")
        direction.add_argument("--pull", action="store_true", help="Stripe -> our catalog")
        parser.add_argument("--dry-run", action="store_true", help="read Stripe, say what would change, change nothing")

    def handle(self, *args, push=False, pull=False, dry_run=False, verbosity=1, **options):
        report = catalog_push(dry_run=dry_run) if push else catalog_pull(dry_run=dry_run)
        what = "push to Stripe" if push else "pull from Stripe"
        self.stdout.write(f"Catalog {what}{' (dry run: nothing changed)' if dry_run else ''}")
        for line in report.lines(verbose=verbosity >= 2):
            self.stdout.write(f"  {line}")
        self.stdout.write(f"Summary: {report.summary()}")
        if report.failures:
            raise CommandError(f"{len(report.failures)} failed: " + "; ".join(str(o) for o in report.failures))
