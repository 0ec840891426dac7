from payments.errors import PayableNotPayable
from payments.payables import PayableAdapter

from tests.bookings.models import Booking


class BookingPayable(PayableAdapter):
    type = "booking"

    def get(self, payable_id):
        return Booking.objects.filter(pk=payable_id).first() if str(payable_id).isdigit() else None

    def owner_id(self, obj):
        return obj.user_id

    def check_payable(self, obj, price):
        if obj.deposit_paid:
            raise PayableNotPayable("The deposit is paid already.", field="payable")

    def amount(self, obj, price):
        """A deposit: a share of the price, rounded down to the minor unit."""
        return price.unit_amount * obj.deposit_percent // 100

    def fulfil(self, obj, payment):
        obj.deposit_paid = True
        obj.save(update_fields=["deposit_paid"])

    def revoke(self, obj, payment):
        obj.deposit_paid = False
        obj.save(update_fields=["deposit_paid"])
