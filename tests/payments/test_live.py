"""Publishing happens after commit, on the channel layer and as a signal; never for a rollback."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from payments.live import PAYMENT_CHANGED, payment_group, publish_payment_change
from payments.models import Payment
from payments.signals import payment_status_changed


@pytest.fixture
def payment(user, catalog):
    price = catalog["basic_eur"]
    return Payment.objects.create(user=user, price=price, tier=price.tier, amount=999, currency="eur", status="succeeded")


@pytest.fixture
def listener(payment):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(payment_group(payment.pk), channel)
    yield lambda: async_to_sync(layer.receive)(channel)
    async_to_sync(layer.group_discard)(payment_group(payment.pk), channel)


def test_change_is_published_after_commit_with_its_snapshot(payment, listener, django_capture_on_commit_callbacks):
    signals = []
    receiver = lambda sender, payment, previous_status, **kw: signals.append((payment.pk, previous_status))  # noqa: E731
    payment_status_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            with transaction.atomic():
                publish_payment_change(payment, previous_status="processing")
        assert signals == []
        for callback in callbacks:
            callback()
    finally:
        payment_status_changed.disconnect(receiver)
    assert signals == [(payment.pk, "processing")]
    message = listener()
    assert message["type"] == PAYMENT_CHANGED
    assert message["payment_id"] == str(payment.pk)
    assert message["snapshot"] == {
        "status": "succeeded", "amount_refunded": 0, "failure_code": "", "failure_message": "",
        "updated_at": payment.updated_at.isoformat(),
    }


def test_nothing_is_published_for_a_rolled_back_change(payment, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                publish_payment_change(payment, previous_status="processing")
                raise RuntimeError("rolled back")
    assert callbacks == []


def test_no_signal_when_only_details_changed(payment, django_capture_on_commit_callbacks):
    signals = []
    receiver = lambda **kw: signals.append(kw)  # noqa: E731
    payment_status_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            publish_payment_change(payment, previous_status="succeeded")
    finally:
        payment_status_changed.disconnect(receiver)
    assert signals == []
