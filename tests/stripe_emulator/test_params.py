"""The emulator accepts what Stripe accepts at the library's pinned API version:
each route's parameters come from stripe-python's typed request params
(``stripe.params``), and an unknown or missing one gets Stripe's 400 through
the real stripe library."""

from __future__ import annotations

import re
from typing import Any

import pytest
import stripe
import stripe.params as sp
from typing_extensions import NotRequired, is_typeddict

from stripe_emulator import api as emulator_api
from stripe_emulator.params import fields, required
from stripe_emulator.inprocess import HTTPClient


@pytest.fixture
def client(emulator) -> stripe.StripeClient:
    """The real stripe library, at its pinned API version, talking to this emulator."""
    return stripe.StripeClient(
        "sk_test_emulator", max_network_retries=0, http_client=HTTPClient(emulator)
    )


def refused(call, *args: Any, **kwargs: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as info:
        call(*args, **kwargs)
    return info.value


def assert_unknown(error: stripe.InvalidRequestError, param: str) -> None:
    assert error.http_status == 400
    assert error.code == "parameter_unknown" and error.param == param
    assert error.error.type == "invalid_request_error"
    assert error.user_message == f"Received unknown parameter: {param}"


def test_the_library_pins_endive():
    assert stripe.api_version.endswith(".endive")


# ------------------------------------------------------------ PaymentIntents


def test_payment_intent_create_takes_allowed_payment_method_types_not_payment_method_types(
    client,
):
    assert "allowed_payment_method_types" in sp.PaymentIntentCreateParams.__annotations__
    assert "payment_method_types" not in sp.PaymentIntentCreateParams.__annotations__
    base = {"amount": 1000, "currency": "eur"}
    error = refused(
        client.v1.payment_intents.create, params={**base, "payment_method_types": ["card"]}
    )
    assert_unknown(error, "payment_method_types")

    intent = client.v1.payment_intents.create(
        params={**base, "allowed_payment_method_types": ["card"]}
    )
    assert intent.allowed_payment_method_types == ["card"]
    assert intent.payment_method_types == ["card"]  # what Stripe computed from the list


def test_payment_intents_refuse_unknown_top_level_and_nested_params(client):
    base = {"amount": 1000, "currency": "eur"}
    assert_unknown(
        refused(client.v1.payment_intents.create, params={**base, "colour": "red"}), "colour"
    )
    nested = {**base, "automatic_payment_methods": {"enabled": True, "colour": "red"}}
    assert_unknown(
        refused(client.v1.payment_intents.create, params=nested),
        "automatic_payment_methods[colour]",
    )
    # Stripe knows it, so the emulator takes it (the old hand-written list did not).
    intent = client.v1.payment_intents.create(params={**base, "statement_descriptor_suffix": "X"})
    assert_unknown(
        refused(client.v1.payment_intents.update, intent.id, params={"amount_due": 1}),
        "amount_due",
    )
    assert_unknown(
        refused(
            client.v1.payment_intents.confirm,
            intent.id,
            params={"payment_method_data": {"type": "card", "colour": "red"}},
        ),
        "payment_method_data[colour]",
    )


def test_a_missing_required_param_at_any_depth_is_parameter_missing(client):
    error = refused(client.v1.payment_intents.create, params={"amount": 1000})
    assert (error.code, error.param) == ("parameter_missing", "currency")
    nested = {
        "amount": 1000,
        "currency": "eur",
        "automatic_payment_methods": {"allow_redirects": "never"},
    }
    error = refused(client.v1.payment_intents.create, params=nested)
    assert (error.code, error.param) == ("parameter_missing", "automatic_payment_methods[enabled]")
    assert error.user_message == "Missing required param: automatic_payment_methods[enabled]."
    error = refused(client.v1.webhook_endpoints.create, params={"url": "https://example.com/h"})
    assert (error.code, error.param) == ("parameter_missing", "enabled_events")


# ------------------------------------------------------------ Checkout


def checkout_params(client) -> dict[str, Any]:
    product = client.v1.products.create(params={"name": "Ticket"})
    price = client.v1.prices.create(
        params={"product": product.id, "currency": "eur", "unit_amount": 1500}
    )
    return {
        "mode": "payment",
        "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": "https://example.com/ok",
    }


def test_checkout_session_create_takes_allowed_payment_method_types(client):
    params = checkout_params(client)
    sessions = client.v1.checkout.sessions
    assert_unknown(
        refused(sessions.create, params={**params, "payment_method_types": ["card"]}),
        "payment_method_types",
    )
    session = sessions.create(params={**params, "allowed_payment_method_types": ["card"]})
    assert session.allowed_payment_method_types == ["card"] == session.payment_method_types


def test_checkout_sessions_refuse_unknown_params_in_lists_of_objects(client):
    params = checkout_params(client)
    sessions = client.v1.checkout.sessions
    assert_unknown(refused(sessions.create, params={**params, "colour": "red"}), "colour")
    items = [{**params["line_items"][0], "colour": "red"}]
    assert_unknown(
        refused(sessions.create, params={**params, "line_items": items}),
        "line_items[0][colour]",
    )
    assert_unknown(
        refused(sessions.create, params={**params, "payment_intent_data": {"customer": "c"}}),
        "payment_intent_data[customer]",
    )
    session = sessions.create(params={**params, "payment_intent_data": {"description": "Seat"}})
    assert_unknown(refused(sessions.list, params={"created": {"after": 1}}), "created[after]")
    assert_unknown(refused(sessions.expire, session.id, params={"now": True}), "now")


# ------------------------------------------------------------ other families


def test_customers_and_payment_methods(client):
    customers = client.v1.customers
    assert_unknown(refused(customers.create, params={"nickname": "x"}), "nickname")
    assert_unknown(
        refused(customers.create, params={"address": {"planet": "Mars"}}), "address[planet]"
    )
    customer = customers.create(params={"address": {"city": "Lyon"}, "preferred_locales": ["fr"]})
    assert_unknown(
        refused(customers.update, customer.id, params={"shipping": {"name": "A", "x": "1"}}),
        "shipping[x]",
    )
    methods = client.v1.payment_methods
    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"}
    assert_unknown(
        refused(methods.create, params={"type": "card", "card": {**card, "pin": "1"}}),
        "card[pin]",
    )
    assert_unknown(refused(methods.create, params={"type": "card", "pin": "1"}), "pin")


def test_refunds_and_their_list(client):
    paid = {"payment_method": "pm_card_visa", "confirm": True}
    intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "eur", **paid})
    refunds = client.v1.refunds
    base = {"payment_intent": intent.id}
    assert_unknown(
        refused(refunds.create, params={**base, "receipt_email": "a@b"}), "receipt_email"
    )
    refund = refunds.create(params={**base, "amount": 100, "instructions_email": "a@b.test"})
    assert_unknown(refused(refunds.list, params={"created": {"soon": 1}}), "created[soon]")
    assert_unknown(refused(refunds.update, refund.id, params={"amount": 1}), "amount")


