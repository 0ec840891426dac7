from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def invoices_know_their_stripe_subscription(apps, schema_editor):
    """Fill Invoice.stripe_subscription_id: from the linked subscription, else from the
    invoice's stored events (Stripe's payload names it). An invoice that came before its
    subscription (and so was never linked) is then linked, with its Payment, the next
    time that subscription is applied (its next event, or ``payments_reconcile``)."""
    Invoice = apps.get_model("payments", "Invoice")
    Subscription = apps.get_model("payments", "Subscription")
    WebhookEvent = apps.get_model("payments", "WebhookEvent")
    Invoice.objects.filter(subscription__stripe_subscription_id__isnull=False, stripe_subscription_id="").update(
        stripe_subscription_id=Subquery(
            Subscription.objects.filter(pk=OuterRef("subscription_id")).values("stripe_subscription_id")[:1]
        )
    )
    orphans = set(Invoice.objects.filter(subscription__isnull=True, stripe_subscription_id="").values_list("stripe_invoice_id", flat=True))
    if not orphans:
        return
    found = {}
    for payload in WebhookEvent.objects.filter(type__startswith="invoice.").values_list("payload", flat=True).iterator():
        obj = ((payload or {}).get("data") or {}).get("object") or {}
        if obj.get("id") not in orphans:
            continue
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        sub = details.get("subscription") or obj.get("subscription")
        sub = sub.get("id") if isinstance(sub, dict) else sub
        if isinstance(sub, str) and sub:
            found[obj["id"]] = sub
    for invoice_id, sub in found.items():
        Invoice.objects.filter(stripe_invoice_id=invoice_id, stripe_subscription_id="").update(stripe_subscription_id=sub)


class Migration(migrations.Migration):
    """Subscriptions and invoices in any order; one subscription start per user at a time."""

    dependencies = [("payments", "0006_refunds_notifications_safety")]

    operations = [
        migrations.AddField(
            model_name="invoice",
            name="stripe_subscription_id",
            field=models.CharField(blank=True, db_index=True, default="", max_length=255),
        ),
        migrations.AddField(
            model_name="subscription",
            name="closed_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "-"),
                    ("superseded", "Superseded by a newer start"),
                    ("duplicate", "Duplicate of a running subscription"),
                ],
                default="",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="customer",
            name="subscription_checkout_session_id",
            field=models.CharField(blank=True, max_length=255, null=True),
        ),
        migrations.AddField(
            model_name="customer",
            name="subscription_checkout_fingerprint",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="customer",
            name="subscription_checkout_idempotency_key",
            field=models.CharField(blank=True, max_length=255, null=True),
        ),
        migrations.RunPython(invoices_know_their_stripe_subscription, migrations.RunPython.noop),
    ]
