"""The route table: each emulated endpoint, its handler (a method of ``Emulator``,
from one of the resource modules) and stripe-python's request params class for it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import stripe.params as sp


@dataclass(frozen=True)
class _Route:
    method: str
    path: str
    pattern: re.Pattern[str]
    handler: str
    # What Stripe accepts there, at the library's pinned API version (params.py).
    params: type
    # Parameters Stripe accepts that the emulator does not play: the values it
    # does play (None: no value), so it refuses the rest instead of acting as if
    # they had not been sent (see NOT_EMULATED).
    not_emulated: tuple[tuple[str, frozenset[str] | None], ...] = ()


def _route(method: str, path: str, handler: str, params: type) -> _Route:
    pattern = re.compile(path.replace("{id}", "([^/]+)"))
    return _Route(method, path, pattern, handler, params, NOT_EMULATED.get((method, path), ()))


# What the emulator would otherwise silently get wrong: a manual capture captured
# at once, a trial charged at once from Checkout, a trial without a card paused or
# canceled, a metered price billed as licensed, prorations left for the next
# invoice, a portal configured otherwise.
NOT_EMULATED: dict[tuple[str, str], tuple[tuple[str, frozenset[str] | None], ...]] = {
    ("POST", "/v1/payment_intents"): (("capture_method", frozenset({"automatic", "automatic_async"})),),
    ("POST", "/v1/subscriptions"): (
        ("trial_settings.end_behavior.missing_payment_method", frozenset({"create_invoice"})),
    ),
    ("POST", "/v1/billing_portal/sessions"): (("configuration", None), ("flow_data", None), ("on_behalf_of", None)),
    ("POST", "/v1/prices"): (("recurring.usage_type", frozenset({"licensed"})),),
    # A plan change is billed at once (always_invoice); its payment applies it or not
    # (plan_changes.py). Left out, proration_behavior is create_prorations: refused there.
    ("POST", "/v1/subscriptions/{id}"): (
        ("proration_behavior", frozenset({"always_invoice"})),
        ("payment_behavior", frozenset({"allow_incomplete", "pending_if_incomplete"})),
    ),
    ("POST", "/v1/invoices/create_preview"): (
        ("subscription_details.proration_behavior", frozenset({"always_invoice"})),
    ),
    ("POST", "/v1/checkout/sessions"): (
        ("payment_intent_data.capture_method", frozenset({"automatic", "automatic_async"})),
        ("subscription_data.trial_period_days", None),
        ("subscription_data.trial_end", None),
    ),
}


def not_emulated(route: _Route, params: dict) -> tuple[str, object] | None:
    """The first parameter of ``params`` that ``route`` does not play (as Stripe
    names it: ``recurring[usage_type]``) and its value."""
    for dotted, played in route.not_emulated:
        value: object = params
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None or value == "":
            continue
        if played is None or str(value) not in played:
            head, *rest = dotted.split(".")
            return head + "".join(f"[{part}]" for part in rest), value
    return None


# Each emulated endpoint and stripe-python's request params class for it: the
# emulator accepts the parameters that class declares, and refuses others as
# Stripe does (the only hand-written part of what an endpoint accepts).
_ROUTES = (
    _route("POST", "/v1/customers", "_create_customer", sp.CustomerCreateParams),
    _route("GET", "/v1/customers/{id}", "_get_customer", sp.CustomerRetrieveParams),
    _route("POST", "/v1/customers/{id}", "_update_customer", sp.CustomerUpdateParams),
    _route("POST", "/v1/payment_methods", "_create_payment_method", sp.PaymentMethodCreateParams),
    _route(
        "GET", "/v1/payment_methods/{id}", "_get_payment_method", sp.PaymentMethodRetrieveParams
    ),
    _route("POST", "/v1/payment_intents", "_create_payment_intent", sp.PaymentIntentCreateParams),
    _route(
        "GET", "/v1/payment_intents/{id}", "_get_payment_intent", sp.PaymentIntentRetrieveParams
    ),
    _route(
        "POST", "/v1/payment_intents/{id}", "_update_payment_intent", sp.PaymentIntentUpdateParams
    ),
    _route(
        "POST",
        "/v1/payment_intents/{id}/confirm",
        "_confirm_payment_intent",
        sp.PaymentIntentConfirmParams,
    ),
    _route(
        "POST",
        "/v1/payment_intents/{id}/cancel",
        "_cancel_payment_intent",
        sp.PaymentIntentCancelParams,
    ),
    _route("POST", "/v1/setup_intents", "_create_setup_intent", sp.SetupIntentCreateParams),
    _route("GET", "/v1/setup_intents/{id}", "_get_setup_intent", sp.SetupIntentRetrieveParams),
    _route(
        "POST", "/v1/setup_intents/{id}/confirm", "_confirm_setup_intent", sp.SetupIntentConfirmParams
    ),
    _route(
        "POST", "/v1/setup_intents/{id}/cancel", "_cancel_setup_intent", sp.SetupIntentCancelParams
    ),
    _route(
        "POST",
        "/v1/billing_portal/sessions",
        "_create_billing_portal_session",
        sp.billing_portal.SessionCreateParams,
    ),
    _route("GET", "/v1/charges/{id}", "_get_charge", sp.ChargeRetrieveParams),
    _route("POST", "/v1/refunds", "_create_refund", sp.RefundCreateParams),
    _route("GET", "/v1/refunds", "_list_refunds", sp.RefundListParams),
    _route("GET", "/v1/refunds/{id}", "_get_refund", sp.RefundRetrieveParams),
    _route("POST", "/v1/refunds/{id}", "_update_refund", sp.RefundUpdateParams),
    _route("POST", "/v1/refunds/{id}/cancel", "_cancel_refund", sp.RefundCancelParams),
    _route(
        "GET",
        "/v1/balance_transactions",
        "_list_balance_transactions",
        sp.BalanceTransactionListParams,
    ),
    _route(
        "GET",
        "/v1/balance_transactions/{id}",
        "_get_balance_transaction",
        sp.BalanceTransactionRetrieveParams,
    ),
    _route("GET", "/v1/balance", "_get_balance", sp.BalanceRetrieveParams),
    _route("GET", "/v1/events", "_list_events", sp.EventListParams),
    _route("GET", "/v1/events/{id}", "_get_event", sp.EventRetrieveParams),
    _route("POST", "/v1/products", "_create_product", sp.ProductCreateParams),
    _route("GET", "/v1/products", "_list_products", sp.ProductListParams),
    _route("GET", "/v1/products/{id}", "_get_product", sp.ProductRetrieveParams),
    _route("POST", "/v1/products/{id}", "_update_product", sp.ProductUpdateParams),
    _route("POST", "/v1/prices", "_create_price", sp.PriceCreateParams),
    _route("GET", "/v1/prices", "_list_prices", sp.PriceListParams),
    _route("GET", "/v1/prices/{id}", "_get_price", sp.PriceRetrieveParams),
    _route("POST", "/v1/prices/{id}", "_update_price", sp.PriceUpdateParams),
    _route("POST", "/v1/subscriptions", "_create_subscription", sp.SubscriptionCreateParams),
    _route("GET", "/v1/subscriptions", "_list_subscriptions", sp.SubscriptionListParams),
    _route("GET", "/v1/subscriptions/{id}", "_get_subscription", sp.SubscriptionRetrieveParams),
    _route("POST", "/v1/subscriptions/{id}", "_update_subscription", sp.SubscriptionUpdateParams),
    _route("DELETE", "/v1/subscriptions/{id}", "_cancel_subscription", sp.SubscriptionCancelParams),
    _route("GET", "/v1/invoices", "_list_invoices", sp.InvoiceListParams),
    _route(
        "POST", "/v1/invoices/create_preview", "_create_invoice_preview",
        sp.InvoiceCreatePreviewParams,
    ),
    _route("GET", "/v1/invoices/{id}", "_get_invoice", sp.InvoiceRetrieveParams),
    _route(
        "POST", "/v1/checkout/sessions", "_create_checkout_session", sp.checkout.SessionCreateParams
    ),
    _route(
        "GET", "/v1/checkout/sessions", "_list_checkout_sessions", sp.checkout.SessionListParams
    ),
    _route(
        "GET",
        "/v1/checkout/sessions/{id}",
        "_get_checkout_session",
        sp.checkout.SessionRetrieveParams,
    ),
    _route(
        "POST",
        "/v1/checkout/sessions/{id}/expire",
        "_expire_checkout_session",
        sp.checkout.SessionExpireParams,
    ),
    _route(
        "POST", "/v1/webhook_endpoints", "_create_webhook_endpoint", sp.WebhookEndpointCreateParams
    ),
    _route("GET", "/v1/webhook_endpoints", "_list_webhook_endpoints", sp.WebhookEndpointListParams),
    _route(
        "GET",
        "/v1/webhook_endpoints/{id}",
        "_get_webhook_endpoint",
        sp.WebhookEndpointRetrieveParams,
    ),
    _route(
        "POST",
        "/v1/webhook_endpoints/{id}",
        "_update_webhook_endpoint",
        sp.WebhookEndpointUpdateParams,
    ),
    _route(
        "DELETE",
        "/v1/webhook_endpoints/{id}",
        "_delete_webhook_endpoint",
        sp.WebhookEndpointDeleteParams,
    ),
)
