"""Refunds: a send claim (``sending_since``) and fingerprints as SHA-256;
notifications: a SENDING status and ``claimed_at`` (claimed before sending)."""

import hashlib
import json
import re

from django.db import migrations, models

# What refunds.py wrote before payments.services.idempotency existed.
# (Payment ids are UUIDs; the fingerprint serializes them as their string.)
_LEGACY = re.compile(r"payment=([0-9a-f-]+);amount=(None|\d+);reason=(None|[a-z_]+);description=(.*)\Z", re.DOTALL)


def _fingerprint(operation, **fields):
    """payments.services.idempotency.request_fingerprint, frozen here as migrations must be."""
    canonical = json.dumps([operation, fields], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def hash_legacy_fingerprints(apps, schema_editor):
    """A retry (same idempotencyKey, same input) of a refund recorded before this
    migration must still match: rewrite the old plain-text fingerprints as the
    hash the service now computes."""
    Refund = apps.get_model("payments", "Refund")
    for pk, old in Refund.objects.filter(request_fingerprint__startswith="payment=").values_list(
        "pk", "request_fingerprint"
    ):
        match = _LEGACY.match(old)
        if match is None:
            continue
        payment, amount, reason, description = match.groups()
        new = _fingerprint(
            "refund",
            payment=payment,
            amount=None if amount == "None" else int(amount),
            reason=None if reason == "None" else reason,
            description=description,
        )
        Refund.objects.filter(pk=pk).update(request_fingerprint=new)


class Migration(migrations.Migration):
    dependencies = [("payments", "0005_webhook_refused")]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="claimed_at",
            field=models.DateTimeField(blank=True, help_text="When a sender claimed it (status SENDING).", null=True),
        ),
        migrations.AddField(
            model_name="refund",
            name="sending_since",
            field=models.DateTimeField(
                blank=True,
                help_text="While set (and younger than the send lease), one request is sending this refund to Stripe;"
                " no other request sends it.",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="status",
            field=models.CharField(
                choices=[("pending", "Pending"), ("sending", "Sending"), ("sent", "Sent"), ("failed", "Failed")],
                db_index=True,
                default="pending",
                max_length=8,
            ),
        ),
        migrations.RunPython(hash_legacy_fingerprints, migrations.RunPython.noop),
    ]
