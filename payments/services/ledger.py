"""The ledger: one Transaction per money movement, with Stripe's gross, fee and net."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timezone

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from payments import gateway
from payments.models import Payment, Refund, Transaction

logger = logging.getLogger(__name__)


def record_balance_transaction(
    *, payment: Payment, balance_transaction_id: str, refund: Refund | None = None
) -> Transaction:
    """Record a balance transaction once (unique Stripe id), fetching it from Stripe
    only the first time: events carry its id, not its amounts."""
    existing = Transaction.objects.filter(stripe_balance_transaction_id=balance_transaction_id).first()
    if existing is not None:
        return existing
    txn = gateway.retrieve_balance_transaction(balance_transaction_id)
    return _store(payment=payment, refund=refund, txn=txn)


def record_charge(*, payment: Payment, charge_id: str) -> Transaction | None:
    if Transaction.objects.filter(payment=payment, type=Transaction.Type.CHARGE, stripe_source_id=charge_id).exists():
        return None
    txn = gateway.retrieve_charge_balance_transaction(charge_id)
    return _store(payment=payment, refund=None, txn=txn) if txn else None


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


def _store(*, payment: Payment, refund: Refund | None, txn: gateway.BalanceTransactionData) -> Transaction:
    kind = kind_of(txn.type)
    if kind == Transaction.Type.UNKNOWN:
        logger.warning(
            "balance transaction %s has type %r, unknown to stripe-python %s: recorded as unknown (gross %s, fee %s,"
            " net %s %s)", txn.id, txn.type, gateway.STRIPE_VERSION, txn.amount, txn.fee, txn.net, txn.currency,
        )
    row, _ = Transaction.objects.get_or_create(
        stripe_balance_transaction_id=txn.id,
        defaults={
            "payment": payment,
            "refund": refund,
            "type": kind,
            "stripe_type": txn.type[:64],
            "currency": txn.currency,
            "gross": txn.amount,
            "fee": txn.fee,
            "net": txn.net,
            "stripe_source_id": txn.source or "",
            "occurred_at": datetime.fromtimestamp(txn.created, tz=timezone.utc),
        },
    )
    return row


@dataclass(frozen=True)
class LedgerLine:
    day: date | None
    currency: str
    count: int
    gross: int
    fee: int
    net: int


def ledger_totals(*, since: datetime | None = None, until: datetime | None = None, by_day: bool = True) -> list[LedgerLine]:
    """Totals per currency (and day, UTC), oldest first."""
    qs = Transaction.objects.all()
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
