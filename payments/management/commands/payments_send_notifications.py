from django.core.management.base import BaseCommand, CommandError

from payments.services.notifications import send_notifications


class Command(BaseCommand):
    help = "Send the admin notifications that are pending or failed before (email, SMS)."

    def handle(self, *args, **options):
        counts = send_notifications()
        self.stdout.write(f"notifications: {counts['sent']} sent, {counts['failed']} failed")
        if counts["failed"]:
            raise CommandError(f"{counts['failed']} notification(s) failed; they will be tried again next time")
