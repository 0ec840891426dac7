"""Operations: the use cases above both services and webhook processing, run by
the management commands and the admin. The layers point one way:
models <- gateway <- services <- webhooks <- operations <- (admin, commands);
services never import webhooks (tests/payments/test_import_graph.py)."""
