"""payments/stripe_data/payments.py: a PaymentIntent read from Stripe's JSON, and
damaged data of any shape refused as MalformedStripeObject naming its reader
(never another exception; every reader goes through _fields.strict)."""

import pytest

from payments.errors import MalformedStripeObject
from payments.stripe_data import (
    invoice_from_dict,
    payment_intent_from_dict,
    price_from_dict,
    refund_from_dict,
    subscription_from_dict,
)


INTENT = {"id": "pi_1", "status": "succeeded", "amount": 500, "currency": "eur", "amount_received": 500,
          "customer": {"id": "cus_1"}, "latest_charge": "ch_1",
          "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds", "message": "No."}}


def test_a_payment_intent_reads_expanded_fields_and_its_last_error():
    intent = payment_intent_from_dict(INTENT)
    assert (intent.customer, intent.latest_charge, intent.failure_code, intent.failure_message) == (
        "cus_1", "ch_1", "insufficient_funds", "No."
    )


@pytest.mark.parametrize(
    ("reader", "obj"),
    [
        (payment_intent_from_dict, {**INTENT, "status": "teleported"}),  # not a status of the API version
        (payment_intent_from_dict, {**INTENT, "amount": "five"}),
        (payment_intent_from_dict, {**INTENT, "currency": 978}),
        (payment_intent_from_dict, {**INTENT, "customer": ["cus_1"]}),
        (refund_from_dict, {"id": "re_1", "status": "pending", "amount": 1}),  # no currency
        (invoice_from_dict, {"id": "in_1", "currency": "eur", "created": 1, "parent": "x"}),
        (subscription_from_dict, {"id": "sub_1", "status": "active", "created": 1, "items": {"data": [7]}}),
        (price_from_dict, {"id": "price_1", "currency": "eur", "recurring": {"interval_count": "x"}}),
        (payment_intent_from_dict, None),
    ],
)
def test_damaged_data_of_any_shape_is_malformed(reader, obj):
    with pytest.raises(MalformedStripeObject) as info:
        reader(obj)
    assert reader.__name__ in str(info.value)
