from django.apps import AppConfig


class BookingsConfig(AppConfig):
    """A second payable, installed for the tests only: proves payments knows
    nothing of events (a booking pays a deposit its own app computes)."""

    name = "tests.bookings"
    label = "bookings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from payments.payables import register

        from tests.bookings.payables import BookingPayable

        register(BookingPayable())
