"""invoice.* events: a subscription's billing history and its payments. The
invoice applied is the snapshot at the event's ``created``; paid and void are
final (Invoice.apply_snapshot). Invoice events omit the invoice's payments,
so the PaymentIntent is read from Stripe once, only while we do not know it."""

import dataclasses

from payments.gateway import WebhookEventData, invoice_from_dict, retrieve_invoice
from payments.models import Customer, Invoice
from payments.services.subscription_sync import apply_invoice


def on_invoice(event: WebhookEventData) -> None:
    """Invoice events carry the invoice without its includable `payments` list:
    read the invoice once, while we do not know its PaymentIntent yet."""
    data = invoice_from_dict(event.object)
    ours = bool(data.customer) and Customer.objects.filter(stripe_customer_id=data.customer).exists()
    if ours and data.payment_intent is None and data.amount_due > 0 and data.status in ("open", "paid"):
        known = Invoice.objects.filter(stripe_invoice_id=data.id).exclude(stripe_payment_intent_id="").exists()
        if not known:
            data = dataclasses.replace(data, payment_intent=retrieve_invoice(data.id).payment_intent)
    apply_invoice(data=data, snapshot_at=event.created)


HANDLERS = {
    f"invoice.{kind}": on_invoice
    for kind in (
        "created", "finalized", "updated", "paid", "payment_succeeded", "payment_failed", "payment_action_required",
        "voided",  # a pending plan change's invoice, when the change expires
    )
}
