import pytest

from payments.models import Price, Tier
from payments.money import decimals, format_amount


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (999, "eur", "€9.99"),
        (12000, "usd", "$120.00"),
        (500, "jpy", "¥500"),
        (1500, "kwd", "1.500 KWD"),
        (5, "bhd", "0.005 BHD"),
        (123456, "chf", "1,234.56 CHF"),
        (0, "usd", "$0.00"),
        (100000, "krw", "₩100,000"),
    ],
)
def test_format_amount_uses_the_currency_minor_unit(amount, currency, shown):
    assert format_amount(amount, currency) == shown


def test_decimals_of_zero_and_three_decimal_currencies():
    assert (decimals("JPY"), decimals("kwd"), decimals("eur")) == (0, 3, 2)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "shown"),
    [
        ({"currency": "eur", "unit_amount": 999}, "€9.99"),
        ({"currency": "jpy", "unit_amount": 500, "type": "recurring", "interval": "month", "interval_count": 1}, "¥500 / month"),
        ({"currency": "usd", "unit_amount": 12000, "type": "recurring", "interval": "month", "interval_count": 3}, "$120.00 / 3 months"),
        ({"currency": "kwd", "unit_amount": 2500, "type": "recurring", "interval": "year", "interval_count": 1}, "2.500 KWD / year"),
    ],
)
def test_price_display(kwargs, shown):
    tier = Tier.objects.create(slug="t", name="T")
    assert Price.objects.create(tier=tier, **kwargs).display == shown


@pytest.mark.django_db
def test_a_one_time_price_cannot_carry_an_interval():
    from django.db import IntegrityError

    tier = Tier.objects.create(slug="t", name="T")
    with pytest.raises(IntegrityError):
        Price.objects.create(tier=tier, currency="eur", unit_amount=1, interval="month", interval_count=1)
