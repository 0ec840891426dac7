from django.core.management.base import BaseCommand, CommandError

from payments.services.notifications import send_notifications


class Command(BaseCommand):
    help = (
        "Send the admin notifications that are pending or failed before (email, SMS), and those a sender"
        " left mid-send; each is claimed first, so this may run beside the server and other runs of itself."
    )

    def handle(self, *args, **options):
        counts = send_notifications()
        self.stdout.write(
            f"notifications: {counts['sent']} sent, {counts['failed']} failed,"
            f" {counts['busy']} being sent by another sender"
        )
        if counts["failed"]:
            raise CommandError(f"{counts['failed']} notification(s) failed; they will be tried again next time")
