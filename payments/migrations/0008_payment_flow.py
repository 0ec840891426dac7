from django.db import migrations, models


def checkout_payments(apps, schema_editor):
    """Payments that already have a Checkout session were started by createCheckoutSession."""
    Payment = apps.get_model("payments", "Payment")
    Payment.objects.filter(stripe_checkout_session_id__isnull=False).update(flow="checkout")


class Migration(migrations.Migration):
    dependencies = [("payments", "0007_subscriptions_order")]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="flow",
            field=models.CharField(
                choices=[("intent", "Intent"), ("checkout", "Checkout")], default="intent", max_length=16
            ),
        ),
        migrations.RunPython(checkout_payments, migrations.RunPython.noop),
    ]
