"""Demo catalog (and, in DEBUG, a demo login) so a fresh server is usable at once. Idempotent."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from payments.models import Price, Tier

DEMO_TIERS = [
    {
        "slug": "automated",
        "name": "Automated",
        "description": "Email reminders before the event.",
        "manifest": {"email": ["-7d", "-1d"]},
        "position": 1,
        "prices": [
            {"currency": "eur", "unit_amount": 999},
            {"currency": "usd", "unit_amount": 1099},
        ],
    },
    {
        "slug": "full-escalation",
        "name": "Full Escalation",
        "description": "Email, then SMS, then a call until someone answers.",
        "manifest": {"email": ["-7d", "-1d"], "sms": ["-1d", "-2h"], "call": ["-1h"]},
        "position": 2,
        "prices": [
            {"currency": "eur", "unit_amount": 2999},
            {"currency": "usd", "unit_amount": 3299},
            {"currency": "eur", "unit_amount": 1999, "type": "recurring", "interval": "month", "interval_count": 1},
            # Price 6: the walk of a trial (README, Subscriptions).
            {"currency": "usd", "unit_amount": 2199, "type": "recurring", "interval": "month", "interval_count": 1,
             "trial_period_days": 14},
        ],
    },
]

# Plans to change to (the README's walk of preview, change and resume), made after
# the tiers' own prices so that those keep their ids (the recurring €19.99 is 5,
# the trial's $21.99 is 6): a cheaper monthly plan (7) and a yearly one (8).
DEMO_PLAN_PRICES = [
    ("automated", {"currency": "eur", "unit_amount": 999, "type": "recurring", "interval": "month", "interval_count": 1}),
    ("full-escalation", {"currency": "eur", "unit_amount": 19990, "type": "recurring", "interval": "year", "interval_count": 1}),
]


class Command(BaseCommand):
    help = "Create the demo tiers and prices (and the demo/demo user when DEBUG is on). Safe to run again."

    @transaction.atomic
    def handle(self, *args, **options):
        for spec in DEMO_TIERS:
            spec = dict(spec)
            prices = spec.pop("prices")
            tier, _ = Tier.objects.update_or_create(slug=spec.pop("slug"), defaults=spec)
            for price in prices:
                Price.objects.get_or_create(
                    tier=tier,
                    currency=price["currency"],
                    unit_amount=price["unit_amount"],
                    type=price.get("type", Price.Type.ONE_TIME),
                    interval=price.get("interval"),
                    interval_count=price.get("interval_count"),
                    trial_period_days=price.get("trial_period_days"),
                )
        for slug, price in DEMO_PLAN_PRICES:
            Price.objects.get_or_create(tier=Tier.objects.get(slug=slug), **price)
        self.stdout.write(f"demo catalog: {Tier.objects.count()} tiers, {Price.objects.count()} prices")
        if settings.DEBUG:
            User = get_user_model()
            if not User.objects.filter(username="demo").exists():
                User.objects.create_user("demo", email="demo@example.com", password="demo")
            self.stdout.write("demo login (DEBUG only): username demo, password demo")
