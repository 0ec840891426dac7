from .catalog import Price, Tier
from .customer import Customer
from .payment import Payment, PaymentStatus, Refund
from .webhook import WebhookEvent

__all__ = ["Customer", "Payment", "PaymentStatus", "Price", "Refund", "Tier", "WebhookEvent"]
