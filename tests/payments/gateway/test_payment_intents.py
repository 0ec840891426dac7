"""PaymentIntents through the real stripe library, read back as plain values."""

from payments import gateway


def test_payment_intent_round_trip():
    customer = gateway.create_customer(email="a@example.com", name="A", metadata={}, idempotency_key="c1")
    created = gateway.create_payment_intent(
        amount=999, currency="eur", customer_id=customer.id, metadata={"payment_id": "x"}, description="d",
        idempotency_key="p1",
    )
    assert (created.status, created.amount, created.currency, created.customer) == ("requires_payment_method", 999, "eur", customer.id)
    assert created.client_secret.startswith(created.id + "_secret_")
    assert gateway.retrieve_payment_intent(created.id) == created
