"""Customers and payment methods (cards, the test cards' ``pm_card_*`` ids)."""

from __future__ import annotations

import time

from . import objects
from .common import (
    ApiError,
    Params,
    StripeObject,
    _doc_url,
    _int,
    _metadata,
    _parameter_missing,
)
from .store import Tx
from .test_cards import TEST_PAYMENT_METHODS, luhn_valid


class Customers:
    """The customers endpoints' handlers, mixed into ``Emulator``."""

    def _create_customer(self, tx: Tx, params: Params) -> StripeObject:
        return self._save_customer(tx, objects.customer(), params, "customer.created")

    def _get_customer(self, tx: Tx, params: Params, customer_id: str) -> StripeObject:
        return self._load(tx, "customer", customer_id)

    def _update_customer(self, tx: Tx, params: Params, customer_id: str) -> StripeObject:
        customer = self._load(tx, "customer", customer_id)
        return self._save_customer(tx, customer, params, "customer.updated")

    @staticmethod
    def _save_customer(tx: Tx, customer: StripeObject, params: Params, event: str) -> StripeObject:
        customer["metadata"] = _metadata(customer["metadata"], params)
        for field in ("email", "name", "phone", "description"):
            if field in params:
                customer[field] = params[field] or None
        tx.put(customer)
        tx.emit(event, customer)
        return customer

    def _create_payment_method(self, tx: Tx, params: Params) -> StripeObject:
        if not params.get("type"):
            raise _parameter_missing("type")
        if params["type"] != "card":
            raise ApiError(
                400, "The Stripe emulator supports only card payment methods.", param="type"
            )
        card = params.get("card")
        if not isinstance(card, dict):
            raise _parameter_missing("card")
        if not card.get("number"):
            raise _parameter_missing("card[number]")
        return self._create_card(
            tx,
            str(card["number"]),
            exp_month=_int(card, "exp_month", param="card[exp_month]"),
            exp_year=_int(card, "exp_year", param="card[exp_year]"),
            cvc=card.get("cvc") or None,
            metadata=_metadata({}, params),
        )

    @staticmethod
    def _create_card(
        tx: Tx,
        number: str,
        *,
        exp_month: int,
        exp_year: int,
        cvc: str | None,
        metadata: dict[str, str],
    ) -> StripeObject:
        number = number.replace(" ", "")
        if not luhn_valid(number):
            raise ApiError(
                402,
                "Your card number is incorrect.",
                error_type="card_error",
                code="incorrect_number",
                param="number",
                doc_url=_doc_url("incorrect_number"),
            )
        method = objects.payment_method(number, exp_month, exp_year, cvc)
        method["metadata"] = metadata
        return tx.put(method)

    def _get_payment_method(self, tx: Tx, params: Params, method_id: str) -> StripeObject:
        return self._payment_method(tx, method_id, param="id")

    def _payment_method(
        self, tx: Tx, method_id: str, param: str = "payment_method"
    ) -> StripeObject:
        """An existing PaymentMethod, or a new one for a test id such as ``pm_card_visa``."""
        number = TEST_PAYMENT_METHODS.get(method_id)
        if number is None:
            return self._load(tx, "payment_method", method_id, param)
        return self._test_card(tx, number)

    def _test_card(self, tx: Tx, number: str) -> StripeObject:
        year = time.gmtime().tm_year + 3
        return self._create_card(tx, number, exp_month=12, exp_year=year, cvc="123", metadata={})
