"""Refunds: a send claim (``sending_since``) and fingerprints as SHA-256;
notifications: a SENDING status and ``claimed_at`` (claimed before sending).
No stored fingerprint predates the hash: nothing before this has been deployed."""

from django.db import migrations, models


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
    ]
