"""What paid a payment and Stripe's receipt of it (``Payment.paymentMethod``,
``Payment.receiptUrl``), from the succeeded charge: the charge.succeeded and
charge.updated webhooks carry it, and the charge the ledger reads after commit
anyway (services.ledger) carries it too, which covers an invoice's payment
whose charge event came before its Payment existed. No Stripe call of its own.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from payments.models import Payment
from payments.stripe_data import ChargeData

logger = logging.getLogger(__name__)


def apply_charge(*, data: ChargeData) -> Payment | None:
    """A charge's snapshot (a webhook's): recorded on its Payment once it succeeded."""
    if data.status != "succeeded" or not data.payment_intent:
        return None
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(stripe_payment_intent_id=data.payment_intent).first()
        if payment is None:
            logger.info("charge %s is for PaymentIntent %s, not (yet) a payment of ours", data.id, data.payment_intent)
            return None
        _record(payment, data)
        return payment


def record_charge_details(*, payment_id, data: ChargeData) -> None:
    """The charge the ledger just read for ``payment_id``, after the webhook's commit:
    one SELECT when the row has it already (charge.succeeded came first), else one
    UPDATE, both outside any transaction and without a row lock; the UPDATE applies
    only while no other charge is recorded, so it races nothing."""
    if data.status != "succeeded":
        return
    fields = _fields(data)
    row = Payment.objects.filter(pk=payment_id, stripe_payment_intent_id=data.payment_intent).values(
        *fields
    ).first()
    if row is None or all(row[name] == value for name, value in fields.items()):
        return
    Payment.objects.filter(pk=payment_id, stripe_payment_intent_id=data.payment_intent).filter(
        Q(stripe_charge_id="") | Q(stripe_charge_id=data.id)
    ).update(**fields, updated_at=timezone.now())


def _fields(data: ChargeData) -> dict[str, str]:
    """What the charge says, without its blanks (a later snapshot adds, never blanks)."""
    fields = {
        "stripe_charge_id": data.id,
        "payment_method_type": data.payment_method_type,
        "card_brand": data.card_brand,
        "card_last4": data.card_last4,
        "receipt_url": data.receipt_url,
    }
    return {name: value for name, value in fields.items() if value}


def _record(payment: Payment, data: ChargeData) -> None:
    """Fill what the charge says and the row lacks: a later snapshot adds (Stripe fills
    receipt_url after the charge), never blanks; another succeeded charge is not ours."""
    if payment.stripe_charge_id and payment.stripe_charge_id != data.id:
        logger.warning(
            "payment %s was paid by charge %s; charge %s of the same PaymentIntent ignored",
            payment.pk, payment.stripe_charge_id, data.id,
        )
        return
    fields = _fields(data)
    changed = [name for name, value in fields.items() if getattr(payment, name) != value]
    for name in changed:
        setattr(payment, name, fields[name])
    if changed:
        payment.save(update_fields=[*changed, "updated_at"])
