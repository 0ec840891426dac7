"""The Stripe objects of a real card payment, for the "Against dj-stripe" phase:
built here once, carried by the signed events the load process sends
(``bench.load``) and answered by the fake Stripe on loopback
(``bench.fake_stripe``) when a server asks the API for them, so both see the
same objects.

Each is Stripe's own example object (``stripe_emulator/fixtures.json``, the
pinned API version's shapes) with our values and without the examples'
placeholders that no real payment has (an ``obj_123`` transfer destination, a
``discount`` on the customer, a 3-D Secure ``next_action`` on a succeeded
intent...). Per payment (``payment`` as ``bench.run`` plans it: our Payment's
id, its PaymentIntent id, amount and currency):

- one customer for every payment (``cus_bench``: the bench user's, known to
  both servers before the run, as a returning customer's is);
- a card PaymentMethod, a succeeded Charge with its BalanceTransaction, and the
  succeeded PaymentIntent naming the customer, the method and the charge
  (``latest_charge``): new for each payment, as Stripe makes them.

Ids are derived from the PaymentIntent's (``pi_bench_0000012`` ->
``ch_bench_0000012``, ``pm_…``, ``txn_…``), so the fake finds any object from
its id and the plan. ``created`` is the plan's (one timestamp for the run), so
an object read from the fake equals the one the event carried.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "stripe_emulator" / "fixtures.json"
API_VERSION = "2026-10-28.endive"
CUSTOMER_ID = "cus_bench"
ACCOUNT_ID = "acct_bench"
FEE_PERCENT, FEE_FIXED = 0.015, 25  # a European card's fee, for a plausible balance transaction


@lru_cache(maxsize=1)
def _fixtures() -> dict:
    return json.loads(FIXTURES.read_text())["resources"]


def _fixture(name: str) -> dict:
    return copy.deepcopy(_fixtures()[name])


def suffix(intent_id: str) -> str:
    return intent_id.removeprefix("pi_")


def ids(intent_id: str) -> dict[str, str]:
    s = suffix(intent_id)
    return {"payment_intent": intent_id, "charge": f"ch_{s}", "payment_method": f"pm_{s}",
            "balance_transaction": f"txn_{s}", "customer": CUSTOMER_ID}


def customer(created: int) -> dict:
    obj = _fixture("customer")
    obj.update(id=CUSTOMER_ID, created=created, email="bench@example.com", name="Bench Customer", discount=None,
               currency="eur", metadata={}, shipping=None, invoice_prefix="BENCH01")
    return obj


def account(created: int) -> dict:
    """The account the key belongs to (GET /v1/account): not in the fixtures; the
    fields dj-stripe reads."""
    return {
        "id": ACCOUNT_ID, "object": "account", "business_type": "company", "charges_enabled": True,
        "country": "DE", "created": created, "default_currency": "eur", "details_submitted": True,
        "email": "bench@example.com", "payouts_enabled": True, "type": "standard", "metadata": {},
        "business_profile": {"name": "Bench", "url": None, "support_email": None, "support_phone": None,
                             "support_url": None, "mcc": None, "product_description": None},
        "settings": {"branding": {"icon": None, "logo": None, "primary_color": None, "secondary_color": None},
                     "dashboard": {"display_name": "Bench", "timezone": "Etc/UTC"}},
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "requirements": None, "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "external_accounts": {"object": "list", "data": [], "has_more": False, "url": f"/v1/accounts/{ACCOUNT_ID}/external_accounts"},
    }


def payment_method(payment: dict, created: int) -> dict:
    obj = _fixture("payment_method")
    obj.update(id=ids(payment["intent"])["payment_method"], created=created, customer=CUSTOMER_ID, metadata={},
               customer_account=None)
    obj["billing_details"].update(email="bench@example.com", name="Bench Customer")
    obj["card"]["wallet"] = None
    obj["card"]["generated_from"] = None
    return obj


def balance_transaction(payment: dict, created: int) -> dict:
    obj = _fixture("balance_transaction")
    fee = int(payment["amount"] * FEE_PERCENT) + FEE_FIXED
    the = ids(payment["intent"])
    obj.update(id=the["balance_transaction"], amount=payment["amount"], currency=payment["currency"], fee=fee,
               net=payment["amount"] - fee, created=created, available_on=created + 7 * 86400,
               source=the["charge"], status="pending", description=None,
               fee_details=[{"amount": fee, "application": None, "currency": payment["currency"],
                             "description": "Stripe processing fees", "type": "stripe_fee"}])
    return obj


def charge(payment: dict, created: int) -> dict:
    obj = _fixture("charge")
    the = ids(payment["intent"])
    obj.update(
        id=the["charge"], amount=payment["amount"], amount_captured=payment["amount"], amount_refunded=0,
        balance_transaction=the["balance_transaction"], captured=True, created=created,
        currency=payment["currency"], customer=CUSTOMER_ID, description=None, metadata={"payment_id": payment["id"]},
        paid=True, payment_intent=payment["intent"], payment_method=the["payment_method"], status="succeeded",
        refunded=False, receipt_email=None, failure_code=None, failure_message=None, failure_balance_transaction=None,
        outcome={"advice_code": None, "network_advice_code": None, "network_decline_code": None,
                 "network_status": "approved_by_network", "reason": None, "risk_level": "normal", "risk_score": 20,
                 "seller_message": "Payment complete.", "type": "authorized"},
        refunds={"object": "list", "data": [], "has_more": False, "total_count": 0, "url": f"/v1/charges/{the['charge']}/refunds"},
    )
    for key in ("review", "source_transfer", "transfer", "transfer_data", "transfer_group", "on_behalf_of",
                "application", "application_fee", "application_fee_amount", "shipping", "source", "destination",
                "dispute", "invoice", "order", "statement_descriptor", "statement_descriptor_suffix"):
        if key in obj:
            obj[key] = None
    obj["billing_details"]["name"] = "Bench Customer"
    return obj


def payment_intent(payment: dict, created: int) -> dict:
    obj = _fixture("payment_intent")
    the = ids(payment["intent"])
    obj.update(
        id=payment["intent"], amount=payment["amount"], amount_received=payment["amount"], amount_capturable=0,
        currency=payment["currency"], status="succeeded", customer=CUSTOMER_ID, payment_method=the["payment_method"],
        latest_charge=the["charge"], metadata={"payment_id": payment["id"]}, created=created, canceled_at=None,
        last_payment_error=None, next_action=None, processing=None, transfer_data=None, shipping=None,
        payment_method_configuration_details=None, client_secret=f"{payment['intent']}_secret_bench",
        amount_details={"tip": {}},
    )
    return obj


def event(event_id: str, event_type: str, obj: dict, created: int) -> dict:
    return {
        "id": event_id, "object": "event", "api_version": API_VERSION, "created": created, "data": {"object": obj},
        "livemode": False, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None}, "type": event_type,
    }


def find(kind: str, object_id: str, payments_by_suffix: dict[str, dict], created: int) -> dict | None:
    """The object ``GET /v1/<kind>/<id>`` answers, or None (unknown: a 404)."""
    if kind == "customers":
        return customer(created) if object_id == CUSTOMER_ID else None
    prefix, _, rest = object_id.partition("_")
    payment = payments_by_suffix.get(rest)
    if payment is None:
        return None
    build = {("payment_intents", "pi"): payment_intent, ("charges", "ch"): charge,
             ("payment_methods", "pm"): payment_method, ("balance_transactions", "txn"): balance_transaction}.get((kind, prefix))
    return build(payment, created) if build else None


def payment_events(payment: dict, run_id: str, created: int) -> list[dict]:
    """What Stripe sends for a card payment that succeeds: ``charge.succeeded``,
    then ``payment_intent.succeeded`` (its ``latest_charge`` the charge), each
    carrying the object as it is then."""
    the = ids(payment["intent"])
    return [
        event(f"evt_bench_{run_id}_{the['charge']}", "charge.succeeded", charge(payment, created), created),
        event(f"evt_bench_{run_id}_{payment['intent']}", "payment_intent.succeeded", payment_intent(payment, created),
              created),
    ]
