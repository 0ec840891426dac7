"""What a browser needs before it can pay: where to load Stripe.js from and
with which publishable key (the contract's "the browser" section). Public."""

from __future__ import annotations

import strawberry
import strawberry_django
from django.http import HttpRequest
from strawberry.types import Info

from config.emulator import emulator_active, stripe_js_url
from payments.conf import get_config


@strawberry.type(name="StripeConfig", description="What the browser needs to load Stripe.js.")
class StripeConfig:
    publishable_key: str
    js_url: str = strawberry.field(
        description="https://js.stripe.com/v3/ with real keys; the emulator's Stripe.js stand-in, on our origin, without."
    )
    emulated: bool = strawberry.field(description="True while the built-in emulator answers for Stripe.")


@strawberry.type
class Query:
    @strawberry_django.field(
        description="Public: the publishable key and where to load Stripe.js from (the emulator's stand-in "
        "on this server while the emulator is active, https://js.stripe.com/v3/ otherwise)."
    )
    def stripe_config(self, info: Info) -> StripeConfig:
        request = getattr(info.context, "request", None)
        return StripeConfig(
            publishable_key=get_config().publishable_key,
            js_url=stripe_js_url(request if isinstance(request, HttpRequest) else None),
            emulated=emulator_active(),
        )
