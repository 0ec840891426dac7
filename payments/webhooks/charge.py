"""Charge events: the card that paid and Stripe's receipt, for Payment.paymentMethod
and receiptUrl. Order-proof because they only fill in what a charge of the
payment's own PaymentIntent says (a later snapshot never blanks a field, another
charge is ignored); the ledger's after-commit read of the charge fills the same
fields when these events never come, so no extra Stripe call is made for them."""

from payments.stripe_data import WebhookEventData, charge_from_dict
from payments.services.receipts import apply_charge


def on_charge(event: WebhookEventData) -> None:
    """charge.succeeded (and charge.updated, when Stripe fills the receipt in later)
    carry the charge: what paid and its receipt, recorded on its Payment."""
    apply_charge(data=charge_from_dict(event.object))


HANDLERS = {
    "charge.succeeded": on_charge,
    "charge.updated": on_charge,
}
