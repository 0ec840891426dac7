"""payments_ledger: totals per currency and day (UTC) with --since/--until, and
--check-balance against Stripe's balance (exit 1 on a difference)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from django.contrib.auth.models import Permission

from payments.models import Payment, Transaction
from payments.services.refunds import refund_payment
from tests.payments.conftest import run

# A db test never commits: the ledger's after-commit completion runs at once (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("ledger_at_once")


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=timezone.utc)


@pytest.fixture
def ledger(start, emulator, deliver, django_user_model):
    """Two charges on 1 March (€29.99, $10.99), a €10.00 refund on 2 March and a
    €5.00 one just before midnight on 3 March (UTC): real movements at Stripe,
    their dates moved so they fall on different days."""
    staff = django_user_model.objects.create_user("cashier", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="add_refund", content_type__app_label="payments"))
    eur, usd = start(), start("basic_usd")
    for payment in (eur, usd):
        emulator.pay(payment.stripe_payment_intent_id)
    assert all(code == 200 for _, code in deliver())
    ten = refund_payment(actor=staff, payment_id=str(eur.pk), amount=1000).refund
    five = refund_payment(actor=staff, payment_id=str(eur.pk), amount=500).refund
    Transaction.objects.filter(type="charge").update(occurred_at=at("2026-03-01", 9))
    Transaction.objects.filter(refund=ten).update(occurred_at=at("2026-03-02"))
    Transaction.objects.filter(refund=five).update(occurred_at=at("2026-03-03", 23).replace(minute=59, second=59))
    assert Transaction.objects.count() == 4
    return Payment.objects.get(pk=eur.pk)


def rows(out: str) -> list[list[str]]:
    """The table's lines, split into columns (header left out)."""
    lines = out.splitlines()
    assert lines[0].split() == ["day", "cur", "count", "gross", "fee", "net"]
    return [line.split() for line in lines[1:] if not line.startswith("balance ")]


def test_totals_per_currency_and_day(ledger):
    assert rows(run("payments_ledger").out) == [
        ["2026-03-01", "eur", "1", "€29.99", "€1.17", "€28.82"],
        ["2026-03-01", "usd", "1", "$10.99", "$0.62", "$10.37"],
        ["2026-03-02", "eur", "1", "-€10.00", "€0.00", "-€10.00"],
        ["2026-03-03", "eur", "1", "-€5.00", "€0.00", "-€5.00"],
    ]


def test_since_is_the_first_day_and_until_the_day_after_the_last(ledger):
    assert rows(run("payments_ledger", "--since", "2026-03-02").out) == [
        ["2026-03-02", "eur", "1", "-€10.00", "€0.00", "-€10.00"],
        ["2026-03-03", "eur", "1", "-€5.00", "€0.00", "-€5.00"],
    ]
    assert rows(run("payments_ledger", "--until", "2026-03-02").out) == [
        ["2026-03-01", "eur", "1", "€29.99", "€1.17", "€28.82"],
        ["2026-03-01", "usd", "1", "$10.99", "$0.62", "$10.37"],
    ]
    assert rows(run("payments_ledger", "--since", "2026-03-02", "--until", "2026-03-03").out) == [
        ["2026-03-02", "eur", "1", "-€10.00", "€0.00", "-€10.00"],
    ]
    assert rows(run("payments_ledger", "--since", "2026-03-04").out) == [["(no", "transactions)"]]


def test_a_bad_date_is_a_usage_error_not_a_traceback(db, capsys):
    from payments.management.commands.payments_ledger import Command

    ran = run("payments_ledger", "--since", "2026-13-01", fails=True)
    assert str(ran.error) == "Error: argument --since: not a date (YYYY-MM-DD): 2026-13-01"
    with pytest.raises(SystemExit) as exited:  # as from manage.py: usage and exit status 2
        Command().run_from_argv(["manage.py", "payments_ledger", "--until", "tomorrow"])
    assert exited.value.code == 2
    assert "error: argument --until: not a date (YYYY-MM-DD): tomorrow" in capsys.readouterr().err


def test_check_balance_agrees_with_stripe(ledger):
    out = run("payments_ledger", "--since", "2026-03-02", "--check-balance").out
    # The balance is compared over all time, whatever --since shows.
    assert "balance eur: ledger 1382, stripe 1382  ok" in out
    assert "balance usd: ledger 1037, stripe 1037  ok" in out


def test_check_balance_reports_a_difference_and_exits_1(ledger, emulator):
    """A refund made in the Dashboard whose events have not arrived: Stripe's
    balance is lower than the ledger's net."""
    emulator.dashboard_refund(ledger.stripe_payment_intent_id, 250)
    ran = run("payments_ledger", "--check-balance", fails=True)
    assert "balance eur: ledger 1382, stripe 1132  DIFFERS" in ran.out
    assert "balance usd: ledger 1037, stripe 1037  ok" in ran.out
    assert str(ran.error) == "the ledger differs from Stripe's balance in eur"


def test_check_balance_when_stripe_cannot_be_read(ledger, emulator):
    emulator.inject_fault("500", path_prefix="/v1/balance")
    ran = run("payments_ledger", "--check-balance", fails=True)
    assert str(ran.error).startswith("could not read Stripe's balance:")
