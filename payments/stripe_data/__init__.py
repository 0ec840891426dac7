"""The plain values the gateway answers with, and the readers that make them
from Stripe's JSON (an API answer, an event's object, a stored delivery).

Apart from the gateway so that code which only reads Stripe's data (the webhook
handlers, the replay of stored events) needs neither the ``stripe`` library nor
a client: nothing in this package imports it (tests/payments/test_import_graph.py).
A reader raises MalformedStripeObject for data it cannot read, whatever the
damage, so that callers can tell Stripe's bad data from a bug of ours.
"""

from payments.stripe_data.billing import (
    InvoiceData,
    InvoiceLineData,
    InvoicePreviewData,
    SubscriptionData,
    invoice_from_dict,
    invoice_preview_from_dict,
    subscription_from_dict,
)
from payments.stripe_data.catalog import PriceData, ProductData, price_from_dict, product_from_dict
from payments.stripe_data.checkout import CheckoutSessionData, checkout_session_from_dict
from payments.stripe_data.events import (
    WebhookEndpointData,
    WebhookEventData,
    event_from_dict,
    payment_intent_id_of,
    webhook_endpoint_from_dict,
)
from payments.stripe_data.payments import (
    PAYMENT_INTENT_STATUSES,
    REFUND_STATUSES,
    BalanceTransactionData,
    ChargeData,
    CustomerData,
    PaymentIntentData,
    RefundData,
    balance_transaction_from_dict,
    charge_from_dict,
    customer_from_dict,
    payment_intent_from_dict,
    refund_from_dict,
)

__all__ = [
    "PAYMENT_INTENT_STATUSES",
    "REFUND_STATUSES",
    "BalanceTransactionData",
    "ChargeData",
    "CheckoutSessionData",
    "CustomerData",
    "InvoiceData",
    "InvoiceLineData",
    "InvoicePreviewData",
    "PaymentIntentData",
    "PriceData",
    "ProductData",
    "RefundData",
    "SubscriptionData",
    "WebhookEndpointData",
    "WebhookEventData",
    "balance_transaction_from_dict",
    "charge_from_dict",
    "checkout_session_from_dict",
    "customer_from_dict",
    "event_from_dict",
    "invoice_from_dict",
    "invoice_preview_from_dict",
    "payment_intent_from_dict",
    "payment_intent_id_of",
    "price_from_dict",
    "product_from_dict",
    "refund_from_dict",
    "subscription_from_dict",
    "webhook_endpoint_from_dict",
]
