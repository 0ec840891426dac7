from events.models import Event


def event_create(*, user, title: str) -> Event:
    return Event.objects.create(user=user, title=title.strip())
