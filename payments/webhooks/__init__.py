"""Stripe webhooks: the view (views.py) stores and verifies, processing.py
runs the handler of the event's type under a transaction, one module per
family holds the handlers."""
