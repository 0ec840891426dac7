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
