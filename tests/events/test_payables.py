import pytest

from events.models import Event
from events.payables import EventPayable
from payments import payables
from payments.errors import PayableNotPayable
from payments.models import Payment


def test_events_register_themselves_as_payable():
    assert isinstance(payables.get_adapter("event"), EventPayable)


def test_payments_never_imports_the_events_app():
    import pathlib
    import re

    root = pathlib.Path(payables.__file__).parent
    offenders = [str(p) for p in root.rglob("*.py") if re.search(r"^\s*(from|import)\s+events\b", p.read_text(), re.M)]
    assert offenders == []


@pytest.fixture
def event(user):
    return Event.objects.create(user=user, title="Dentist")


def pay(user, price) -> Payment:
    return Payment(user=user, price=price, tier=price.tier, amount=price.unit_amount, currency=price.currency)


def test_fulfil_activates_at_the_paid_tier(user, catalog, event):
    EventPayable().fulfil(event, pay(user, catalog["basic_eur"]))
    event.refresh_from_db()
    assert (event.is_active, event.tier) == (True, catalog["basic"])


def test_a_late_lower_tier_payment_never_downgrades(user, catalog, event):
    adapter = EventPayable()
    adapter.fulfil(adapter.get_for_update(str(event.pk)), pay(user, catalog["full_eur"]))
    adapter.fulfil(adapter.get_for_update(str(event.pk)), pay(user, catalog["basic_eur"]))
    event.refresh_from_db()
    assert event.tier == catalog["full"]


def test_payable_rules(user, catalog, event):
    adapter = EventPayable()
    adapter.check_payable(event, catalog["basic_eur"])  # inactive: any tier
    event.is_active, event.tier = True, catalog["basic"]
    with pytest.raises(PayableNotPayable):
        adapter.check_payable(event, catalog["basic_eur"])
    adapter.check_payable(event, catalog["full_eur"])  # an upgrade is fine
    assert adapter.get("nope") is None and adapter.get("999999") is None


# ---------------------------------------------------------------- refunds of an upgraded event
# Through the real flow: PaymentIntents in the emulator, paid there, the signed
# webhooks delivered to our endpoint, refunds asked of Stripe by the service.


@pytest.fixture
def flow(user, catalog, emulator, deliver, django_user_model):
    from django.contrib.auth.models import Permission

    from payments.models import PaymentStatus
    from payments.services import refunds as refund_services
    from payments.services.payments import PayableRef, create_payment_intent

    cashier = django_user_model.objects.create_user("cashier-events", is_staff=True)
    cashier.user_permissions.add(Permission.objects.get(codename="add_refund", content_type__app_label="payments"))

    def delivered():
        results = deliver()
        assert all(code == 200 for _, code in results), results

    def buy(event, price) -> Payment:
        result = create_payment_intent(user=user, price_id=str(price.pk), payable=PayableRef("event", str(event.pk)))
        emulator.pay(result.payment.stripe_payment_intent_id, "4242424242424242")
        delivered()
        payment = Payment.objects.get(pk=result.payment.pk)
        assert payment.status == PaymentStatus.SUCCEEDED
        return payment

    def refund(payment, amount=None) -> Payment:
        refund_services.refund_payment(actor=cashier, payment_id=str(payment.pk), amount=amount)
        delivered()
        return Payment.objects.get(pk=payment.pk)

    class Flow:
        pass

    f = Flow()
    f.buy, f.refund = buy, refund
    return f


def _state(event):
    event.refresh_from_db()
    return event.is_active, event.tier_id


def test_an_upgrade_refunded_in_full_falls_back_to_the_lower_tier_still_paid(flow, catalog, event):
    lower = flow.buy(event, catalog["basic_eur"])
    upper = flow.buy(event, catalog["full_eur"])
    assert _state(event) == (True, catalog["full"].pk)

    assert flow.refund(upper).status == "refunded"
    assert _state(event) == (True, catalog["basic"].pk)

    assert flow.refund(lower).status == "refunded"  # nothing paid stands any more
    assert _state(event) == (False, catalog["basic"].pk)


def test_a_partial_refund_of_the_upgrade_keeps_its_tier(flow, catalog, event):
    flow.buy(event, catalog["basic_eur"])
    upper = flow.buy(event, catalog["full_eur"])
    assert flow.refund(upper, amount=500).status == "partially_refunded"
    assert _state(event) == (True, catalog["full"].pk)


def test_refunding_the_lower_payment_while_the_upgrade_stands_keeps_the_upgrade(flow, catalog, event):
    lower = flow.buy(event, catalog["basic_eur"])
    upper = flow.buy(event, catalog["full_eur"])
    assert flow.refund(lower).status == "refunded"
    assert _state(event) == (True, catalog["full"].pk)

    assert flow.refund(upper).status == "refunded"  # the lower one is refunded: nothing to fall back to
    assert _state(event) == (False, catalog["full"].pk)


def test_a_single_payment_refunded_in_full_deactivates(flow, catalog, event):
    only = flow.buy(event, catalog["basic_eur"])
    flow.refund(only)
    assert _state(event) == (False, catalog["basic"].pk)