def test_catalog(client):
    products, prices = client.v1.products, client.v1.prices
    assert_unknown(refused(products.create, params={"name": "X", "colour": "red"}), "colour")
    assert_unknown(
        refused(products.create, params={"name": "X", "package_dimensions": {"volume": 1}}),
        "package_dimensions[volume]",
    )
    product = products.create(params={"name": "X"})
    base = {"product": product.id, "currency": "eur", "unit_amount": 900}
    assert_unknown(
        refused(prices.create, params={**base, "recurring": {"interval": "month", "x": 1}}),
        "recurring[x]",
    )
    price = prices.create(params=base)
    assert_unknown(refused(prices.update, price.id, params={"unit_amount": 1}), "unit_amount")
    assert_unknown(refused(prices.list, params={"recurring": {"x": "1"}}), "recurring[x]")


def test_subscriptions_and_invoices(client):
    customer = client.v1.customers.create()
    product = client.v1.products.create(params={"name": "Pro"})
    price = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "eur",
            "unit_amount": 900,
            "recurring": {"interval": "month"},
        }
    )
    base = {"customer": customer.id, "items": [{"price": price.id}]}
    subscriptions = client.v1.subscriptions
    assert_unknown(refused(subscriptions.create, params={**base, "plan": price.id}), "plan")
    assert_unknown(
        refused(subscriptions.create, params={**base, "items": [{"price": price.id, "x": "1"}]}),
        "items[0][x]",
    )
    sub = subscriptions.create(params={**base, "payment_behavior": "default_incomplete"})
    assert_unknown(
        refused(subscriptions.cancel, sub.id, params={"cancellation_details": {"why": "x"}}),
        "cancellation_details[why]",
    )
    assert_unknown(
        refused(client.v1.invoices.list, params={"due_date": {"soon": 1}}), "due_date[soon]"
    )


