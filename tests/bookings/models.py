from django.conf import settings
from django.db import models


class Booking(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    room = models.CharField(max_length=50)
    deposit_percent = models.PositiveIntegerField(default=20)
    deposit_paid = models.BooleanField(default=False)
