"""Checkout Sessions' objects, built from fixtures.json's examples as ``objects`` builds the others."""

from __future__ import annotations

from typing import Any

from . import objects

# --------------------------------------------------------------- checkout

CHECKOUT_SESSION_LIFETIME = 24 * 3600  # Stripe's default expires_at: 24 hours after creation


def checkout_session(
    *,
    mode: str,
    price: dict[str, Any],
    quantity: int,
    customer_id: str | None,
    success_url: str,
    cancel_url: str | None,
    allowed_payment_method_types: list[str] | None,
    expires_at: int | None,
) -> dict[str, Any]:
    """An ``open``, ``unpaid`` hosted-page session (ui_mode ``hosted_page``, API dahlia
    on) for ``quantity`` of one ``price``; its PaymentIntent or subscription is made
    only when the customer pays, as Stripe does now."""
    obj = objects.template("checkout.session")
    cs_id, created = f"cs_test_{objects.random_string(58)}", objects.now()
    amount = price["unit_amount"] * quantity
    payment = mode == "payment"
    obj.update(
        id=cs_id,
        adaptive_pricing={"enabled": False},
        after_expiration=None,
        allow_promotion_codes=None,
        allowed_payment_method_types=allowed_payment_method_types,
        amount_subtotal=amount,
        amount_total=amount,
        automatic_tax={"enabled": False, "liability": None, "provider": None, "status": None},
        billing_address_collection=None,
        cancel_url=cancel_url,
        client_reference_id=None,
        client_secret=None,
        collected_information=None,
        consent=None,
        consent_collection=None,
        created=created,
        currency=price["currency"],
        currency_conversion=None,
        custom_fields=[],
        custom_text={
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        customer=customer_id,
        customer_account=None,
        customer_creation="if_required" if payment and customer_id is None else None,
        customer_details=None,
        customer_email=None,
        discounts=[],
        expires_at=expires_at if expires_at is not None else created + CHECKOUT_SESSION_LIFETIME,
        integration_identifier=None,
        invoice=None,
        invoice_creation=(
            {
                "enabled": False,
                "invoice_data": {
                    "account_tax_ids": None,
                    "custom_fields": None,
                    "description": None,
                    "footer": None,
                    "issuer": None,
                    "metadata": {},
                    "rendering_options": None,
                },
            }
            if payment
            else None
        ),
        livemode=False,
        locale=None,
        managed_payments=None,
        metadata={},
        mode=mode,
        origin_context=None,
        payment_intent=None,
        payment_link=None,
        payment_method_collection="if_required" if payment else "always",
        payment_method_configuration_details=None,
        payment_method_options={"card": {"request_three_d_secure": "automatic"}},
        payment_method_types=allowed_payment_method_types or ["card"],
        payment_status="unpaid",
        permissions=None,
        phone_number_collection={"enabled": False},
        recovered_from=None,
        saved_payment_method_options=(
            {
                "allow_redisplay_filters": ["always"],
                "payment_method_remove": None,
                "payment_method_save": None,
            }
            if customer_id
            else None
        ),
        setup_intent=None,
        shipping_address_collection=None,
        shipping_cost=None,
        shipping_options=[],
        status="open",
        submit_type=None,
        subscription=None,
        success_url=success_url,
        total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        ui_mode="hosted_page",
        url=f"https://checkout.stripe.com/c/pay/{cs_id}",
        wallet_options=None,
    )
    return obj


def checkout_customer_details(customer: dict[str, Any] | None) -> dict[str, Any]:
    """What the hosted page collected: the customer's contact details, no address."""
    template_details = objects.template("checkout.session")["customer_details"]
    return {
        "address": {key: None for key in template_details["address"]},
        "business_name": None,
        "email": customer["email"] if customer else None,
        "individual_name": None,
        "name": customer["name"] if customer else None,
        "phone": customer["phone"] if customer else None,
        "tax_exempt": "none",
        "tax_ids": [],
    }
