"""Totals of the ledger per currency and day, and (with --check-balance) the
comparison with Stripe's balance."""

import argparse
from datetime import datetime, timezone

from django.core.management.base import BaseCommand, CommandError

from payments import gateway
from payments.errors import PaymentsError
from payments.money import format_amount
from payments.services.ledger import ledger_totals


def _day(value: str) -> datetime:
    """A UTC day. A bad one is argparse's usage error (exit 2 from the command
    line, CommandError from call_command), not a traceback."""
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value}") from exc


class Command(BaseCommand):
    help = "Print gross, fee and net per currency and day (UTC) from the ledger's transactions."

    def add_arguments(self, parser):
        parser.add_argument("--since", type=_day, help="first day, YYYY-MM-DD")
        parser.add_argument("--until", type=_day, help="day after the last, YYYY-MM-DD")
        parser.add_argument(
            "--check-balance", action="store_true",
            help="compare the net per currency (all time) with Stripe's balance; exit 1 on a difference",
        )

    def handle(self, *args, since=None, until=None, check_balance=False, **options):
        lines = ledger_totals(since=since, until=until)
        self.stdout.write(f"{'day':<10}  {'cur':<3}  {'count':>5}  {'gross':>14}  {'fee':>12}  {'net':>14}")
        for line in lines:
            self.stdout.write(
                f"{line.day:%Y-%m-%d}  {line.currency:<3}  {line.count:>5}  {format_amount(line.gross, line.currency):>14}"
                f"  {format_amount(line.fee, line.currency):>12}  {format_amount(line.net, line.currency):>14}"
            )
        if not lines:
            self.stdout.write("(no transactions)")
        if not check_balance:
            return
        ours = {line.currency: line.net for line in ledger_totals(by_day=False)}
        try:
            stripe = gateway.retrieve_balance()
        except PaymentsError as exc:
            raise CommandError(f"could not read Stripe's balance: {exc.message}") from exc
        differences = {
            currency: (ours.get(currency, 0), stripe.get(currency, 0))
            for currency in sorted(set(ours) | set(stripe))
            if ours.get(currency, 0) != stripe.get(currency, 0)
        }
        for currency in sorted(set(ours) | set(stripe)):
            mark = "DIFFERS" if currency in differences else "ok"
            self.stdout.write(f"balance {currency}: ledger {ours.get(currency, 0)}, stripe {stripe.get(currency, 0)}  {mark}")
        if differences:
            raise CommandError(f"the ledger differs from Stripe's balance in {', '.join(differences)}")