def test_events_balance_and_webhook_endpoints(client):
    assert_unknown(refused(client.v1.events.list, params={"created": {"x": 1}}), "created[x]")
    assert_unknown(
        refused(client.v1.balance_transactions.list, params={"customer": "cus_x"}), "customer"
    )
    client.v1.balance_transactions.list(params={"created": {"gte": 1}, "currency": "eur"})
    endpoints = client.v1.webhook_endpoints
    base = {"url": "https://example.com/hook", "enabled_events": ["*"]}
    assert_unknown(refused(endpoints.create, params={**base, "secret": "whsec_x"}), "secret")
    endpoint = endpoints.create(params=base)
    assert_unknown(refused(endpoints.update, endpoint.id, params={"secret": "x"}), "secret")


# ------------------------------------------------------------ free-form and options


def test_metadata_is_free_form_and_expand_and_idempotency_keep_working(client, emulator):
    customer = client.v1.customers.create(
        params={"metadata": {"anything": "1", "other_key": "2"}, "expand": ["invoice_settings"]},
        options={"idempotency_key": "k-1"},
    )
    assert customer.metadata.to_dict() == {"anything": "1", "other_key": "2"}
    again = client.v1.customers.create(
        params={"metadata": {"anything": "1", "other_key": "2"}, "expand": ["invoice_settings"]},
        options={"idempotency_key": "k-1"},
    )
    assert again.id == customer.id
    intent = client.v1.payment_intents.create(
        params={"amount": 500, "currency": "eur", "customer": customer.id, "expand": ["customer"]}
    )
    assert intent.customer.id == customer.id


def test_request_options_are_headers_not_parameters(api):
    """RequestOptions' keys are in every params TypedDict; Stripe takes them as headers."""
    for name in ("api_key", "idempotency_key", "stripe_account"):
        assert name in sp.CustomerCreateParams.__annotations__
        response = api.post("/v1/customers", {name: "x"})
        assert (response.status, response.error["code"], response.error["param"]) == (
            400,
            "parameter_unknown",
            name,
        )


# ------------------------------------------------------------ derivation


class _Address(sp.CustomerCreateParamsAddress):
    planet: NotRequired[str]


class _CustomerCreate(sp.CustomerCreateParams):
    """Stripe's, with a top-level and a nested key more (a later API version, say)."""

    galaxy: NotRequired[str]
    address: NotRequired[_Address]  # type: ignore[misc]


def test_what_a_route_accepts_is_its_typeddicts(api, monkeypatch):
    """Not a list of our own: a key the TypedDict gains is accepted, at any depth."""
    assert "galaxy" not in fields(sp.CustomerCreateParams)
    assert api.post("/v1/customers", {"galaxy": "Andromeda"}).error["param"] == "galaxy"

    routes = tuple(
        emulator_api._route(r.method, r.path, r.handler, _CustomerCreate)
        if r.params is sp.CustomerCreateParams
        else r
        for r in emulator_api._ROUTES
    )
    monkeypatch.setattr(emulator_api, "_ROUTES", routes)
    response = api.post("/v1/customers", {"galaxy": "Andromeda", "address": {"planet": "Mars"}})
    assert response.status == 200, response.body
    assert api.post("/v1/customers", {"address": {"moon": "Io"}}).error["param"] == "address[moon]"


