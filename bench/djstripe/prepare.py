"""``python -m bench.djstripe.prepare <spec.json>`` (in dj-stripe's virtualenv,
with the fake Stripe up): migrates dj-stripe's database and creates, through
dj-stripe's own sync from Stripe data, what a dj-stripe site has before the
first event: the webhook endpoint with its signing secret (validation by
signature, as DJSTRIPE_WEBHOOK_VALIDATION) and the returning customer every
bench payment is made by. Prints the endpoint's URL path as one JSON line."""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.djstripe.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from djstripe import models  # noqa: E402
from djstripe.settings import djstripe_settings  # noqa: E402

from bench import objects  # noqa: E402


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[1]).read_text())
    call_command("migrate", verbosity=0, interactive=False)
    endpoint = models.WebhookEndpoint.sync_from_stripe_data(
        {
            "id": "we_bench", "object": "webhook_endpoint", "api_version": objects.API_VERSION, "application": None,
            "created": spec["created"], "description": "bench", "enabled_events": ["*"], "livemode": False,
            "metadata": {}, "status": "enabled", "url": "http://127.0.0.1/stripe/webhook/",
            "secret": spec["webhook_secret"], "djstripe_validation_method": "verify_signature",
        },
        api_key=djstripe_settings.STRIPE_SECRET_KEY,
    )
    models.Customer.sync_from_stripe_data(objects.customer(spec["created"]), api_key=djstripe_settings.STRIPE_SECRET_KEY)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    print(json.dumps({"webhook_path": f"/stripe/webhook/{endpoint.djstripe_uuid}/",
                      "validation": endpoint.djstripe_validation_method}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
