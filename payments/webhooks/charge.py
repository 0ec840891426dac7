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
