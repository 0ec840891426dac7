"""Telling the payable's app that it was paid for, or refunded in full."""

from __future__ import annotations

import logging

from payments import payables
from payments.models import Payment

logger = logging.getLogger(__name__)


def _payable(payment: Payment):
    if not payment.payable_type:
        return None, None
    adapter = payables.get_adapter(payment.payable_type)
    if adapter is None:
        logger.error("payment %s is for unknown payable type %r", payment.pk, payment.payable_type)
        return None, None
    obj = adapter.get_for_update(payment.payable_id)
    if obj is None:
        logger.error("payment %s is for missing %s %s", payment.pk, payment.payable_type, payment.payable_id)
    return adapter, obj


def fulfil(payment: Payment) -> None:
    adapter, obj = _payable(payment)
    if obj is not None:
        adapter.fulfil(obj, payment)


def revoke(payment: Payment) -> None:
    adapter, obj = _payable(payment)
    if obj is not None:
        adapter.revoke(obj, payment)
