"""The subscription Checkout page a Customer row remembered (session, fingerprint,
key) becomes the first SubscriptionCheckoutAttempt of that customer; back, the
latest attempt is written onto its Customer again (the old columns had room
for one page, so the keys of earlier pages are not kept)."""

import django.db.models.deletion
from django.db import migrations, models


def customer_pages_to_attempts(apps, schema_editor):
    Customer = apps.get_model("payments", "Customer")
    Attempt = apps.get_model("payments", "SubscriptionCheckoutAttempt")
    pages = Customer.objects.exclude(subscription_checkout_session_id__isnull=True).exclude(
        subscription_checkout_session_id=""
    )
    Attempt.objects.bulk_create(
        Attempt(
            customer_id=customer.pk,
            stripe_checkout_session_id=customer.subscription_checkout_session_id,
            idempotency_key=customer.subscription_checkout_idempotency_key or None,
            request_fingerprint=customer.subscription_checkout_fingerprint,
        )
        for customer in pages.iterator()
    )


def latest_attempts_to_customers(apps, schema_editor):
    Customer = apps.get_model("payments", "Customer")
    Attempt = apps.get_model("payments", "SubscriptionCheckoutAttempt")
    seen = set()
    for attempt in Attempt.objects.order_by("customer_id", "-created_at", "-id").iterator():
        if attempt.customer_id in seen:
            continue
        seen.add(attempt.customer_id)
        Customer.objects.filter(pk=attempt.customer_id).update(
            subscription_checkout_session_id=attempt.stripe_checkout_session_id,
            subscription_checkout_fingerprint=attempt.request_fingerprint,
            subscription_checkout_idempotency_key=attempt.idempotency_key,
        )


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0011_ledger_rows_completed_after_commit'),
    ]

    operations = [
        migrations.CreateModel(
            name='SubscriptionCheckoutAttempt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('stripe_checkout_session_id', models.CharField(max_length=255)),
                ('status', models.CharField(choices=[('open', 'Open'), ('complete', 'Complete'), ('expired', 'Expired')], default='open', max_length=16)),
                ('idempotency_key', models.CharField(blank=True, max_length=255, null=True)),
                ('request_fingerprint', models.CharField(blank=True, default='', max_length=255)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('customer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='subscription_checkout_attempts', to='payments.customer')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['customer', '-created_at', '-id'], name='sub_checkout_latest_idx')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('idempotency_key__isnull', False)), fields=('customer', 'idempotency_key'), name='sub_checkout_unique_idempotency_key_per_customer')],
            },
        ),
        migrations.RunPython(customer_pages_to_attempts, latest_attempts_to_customers),
        migrations.RemoveField(
            model_name='customer',
            name='subscription_checkout_fingerprint',
        ),
        migrations.RemoveField(
            model_name='customer',
            name='subscription_checkout_idempotency_key',
        ),
        migrations.RemoveField(
            model_name='customer',
            name='subscription_checkout_session_id',
        ),
    ]