def test_a_param_taken_from_the_typeddict_is_accepted(client):
    """Whatever PaymentIntentCreateParams declares that is a plain string, the emulator
    takes (Stripe would judge its value; the emulator ignores what it does not emulate)."""
    name = "statement_descriptor_suffix"
    assert sp.PaymentIntentCreateParams.__annotations__[name] == NotRequired[str]
    client.v1.payment_intents.create(params={"amount": 1000, "currency": "eur", name: "Seat 4"})


_ACTIONS = {
    "GET": ("Retrieve", "List"),
    "POST": ("Create", "Update", "Confirm", "Cancel", "Expire", "CreatePreview"),
    "DELETE": ("Delete", "Cancel"),
}


@pytest.mark.parametrize("route", emulator_api._ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_emulated_route_has_stripes_params_class(route):
    params = route.params
    assert is_typeddict(params) and params.__module__.startswith("stripe.params.")
    namespaces = {"/v1/checkout/": sp.checkout, "/v1/billing_portal/": sp.billing_portal}
    namespace = next((ns for prefix, ns in namespaces.items() if route.path.startswith(prefix)), sp)
    assert getattr(namespace, params.__name__) is params
    actions = "|".join(_ACTIONS[route.method])
    match = re.fullmatch(rf"([A-Z]\w*?)({actions})Params", params.__name__)
    assert match, f"{params.__name__} is not a {route.method} action"
    resource = re.sub(r"(?<!^)([A-Z])", r"_\1", match[1]).lower()  # PaymentIntent: payment_intent
    assert f"/{resource}" in route.path or f"/{resource}s" in route.path
    assert match[2] in ("List", "Create", "CreatePreview") or "{id}" in route.path or route.path == "/v1/balance"
    assert not (required(params) | fields(params).keys()) & {"api_key", "idempotency_key"}
    assert callable(getattr(emulator_api.Emulator, route.handler))


def assert_not_emulated(error: stripe.InvalidRequestError, param: str) -> None:
    assert error.http_status == 400
    assert error.code == "parameter_not_emulated" and error.param == param
    assert "does not play" in error.user_message


def test_what_stripe_accepts_but_the_emulator_does_not_play_is_refused_not_ignored(client):
    """A manual capture captured at once, a trial without a card paused, a metered price
    billed as licensed, a portal configured otherwise would be silent lies: refused,
    naming the parameter."""
    intents = client.v1.payment_intents
    assert_not_emulated(
        refused(intents.create, params={"amount": 900, "currency": "eur", "capture_method": "manual"}), "capture_method"
    )
    assert intents.create(params={"amount": 900, "currency": "eur", "capture_method": "automatic"}).status
    product = client.v1.products.create(params={"name": "Metered"})
    recurring = {"product": product.id, "currency": "eur", "unit_amount": 900}
    assert_not_emulated(
        refused(client.v1.prices.create, params={**recurring, "recurring": {"interval": "month", "usage_type": "metered"}}),
        "recurring[usage_type]",
    )
    price = client.v1.prices.create(params={**recurring, "recurring": {"interval": "month", "usage_type": "licensed"}})
    customer = client.v1.customers.create()
    base = {"customer": customer.id, "items": [{"price": price.id}]}
    paused = {"trial_settings": {"end_behavior": {"missing_payment_method": "pause"}}}
    assert_not_emulated(
        refused(client.v1.subscriptions.create, params={**base, "trial_period_days": 7, **paused}),
        "trial_settings[end_behavior][missing_payment_method]",
    )
    assert not client.v1.subscriptions.list(params={"customer": customer.id}).data  # nothing was made
    assert_not_emulated(
        refused(client.v1.billing_portal.sessions.create, params={"customer": customer.id, "configuration": "bpc_1"}),
        "configuration",
    )


def test_every_parameter_said_not_emulated_is_one_stripe_accepts():
    """The list names real parameters of the route's params class (a typo would refuse nothing)."""
    for route in emulator_api._ROUTES:
        for dotted, _ in route.not_emulated:
            head, *rest = dotted.split(".")
            assert head in fields(route.params), (route.path, dotted)
