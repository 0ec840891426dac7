import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from payments.models import Price, Tier


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_makes_a_usable_catalog(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    assert list(Tier.objects.values_list("slug", flat=True)) == ["automated", "full-escalation"]
    assert Price.objects.count() == 8
    assert Price.objects.get(trial_period_days=14).is_recurring
    assert set(Price.objects.filter(type="one_time").values_list("currency", flat=True)) == {"eur", "usd"}
    recurring = Price.objects.filter(type="recurring").order_by("pk")
    assert [(p.pk - recurring[0].pk, p.unit_amount, p.interval, p.trial_period_days) for p in recurring] == [
        (0, 1999, "month", None), (1, 2199, "month", 14), (2, 999, "month", None), (3, 19990, "year", None)
    ]  # the README's prices 5, 6 (the trial), 7 and 8 (plans to change to)
    assert get_user_model().objects.get(username="demo").check_password("demo")


@pytest.mark.django_db
def test_seed_demo_makes_no_login_outside_debug(settings):
    settings.DEBUG = False
    call_command("seed_demo")
    assert not get_user_model().objects.filter(username="demo").exists()
