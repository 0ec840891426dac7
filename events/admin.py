from django.contrib import admin

from payments.admin import IndexedDates, changelist_link
from payments.models import Payment

from events.models import Event


@admin.register(Event)
class EventAdmin(IndexedDates, admin.ModelAdmin):
    list_display = ("title", "user", "is_active", "tier", "created_at")
    list_filter = ("is_active", "tier", "created_at")
    list_select_related = ("user", "tier")
    search_fields = ("title", "user__email", "user__username")
    date_hierarchy = "created_at"
    show_full_result_count = False
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "payments_link")

    @admin.display(description="Payments")
    def payments_link(self, obj):
        if obj.pk is None:
            return "-"
        return changelist_link(Payment, "Payments for this event", payable_type="event", payable_id=obj.pk)
