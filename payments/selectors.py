"""Reads for the API: who may see what, and pagination."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime

from collections.abc import Callable, Iterable

from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from payments.errors import InvalidInput
from payments.ids import int_id
from payments.ids import uuid_id as parse_uuid
from payments.models import Invoice, Payment, Price, Refund, Subscription, Tier
from payments.services import access

# The most rows any list of the API returns (newest first). The lists the
# contract gives no `first`/`after` (events, refunds, subscriptions, invoices,
# Event.payments) stop there; `payments` pages by up to this many.
LIST_CAP = 100

# What a resolver does to a QuerySet before it is read (the GraphQL optimizer's plan).
Prepare = Callable[[QuerySet], QuerySet]


def tier_list() -> QuerySet[Tier]:
    return Tier.objects.filter(active=True).order_by("position", "id")


def active_prices() -> QuerySet[Price]:
    return Price.objects.filter(active=True).order_by("currency", "unit_amount", "id")


def payment_get_for_viewer(*, user, payment_id, any_with: tuple[str, ...] = access.VIEW_PAYMENT) -> Payment | None:
    """The payment when the viewer owns it, or is staff holding one of the
    permissions ``any_with``; None otherwise (existence is not leaked)."""
    pk = parse_uuid(payment_id)
    if pk is None or user is None or not user.is_authenticated:
        return None
    qs = Payment.objects.filter(pk=pk)
    if not access.holds_any(user, any_with):
        qs = qs.filter(user=user)
    return qs.first()


def user_active_tier(*, user) -> Tier | None:
    """The tier of the user's best entitling subscription (highest position), else None."""
    if user is None or not user.is_authenticated:
        return None
    best = (
        Subscription.objects.filter(user=user, status__in=Subscription.ENTITLING)
        .select_related("tier")
        .order_by("-tier__position", "-created_at")
        .first()
    )
    return best.tier if best else None


def subscription_list_for_viewer(*, user) -> QuerySet[Subscription]:
    """The newest LIST_CAP."""
    return Subscription.objects.filter(user=user).order_by("-created_at", "-id")[:LIST_CAP]


def subscription_get_for_viewer(
    *, user, subscription_id, any_with: tuple[str, ...] = access.CHANGE_SUBSCRIPTION
) -> Subscription | None:
    """The subscription when the viewer owns it, or is staff holding one of
    ``any_with``; None otherwise (existence is not leaked)."""
    pk = int_id(subscription_id)
    if user is None or not user.is_authenticated or pk is None:
        return None
    qs = Subscription.objects.filter(pk=pk)
    if not access.holds_any(user, any_with):
        qs = qs.filter(user=user)
    return qs.first()


def invoice_list_for_viewer(*, user) -> QuerySet[Invoice]:
    """The newest LIST_CAP."""
    return Invoice.objects.filter(user=user).order_by("-created_at", "-id")[:LIST_CAP]


def refund_list_for_viewer(*, user) -> QuerySet[Refund]:
    """The newest LIST_CAP."""
    return Refund.objects.filter(payment__user=user).order_by("-created_at", "-id")[:LIST_CAP]


def payments_of_payable(*, user, payable_type: str, payable_id) -> QuerySet[Payment]:
    """The user's payments for one payable, newest LIST_CAP first."""
    return Payment.objects.filter(user=user, payable_type=payable_type, payable_id=str(payable_id)).order_by(
        "-created_at", "-id"
    )[:LIST_CAP]


def payments_by_payable(
    *, user, payable_type: str, payable_ids: Iterable, prepare: Prepare | None = None
) -> dict[str, list[Payment]]:
    """The user's payments for many payables in one statement (plus what
    ``prepare`` prefetches): payable id -> its newest LIST_CAP, newest first."""
    ids = [str(pk) for pk in payable_ids]
    grouped: dict[str, list[Payment]] = {pk: [] for pk in ids}
    if not ids:
        return grouped
    qs = Payment.objects.filter(user=user, payable_type=payable_type, payable_id__in=ids)
    if prepare is not None:
        qs = prepare(qs)
    newest = [F("created_at").desc(), F("id").desc()]
    qs = qs.annotate(_rank=Window(RowNumber(), partition_by=[F("payable_id")], order_by=newest))
    for payment in qs.filter(_rank__lte=LIST_CAP).order_by(*newest):
        grouped[payment.payable_id].append(payment)
    return grouped


@dataclass(frozen=True)
class PaymentPage:
    payments: list[Payment]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    total_count: int


MAX_PAGE = LIST_CAP


def _cursor(payment: Payment) -> str:
    raw = f"{payment.created_at.isoformat()}|{payment.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created, pk = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(created), uuid.UUID(pk)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("Invalid cursor.", field="after") from exc


def payment_page_for_viewer(
    *, user, first: int = 20, after: str | None = None, status: str | None = None, prepare: Prepare | None = None
) -> PaymentPage:
    """The viewer's payments, newest first, keyset-paginated (stable under inserts).
    ``prepare`` plans the page's read (select/prefetch what the client asked for);
    the rows must carry ``created_at`` (the cursor)."""
    if not 0 <= first <= MAX_PAGE:
        raise InvalidInput(f"first must be between 0 and {MAX_PAGE}.", field="first")
    qs = Payment.objects.filter(user=user).order_by("-created_at", "-id")
    if status:
        qs = qs.filter(status=status)
    total = qs.count()
    if after:
        created, pk = _decode_cursor(after)
        qs = qs.filter(Q(created_at__lt=created) | Q(created_at=created, id__lt=pk))
    rows = list((prepare(qs) if prepare is not None else qs)[: first + 1])
    page = rows[:first]
    return PaymentPage(
        payments=page,
        cursors=[_cursor(p) for p in page],
        has_next_page=len(rows) > first,
        has_previous_page=bool(after),
        total_count=total,
    )
