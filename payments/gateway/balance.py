"""The balance and its transactions: the ledger's gross, fee and net."""

from __future__ import annotations

import typing
from typing import Any

import stripe

import payments.gateway.client as client
from payments.stripe_data import BalanceTransactionData, ChargeData, balance_transaction_from_dict, charge_from_dict


def _literal_values(annotation: Any) -> frozenset[str]:
    """The strings of the Literal(s) in a stripe-python annotation such as
    ``Union[Literal["a", "b"], str]`` (the ``str`` is how it says "or a newer one")."""
    if typing.get_origin(annotation) is typing.Literal:
        return frozenset(typing.get_args(annotation))
    return frozenset().union(*(_literal_values(arg) for arg in typing.get_args(annotation)))


# Every balance transaction type of the installed stripe-python (the pinned API
# version's), read from its typed class rather than written out here.
BALANCE_TRANSACTION_TYPES: frozenset[str] = _literal_values(stripe.BalanceTransaction.__annotations__["type"])


def retrieve_balance_transaction(balance_transaction_id: str) -> BalanceTransactionData:
    txn = client.call(client.v1().balance_transactions.retrieve, balance_transaction_id)
    return balance_transaction_from_dict(txn.to_dict())


def retrieve_charge_balance_transaction(charge_id: str) -> BalanceTransactionData | None:
    return retrieve_charge(charge_id).balance_transaction


def retrieve_charge(charge_id: str) -> ChargeData:
    """The charge with its balance transaction (the ledger's read; what paid and the
    receipt come with it, services.receipts)."""
    charge = client.call(
        client.v1().charges.retrieve, charge_id, params={"expand": ["balance_transaction"]}
    )
    return charge_from_dict(charge.to_dict())


def retrieve_balance() -> dict[str, int]:
    """Available + pending amount per currency."""
    balance = client.call(client.v1().balance.retrieve).to_dict()
    totals: dict[str, int] = {}
    for entry in [*balance.get("available", []), *balance.get("pending", [])]:
        totals[entry["currency"]] = totals.get(entry["currency"], 0) + int(entry["amount"])
    return totals
