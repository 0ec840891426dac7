"""schema/schema.graphql is current, and matches the public contract where it implements it."""

from pathlib import Path

import pytest
from graphql import build_schema, get_named_type
from graphql.type import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType, GraphQLUnionType

from schema.management.commands.graphql_schema import SCHEMA_FILE, printed_schema

CONTRACT = Path(__file__).resolve().parents[2].parent / "shared" / "api-contract.graphql"

# What is implemented so far (foundation, refunds, subscriptions); later work adds to it.
REQUIRED_FIELDS = {
    "Query": ["tiers", "tier", "me", "events", "payment", "payments", "refunds", "subscriptions", "invoices"],
    "Mutation": ["login", "logout", "createEvent", "createPaymentIntent", "refreshPayment", "refund",
                 "createSubscription", "cancelSubscription"],
    "SubscriptionRoot": ["paymentStatus"],
}
WHOLE_TYPES = ["Tier", "Price", "Payment", "Payable", "Event", "User", "PaymentConnection", "PaymentEdge", "PageInfo",
               "OperationInfo", "OperationMessage", "ErrorCode", "PaymentStatus", "PriceType", "RecurringInterval",
               "CreatePaymentIntentInput", "CreatePaymentIntentPayload", "CreatePaymentIntentResult", "PayableInput",
               "CreateEventInput", "CreateEventPayload", "CreateEventResult", "RefreshPaymentResult",
               "OperationMessageKind", "Refund", "RefundStatus", "RefundReason", "RefundInput", "RefundPayload",
               "RefundResult", "Subscription", "SubscriptionStatus", "Invoice", "InvoiceStatus",
               "CreateSubscriptionInput", "CreateSubscriptionPayload", "CreateSubscriptionResult",
               "CancelSubscriptionInput", "CancelSubscriptionPayload", "CancelSubscriptionResult"]


def test_committed_schema_file_is_current():
    assert SCHEMA_FILE.read_text() == printed_schema(), "run `python manage.py graphql_schema` and commit the result"


@pytest.fixture(scope="module")
def schemas():
    if not CONTRACT.exists():
        pytest.skip(f"the contract is not beside the checkout ({CONTRACT})")
    return build_schema(CONTRACT.read_text()), build_schema(SCHEMA_FILE.read_text())


def _members(t):
    if isinstance(t, (GraphQLObjectType, GraphQLInputObjectType)):
        return {name: str(f.type) for name, f in t.fields.items()}
    if isinstance(t, GraphQLEnumType):
        return {name: "" for name in t.values}
    if isinstance(t, GraphQLUnionType):
        return {m.name: "" for m in t.types}
    return {}


def _args(field) -> dict:
    return {name: str(a.type) for name, a in getattr(field, "args", {}).items()}


def test_every_required_operation_exists_with_the_contracts_types(schemas):
    contract, ours = schemas
    root = {"Query": ours.query_type, "Mutation": ours.mutation_type, "SubscriptionRoot": ours.subscription_type}
    croot = {"Query": contract.query_type, "Mutation": contract.mutation_type, "SubscriptionRoot": contract.subscription_type}
    for type_name, fields in REQUIRED_FIELDS.items():
        assert root[type_name].name == type_name
        for name in fields:
            expected, actual = croot[type_name].fields[name], root[type_name].fields.get(name)
            assert actual is not None, f"{type_name}.{name} is missing"
            assert str(actual.type) == str(expected.type), f"{type_name}.{name}"
            assert _args(actual) == _args(expected), f"{type_name}.{name} arguments"


def test_whole_types_match_the_contract(schemas):
    contract, ours = schemas
    for name in WHOLE_TYPES:
        assert name in ours.type_map, f"{name} is missing"
        assert _members(ours.type_map[name]) == _members(contract.type_map[name]), name


def test_nothing_we_print_contradicts_the_contract(schemas):
    """Any type or field we share with the contract has the contract's type (we may only add)."""
    contract, ours = schemas
    for name, ctype in contract.type_map.items():
        if name.startswith("__") or name not in ours.type_map:
            continue
        mine = _members(get_named_type(ours.type_map[name]))
        for member, type_str in _members(ctype).items():
            if member in mine:
                assert mine[member] == type_str, f"{name}.{member}: {mine[member]} != {type_str}"
