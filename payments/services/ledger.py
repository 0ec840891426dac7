"""The ledger: one Transaction per money movement, with Stripe's gross, fee and net."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timezone

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from payments import gateway
from payments.errors import PaymentsError
from payments.services import receipts
from payments.models import Payment, Refund, Transaction

logger = logging.getLogger(__name__)


def record_balance_transaction(
    *, payment: Payment, balance_transaction_id: str, refund: Refund | None = None,
    kind: str = Transaction.Type.REFUND,
) -> Transaction:
    """The ledger row of a balance transaction whose id we know (a refund's), once
    (unique Stripe id): written incomplete now, in the caller's transaction, and
    completed from Stripe after it commits (``complete_after_commit``)."""
    row, created = Transaction.objects.get_or_create(
        stripe_balance_transaction_id=balance_transaction_id,
        defaults={"payment": payment, "refund": refund, "type": kind, "currency": payment.currency},
    )
    if created:
        complete_after_commit(row)
    return row


def record_charge(*, payment: Payment, charge_id: str) -> Transaction | None:
    """The ledger row of a payment's charge, once: written incomplete now (one
    INSERT, in the caller's transaction, under the Payment's lock, which makes it
    once), its balance transaction fetched from Stripe after the commit
    (``complete_after_commit``). None when the charge has its row already."""
    if Transaction.objects.filter(payment=payment, type=Transaction.Type.CHARGE, stripe_source_id=charge_id).exists():
        return None
    row = Transaction.objects.create(
        payment=payment, type=Transaction.Type.CHARGE, currency=payment.currency, stripe_source_id=charge_id
    )
    complete_after_commit(row)
    return row


def complete_after_commit(row: Transaction) -> None:
    """Complete ``row`` once the current transaction commits (at once outside
    one): the Stripe call is never made while the caller's locks are held, and
    a rolled-back row is never fetched for. ``robust``: a failure there cannot
    undo what committed; the row stays incomplete for ``payments_reconcile``."""
    transaction.on_commit(lambda: complete(row.pk), robust=True)


def complete(pk: int) -> Transaction | None:
    """Fetch an incomplete row's balance transaction from Stripe (no lock held,
    outside any transaction of ours) and fill its amounts, once: the UPDATE
    applies only while the row is incomplete, so a concurrent completion (a
    reconcile, a redelivery's callback) changes nothing. None when the row is
    complete or gone already, or Stripe could not say yet (it stays incomplete:
    Stripe unreachable, or a charge with no balance transaction yet)."""
    row = Transaction.objects.filter(pk=pk, gross__isnull=True).first()
    if row is None:
        return None
    try:
        if row.stripe_balance_transaction_id:
            txn = gateway.retrieve_balance_transaction(row.stripe_balance_transaction_id)
        else:
            charge = gateway.retrieve_charge(row.stripe_source_id)  # with its balance transaction
            txn = charge.balance_transaction
            if row.payment_id:  # the same read tells what paid and the receipt (services.receipts)
                receipts.record_charge_details(payment_id=row.payment_id, data=charge)
    except PaymentsError as exc:
        logger.warning("ledger row %s stays incomplete (payments_reconcile completes it): %s", row.pk, exc.message)
        return None
    if txn is None:
        logger.info("charge %s has no balance transaction yet: ledger row %s stays incomplete", row.stripe_source_id, row.pk)
        return None
    kind = kind_of(txn.type)
    _warn_unknown(kind, txn)
    fields = {
        "type": kind,
        "stripe_type": txn.type[:64],
        "currency": txn.currency,
        "gross": txn.amount,
        "fee": txn.fee,
        "net": txn.net,
        "stripe_balance_transaction_id": txn.id,
        "occurred_at": datetime.fromtimestamp(txn.created, tz=timezone.utc),
    }
    if not row.stripe_source_id:
        fields["stripe_source_id"] = txn.source or ""
    update = Transaction.objects.filter(pk=pk, gross__isnull=True)
    try:
        if connection.in_atomic_block:  # a savepoint, so that a caller's transaction survives the conflict
            with transaction.atomic():
                done = update.update(**fields)
        else:  # after the webhook's commit: one statement in autocommit
            done = update.update(**fields)
    except IntegrityError:
        # Its balance transaction is another row's already (recorded before this row was).
        logger.warning("balance transaction %s is recorded already: ledger row %s left incomplete", txn.id, pk)
        return None
    if not done:
        return None
    for name, value in fields.items():
        setattr(row, name, value)
    return row


def incomplete_rows():
    return Transaction.objects.filter(gross__isnull=True).order_by("recorded_at", "pk")


# Stripe's balance transaction types that are a charge or a refund to us: a card
# payment is "charge", other methods' are "payment" (and their refunds
# "payment_refund", a failed one of those "payment_failure_refund").
_KINDS = {
    "charge": Transaction.Type.CHARGE,
    "payment": Transaction.Type.CHARGE,
    "refund": Transaction.Type.REFUND,
    "payment_refund": Transaction.Type.REFUND,
    "refund_failure": Transaction.Type.REFUND_FAILURE,
    "payment_failure_refund": Transaction.Type.REFUND_FAILURE,
}
assert set(_KINDS) <= gateway.BALANCE_TRANSACTION_TYPES, set(_KINDS) - gateway.BALANCE_TRANSACTION_TYPES
# Every type of the pinned API version (read from stripe-python's typed class) has a kind.
KINDS: dict[str, str] = {kind: _KINDS.get(kind, Transaction.Type.OTHER) for kind in gateway.BALANCE_TRANSACTION_TYPES}


def kind_of(stripe_type: str) -> str:
    """Our Transaction.Type for a Stripe balance transaction type; one newer than
    the installed stripe-python is UNKNOWN (recorded with its amounts, never refused)."""
    return KINDS.get(stripe_type, Transaction.Type.UNKNOWN)


def _warn_unknown(kind: str, txn: gateway.BalanceTransactionData) -> None:
    if kind == Transaction.Type.UNKNOWN:
        logger.warning(
            "balance transaction %s has type %r, unknown to stripe-python %s: recorded as unknown (gross %s, fee %s,"
            " net %s %s)", txn.id, txn.type, gateway.STRIPE_VERSION, txn.amount, txn.fee, txn.net, txn.currency,
        )


@dataclass(frozen=True)
class LedgerLine:
    day: date | None
    currency: str
    count: int
    gross: int
    fee: int
    net: int


def ledger_totals(*, since: datetime | None = None, until: datetime | None = None, by_day: bool = True) -> list[LedgerLine]:
    """Totals per currency (and day, UTC), oldest first, of the complete rows."""
    qs = Transaction.objects.filter(gross__isnull=False)
    if since:
        qs = qs.filter(occurred_at__gte=since)
    if until:
        qs = qs.filter(occurred_at__lt=until)
    keys = ["day", "currency"] if by_day else ["currency"]
    if by_day:
        qs = qs.annotate(day=TruncDate("occurred_at", tzinfo=timezone.utc))
    rows = qs.values(*keys).annotate(count=Count("id"), gross=Sum("gross"), fee=Sum("fee"), net=Sum("net")).order_by(*keys)
    return [
        LedgerLine(day=row.get("day"), currency=row["currency"], count=row["count"], gross=row["gross"], fee=row["fee"], net=row["net"])
        for row in rows
    ]
