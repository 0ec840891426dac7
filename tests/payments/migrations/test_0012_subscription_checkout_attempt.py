"""The subscription Checkout page a Customer remembered moves to its own model
and back, on the real database, with the real migration."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("payments", "0011_ledger_rows_completed_after_commit")]
AFTER = [("payments", "0012_subscription_checkout_attempt")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def at_0011(transactional_db):
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())  # the latest schema again


def test_pages_move_to_attempts_and_back(at_0011, django_user_model):
    Customer = at_0011.get_model("payments", "Customer")
    User = at_0011.get_model(*django_user_model._meta.label.split("."))
    with_page = Customer.objects.create(
        user=User.objects.create(username="alice"), stripe_customer_id="cus_a",
        subscription_checkout_session_id="cs_a", subscription_checkout_fingerprint="f" * 64,
        subscription_checkout_idempotency_key="page-1",
    )
    keyless = Customer.objects.create(
        user=User.objects.create(username="bob"), stripe_customer_id="cus_b",
        subscription_checkout_session_id="cs_b", subscription_checkout_fingerprint="e" * 64,
    )
    none = Customer.objects.create(user=User.objects.create(username="carol"), stripe_customer_id="cus_c")

    apps = migrate(AFTER)
    Attempt = apps.get_model("payments", "SubscriptionCheckoutAttempt")
    assert sorted(
        Attempt.objects.values_list("customer_id", "stripe_checkout_session_id", "request_fingerprint", "idempotency_key", "status")
    ) == sorted([(with_page.pk, "cs_a", "f" * 64, "page-1", "open"), (keyless.pk, "cs_b", "e" * 64, None, "open")])
    # A newer page of alice's: the one that goes back onto her Customer row.
    Attempt.objects.create(customer_id=with_page.pk, stripe_checkout_session_id="cs_a2", request_fingerprint="d" * 64)

    apps = migrate(BEFORE)
    Customer = apps.get_model("payments", "Customer")
    back = {
        c.pk: (c.subscription_checkout_session_id, c.subscription_checkout_fingerprint, c.subscription_checkout_idempotency_key)
        for c in Customer.objects.all()
    }
    assert back == {
        with_page.pk: ("cs_a2", "d" * 64, None),
        keyless.pk: ("cs_b", "e" * 64, None),
        none.pk: (None, "", None),
    }
