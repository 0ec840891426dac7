"""The host app's Event, the thing a payment buys a tier for. It lives outside
payments on purpose: payments reaches it only through its payable adapter
(events/payables.py), so the payments app stays reusable by another host."""

from django.conf import settings
from django.db import models


class Event(models.Model):
    """A FutureReminder event. Paying for a tier activates it at that tier."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="events")
    title = models.CharField(max_length=200)
    is_active = models.BooleanField(default=False)
    tier = models.ForeignKey("payments.Tier", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title
