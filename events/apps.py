from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from payments.payables import register

        from events.payables import EventPayable

        register(EventPayable())
