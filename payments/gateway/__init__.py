"""The only code of the product that imports ``stripe``: one module per Stripe
resource, all sending through ``client`` (the pinned client, the log line, the
error translation). Every POST carries an idempotency key chosen by the caller;
answers come back as the plain values of payments.stripe_data.

Callers write ``from payments import gateway; gateway.create_refund(...)``: this
module re-exports every call and value, so they need not know the layout.
"""

from payments.gateway.balance import (
    BALANCE_TRANSACTION_TYPES,
    retrieve_balance,
    retrieve_balance_transaction,
    retrieve_charge,
    retrieve_charge_balance_transaction,
)
from payments.gateway.billing import (
    cancel_subscription_now,
    create_subscription,
    retrieve_invoice,
    retrieve_subscription,
    set_cancel_at_period_end,
)
from payments.gateway.billing_portal import create_billing_portal_session
from payments.gateway.catalog import (
    create_price,
    create_product,
    list_prices,
    list_products,
    retrieve_price,
    retrieve_product,
    set_price_active,
    update_product,
)
from payments.gateway.checkout import create_checkout_session, expire_checkout_session, retrieve_checkout_session
from payments.gateway.client import NO_SECRET_KEY, STRIPE_VERSION, get_client, reset_client
from payments.gateway.customers import create_customer
from payments.gateway.payment_intents import cancel_payment_intent, create_payment_intent, retrieve_payment_intent
from payments.gateway.refunds import create_refund, list_refunds
from payments.gateway.webhooks import (
    create_webhook_endpoint,
    list_events,
    list_webhook_endpoints,
    parse_webhook,
    sign_webhook_payload,
    update_webhook_endpoint,
)
from payments.stripe_data import (
    PAYMENT_INTENT_STATUSES,
    REFUND_STATUSES,
    BalanceTransactionData,
    ChargeData,
    CheckoutSessionData,
    CustomerData,
    InvoiceData,
    PaymentIntentData,
    PriceData,
    ProductData,
    RefundData,
    SubscriptionData,
    WebhookEndpointData,
    WebhookEventData,
    balance_transaction_from_dict,
    charge_from_dict,
    checkout_session_from_dict,
    customer_from_dict,
    event_from_dict,
    invoice_from_dict,
    payment_intent_from_dict,
    price_from_dict,
    product_from_dict,
    refund_from_dict,
    subscription_from_dict,
    webhook_endpoint_from_dict,
)

__all__ = [
    "BALANCE_TRANSACTION_TYPES",
    "NO_SECRET_KEY",
    "PAYMENT_INTENT_STATUSES",
    "REFUND_STATUSES",
    "STRIPE_VERSION",
    "BalanceTransactionData",
    "ChargeData",
    "CheckoutSessionData",
    "CustomerData",
    "InvoiceData",
    "PaymentIntentData",
    "PriceData",
    "ProductData",
    "RefundData",
    "SubscriptionData",
    "WebhookEndpointData",
    "WebhookEventData",
    "balance_transaction_from_dict",
    "cancel_payment_intent",
    "cancel_subscription_now",
    "charge_from_dict",
    "checkout_session_from_dict",
    "create_billing_portal_session",
    "create_checkout_session",
    "create_customer",
    "create_payment_intent",
    "create_price",
    "create_product",
    "create_refund",
    "create_subscription",
    "create_webhook_endpoint",
    "customer_from_dict",
    "event_from_dict",
    "expire_checkout_session",
    "get_client",
    "invoice_from_dict",
    "list_events",
    "list_prices",
    "list_products",
    "list_refunds",
    "list_webhook_endpoints",
    "parse_webhook",
    "payment_intent_from_dict",
    "price_from_dict",
    "product_from_dict",
    "refund_from_dict",
    "reset_client",
    "retrieve_balance",
    "retrieve_balance_transaction",
    "retrieve_charge",
    "retrieve_charge_balance_transaction",
    "retrieve_checkout_session",
    "retrieve_invoice",
    "retrieve_payment_intent",
    "retrieve_price",
    "retrieve_product",
    "retrieve_subscription",
    "set_cancel_at_period_end",
    "set_price_active",
    "sign_webhook_payload",
    "subscription_from_dict",
    "update_product",
    "update_webhook_endpoint",
    "webhook_endpoint_from_dict",
]
