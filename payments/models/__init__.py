from .catalog import Price, Tier
from .customer import Customer
from .ledger import Transaction
from .notification import Notification
from .payment import Payment, PaymentStatus
from .refund import Refund
from .subscription import Invoice, Subscription
from .subscription_checkout import SubscriptionCheckoutAttempt
from .webhook import WebhookEvent

__all__ = ["Customer", "Invoice", "Notification", "Payment", "PaymentStatus", "Price", "Refund", "Subscription", "SubscriptionCheckoutAttempt", "Tier", "Transaction", "WebhookEvent"]
