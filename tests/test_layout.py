"""The tests mirror the code tree: each module with behaviour under payments/,
schema/, stripe_emulator/, events/ and config/ has its test module at the same
place under tests/ (``payments/services/payments.py`` ->
``tests/payments/services/test_payments.py``), so a reader finds a module's
tests without searching, and a new module without tests is noticed here.

Behaviour: a function, or a class with a method, at the module's top level.
Plain declarations (models of fields, enums, dataclasses of values, exceptions
with a message) have none. A module whose behaviour is tested by a flow that
spans several modules is listed in EXCEPTIONS with the tests that cover it;
the reliability, browser and benchmark suites stay where they are (they test
properties of the whole, not a module).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TREES = ("payments", "schema", "stripe_emulator", "events", "config")

APP = "Django runs its ready() in every test; nothing of its own to assert"
COMMAND_FLOW = "tested through its management command"

EXCEPTIONS: dict[str, str] = {
    # Split under 400 lines after the lifecycle work: tested through their flows.
    "payments/services/catalog_pull.py": COMMAND_FLOW + " (test_payments_sync_catalog.py, --pull) and Dashboard adoption (tests/schema/test_subscriptions.py)",
    "payments/services/subscription_payments.py": "tested by tests/schema/test_subscriptions.py and the webhook ordering tests (an invoice's Payment, flow)",
    "stripe_emulator/test_cards.py": "tested by tests/stripe_emulator/test_browser_face.py (every test card from the card form) and the resource tests",
    # The admin package: its pages are rendered, filtered and acted on as a whole.
    "payments/admin/base.py": "tested by tests/payments/test_admin.py and test_admin_size.py (the admin's pages, flow)",
    "payments/admin/catalog.py": "tested by tests/payments/test_admin.py and test_admin_size.py (the admin's pages, flow)",
    "payments/admin/dates.py": "tested by tests/payments/test_admin.py and test_admin_size.py (the admin's pages, flow)",
    "payments/admin/filters.py": "tested by tests/payments/test_admin.py and test_admin_size.py (the admin's pages, flow)",
    "payments/admin/payments.py": "tested by tests/payments/test_admin.py and test_admin_size.py (the admin's pages, flow)",
    "payments/admin/subscriptions.py": "tested by tests/payments/test_admin.py and test_admin_size.py (the admin's pages, flow)",
    "payments/admin/webhooks.py": "tested by tests/payments/test_admin.py and test_admin_size.py (the admin's pages, flow)",
    "payments/admin/results.py": "tested by tests/payments/test_admin.py (every ledger list is Django's HTML, byte for byte)",
    "payments/templatetags/ledger_list.py": "tested by tests/payments/test_admin.py (every ledger list is Django's HTML, byte for byte)",
    # Added by the subscription lifecycle and the browser work: tested through their flows.
    "config/client.py": "tested by tests/config/test_client_serving.py (the built client at /, flow)",
    "payments/gateway/billing_portal.py": "tested through createBillingPortalSession (tests/schema/test_billing_portal.py, flow)",
    "payments/services/billing_portal.py": "tested by tests/schema/test_billing_portal.py (flow)",
    "payments/services/receipts.py": "tested by tests/schema/test_trials.py and test_billing_portal.py (paymentMethod, receiptUrl, flow)",
    "payments/services/redirects.py": "tested by tests/schema/test_checkout.py and test_billing_portal.py (successUrl, returnUrl, flow)",
    "payments/services/trials.py": "tested by tests/schema/test_trials.py (flow)",
    "payments/webhooks/charge.py": "a handler: tests/schema/test_trials.py, test_billing_portal.py (receipts, flow)",
    "payments/webhooks/customer.py": "a handler: tests/schema/test_billing_portal.py (a card saved on the portal, flow)",
    "stripe_emulator/portal.py": "tested by tests/stripe_emulator/test_billing_portal.py (flow)",
    "stripe_emulator/setup_intents.py": "tested by tests/stripe_emulator/test_trials.py (flow)",
    # Django wiring.
    "payments/apps.py": APP,
    "events/apps.py": APP,
    "events/admin.py": "an admin registration: its pages are rendered by tests/payments/test_admin.py (flow)",
    "config/settings.py": "read from the environment: tests/config/test_cors.py, the suite's own settings_test (flow)",
    "config/asgi.py": "the HTTP/WebSocket router: tests/config/test_one_hop.py, test_cors.py, tests/schema/test_csrf.py (flow)",
    "stripe_emulator/__init__.py": "re-exports; get_emulator is tested by tests/payments/management/commands/test_stripe_emulator.py",
    "stripe_emulator/__main__.py": "tested by tests/stripe_emulator/test_standalone.py (the emulator as its own process, flow)",
    # payments/: declarations and helpers asserted where they are used.
    "payments/errors.py": "the domain's errors, each asserted where it is raised (tests/payments/services, tests/schema)",
    "payments/ids.py": "tested by tests/reliability/test_hostile_inputs.py (ids from outside, flow)",
    "payments/payables.py": "tested by tests/events/test_payables.py (the host app's adapter, flow)",
    "payments/selectors.py": "tested through the queries: tests/schema/ and tests/schema/test_query_counts.py (flow)",
    "payments/gateway/balance.py": "tested by tests/payments/management/commands/test_payments_ledger.py (--check-balance, flow)",
    "payments/gateway/billing.py": "tested through the subscription services against the emulator (tests/schema/, flow)",
    "payments/gateway/catalog.py": "tested by tests/payments/management/commands/test_payments_sync_catalog.py (flow)",
    "payments/gateway/checkout.py": "tested through createCheckoutSession (tests/schema/test_checkout.py, flow)",
    "payments/gateway/customers.py": "tested by tests/payments/gateway/test_client.py and the first payment of every flow",
    "payments/gateway/refunds.py": "tested through refund_payment (tests/payments/services/test_refunds.py, flow)",
    "payments/models/catalog.py": "tested by tests/payments/test_cache.py and test_money.py (flow)",
    "payments/models/ledger.py": "tested by tests/payments/services/test_ledger.py (flow)",
    "payments/models/refund.py": "tested by tests/payments/services/test_refunds.py (flow)",
    "payments/operations/reconcile.py": COMMAND_FLOW + " (tests/payments/management/commands/test_payments_reconcile.py)",
    "payments/operations/replay.py": COMMAND_FLOW + " (test_payments_replay_events.py) and the admin's Reprocess (test_admin.py)",
    "payments/operations/webhook_setup.py": COMMAND_FLOW + " (tests/payments/management/commands/test_payments_webhook_setup.py)",
    "payments/management/commands/payments_send_notifications.py": "tested by tests/payments/services/test_notifications.py (flow)",
    "payments/services/access.py": "tested by tests/reliability/test_authorization_matrix.py and PAYMENTS_* in tests/schema/ (flow)",
    "payments/services/catalog.py": "tested through the money mutations that push a price first (tests/schema/, flow)",
    "payments/services/catalog_sync.py": COMMAND_FLOW + " (test_payments_sync_catalog.py) and the admin's push (test_admin_push.py)",
    "payments/services/checkout.py": "tested by tests/schema/test_checkout.py (createCheckoutSession and its webhook, flow)",
    "payments/services/customers.py": "tested by tests/payments/services/test_concurrency.py and every first payment (flow)",
    "payments/services/fulfilment.py": "tested by tests/events/test_payables.py (fulfil and revoke, flow)",
    "payments/services/payments.py": "tested through createPaymentIntent (tests/schema/), tests/payments/services/test_concurrency.py,"
    " tests/events/test_payables.py (flow)",
    "payments/services/plan_changes.py": "tested by tests/schema/test_plan_changes.py (flow)",
    "payments/services/reports.py": "tested by tests/payments/management/commands/test_payments_reconcile.py (flow)",
    "payments/stripe_data/_fields.py": "tested by tests/payments/stripe_data/test_payments.py (damaged data, every reader)",
    "payments/stripe_data/billing.py": "tested by tests/payments/stripe_data/test_payments.py (damaged data) and the billing flows",
    "payments/stripe_data/catalog.py": "tested by tests/payments/stripe_data/test_payments.py (damaged data) and the catalog sync",
    "payments/stripe_data/checkout.py": "tested through the Checkout flows (tests/schema/test_checkout.py)",
    "payments/webhooks/processing.py": "tested by tests/payments/webhooks/test_views.py and tests/reliability/test_hostile_webhooks.py (flow)",
    "payments/webhooks/checkout.py": "a handler: tests/payments/webhooks/test_views.py, tests/schema/test_checkout.py (flow)",
    "payments/webhooks/invoice.py": "a handler: tests/payments/models/test_subscription.py, tests/schema/ billing (flow)",
    "payments/webhooks/payment_intent.py": "a handler: tests/payments/webhooks/test_views.py (flow)",
    "payments/webhooks/refunds.py": "a handler: tests/schema/test_refunds.py, tests/payments/services/test_refunds.py (flow)",
    "payments/webhooks/subscription.py": "a handler: tests/payments/models/test_subscription.py, tests/schema/ billing (flow)",
    # schema/: properties of the whole schema, asserted by its suites.
    "schema/browser.py": "tested by tests/config/test_emulator.py and tests/browser/test_stripe_js.py (stripeConfig, flow)",
    "schema/errors.py": "tested by every OperationInfo answer of tests/schema/ and tests/reliability/test_login_throttling.py",
    "schema/inputs.py": "tested by tests/reliability/test_hostile_inputs.py (NUL refused, flow)",
    "schema/limits.py": "tested by tests/reliability/test_graphql_limits.py",
    "schema/management/commands/graphql_schema.py": "tested by tests/schema/test_schema_file.py",
    "schema/optimizing.py": "tested by tests/schema/test_query_counts.py (flow)",
    "schema/schema.py": "tested by tests/schema/test_schema_file.py and every schema test",
    "schema/viewer.py": "tested by tests/reliability/test_authorization_matrix.py",
    # stripe_emulator/: its resources are tested through handle_http, by family.
    "stripe_emulator/billing_objects.py": "tested by tests/stripe_emulator/test_billing.py (flow)",
    "stripe_emulator/checkout_objects.py": "tested by tests/stripe_emulator/test_checkout.py (flow)",
    "stripe_emulator/common.py": "tested by tests/stripe_emulator/test_faults.py and test_api.py (errors, flow)",
    "stripe_emulator/customers.py": "tested by tests/stripe_emulator/test_api.py and test_idempotency.py (flow)",
    "stripe_emulator/events.py": "tested by tests/stripe_emulator/test_api.py and the reconcile command's (flow)",
    "stripe_emulator/hosted.py": "tested by tests/stripe_emulator/test_browser_face.py and tests/browser/ (flow)",
    "stripe_emulator/inprocess.py": "tested by tests/stripe_emulator/test_params.py and every gateway test (flow)",
    "stripe_emulator/pages.py": "tested by tests/stripe_emulator/test_browser_face.py and tests/browser/ (flow)",
    "stripe_emulator/objects.py": "tested by tests/stripe_emulator/test_fixtures.py (its templates) and every resource test",
    "stripe_emulator/payment_intents.py": "tested by tests/stripe_emulator/test_api.py and test_actions.py (flow)",
    "stripe_emulator/proration.py": "tested by tests/stripe_emulator/test_plan_changes.py (flow)",
    "stripe_emulator/publishable.py": "tested by tests/stripe_emulator/test_browser_face.py (flow)",
    "stripe_emulator/routes.py": "tested by tests/stripe_emulator/test_params.py and test_api.py (flow)",
    "stripe_emulator/store.py": "tested by tests/stripe_emulator/test_actions.py and test_idempotency.py (flow)",
    "stripe_emulator/webhook_endpoints.py": "tested by tests/stripe_emulator/test_catalog.py (flow)",
    # events/: the host app.
    "events/services.py": "tested through createEvent and activateEvent (tests/schema/, flow)",
}


def _has_behaviour(path: Path) -> bool:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return True
        if isinstance(node, ast.ClassDef) and any(
            isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)) and inner.name != "__str__"
            for inner in ast.walk(node)
        ):
            return True
    return False


def _modules() -> list[str]:
    found = []
    for tree in TREES:
        for path in sorted((ROOT / tree).rglob("*.py")):
            if "migrations" in path.relative_to(ROOT).parts:
                continue  # schema history: tests/payments/migrations tests the one that moves data
            if _has_behaviour(path):
                found.append(path.relative_to(ROOT).as_posix())
    return found


def mirror_of(module: str) -> str:
    """payments/services/payments.py -> tests/payments/services/test_payments.py"""
    path = Path(module)
    return (Path("tests") / path.parent / f"test_{path.stem.lstrip('_')}.py").as_posix()


def test_the_mirror_of_a_module_is_its_test_module_at_the_same_place():
    assert mirror_of("payments/services/payments.py") == "tests/payments/services/test_payments.py"
    assert mirror_of("payments/stripe_data/_fields.py") == "tests/payments/stripe_data/test_fields.py"


def test_the_walk_finds_behaviour_and_skips_declarations():
    modules = _modules()
    assert "payments/services/payments.py" in modules and "stripe_emulator/http.py" in modules
    assert "payments/models/webhook.py" not in modules  # fields only
    assert "payments/signals.py" not in modules  # a Signal() declared
    assert not any("/migrations/" in m for m in modules)


@pytest.mark.parametrize("module", _modules())
def test_each_module_with_behaviour_has_its_mirror_test_module(module):
    mirror = mirror_of(module)
    if module in EXCEPTIONS:
        assert not (ROOT / mirror).exists(), f"{module} has {mirror} now: drop it from EXCEPTIONS"
    else:
        assert (ROOT / mirror).exists(), f"{module} has behaviour: its tests go in {mirror} (or list it in EXCEPTIONS, with why)"


def test_every_exception_names_a_module_with_behaviour():
    stale = sorted(set(EXCEPTIONS) - set(_modules()))
    assert not stale, f"no such module with behaviour, drop them from EXCEPTIONS: {stale}"
