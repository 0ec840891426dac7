from .catalog import Price, Tier
from .customer import Customer
from .ledger import Transaction
from .payment import Payment, PaymentStatus
from .refund import Refund
from .webhook import WebhookEvent

__all__ = ["Customer", "Payment", "PaymentStatus", "Price", "Refund", "Tier", "Transaction", "WebhookEvent"]
