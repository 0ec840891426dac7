"""The user's one Stripe Customer, so that all of a user's payments and
subscriptions land on one Customer at Stripe; its row is also the lock that
keeps a user's subscription starts one at a time."""

from django.conf import settings
from django.db import models


class Customer(models.Model):
    """The user's Stripe Customer. One row per user, created once even when
    several first requests race (see services.customers). Its row lock serialises
    the user's subscription starts (services.subscriptions)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stripe_customer")
    stripe_customer_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    # invoice_settings.default_payment_method, as customer.updated last said (the
    # billing portal's card update): what renewals without a card of their own use.
    default_payment_method_id = models.CharField(max_length=255, blank=True, default="")
    # When Stripe made the customer.updated event that set it: an older event
    # arriving later (Stripe's deliveries have no order) does not set it back.
    default_payment_method_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)  # the admin's date navigation

    def __str__(self) -> str:
        return self.stripe_customer_id or f"customer of user {self.user_id} (not yet at Stripe)"
