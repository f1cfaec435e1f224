from django.contrib import admin, messages
from django.db.models import Count, Q

from sync.exceptions import UserFacingError
from sync.models import ContactLink
from sync.services import contact_unlink

from .models import Contact


class LinkInline(admin.TabularInline):
    model = ContactLink
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["connection", "xero_name", "xero_contact_id", "status", "invalid_reason", "method"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        # Links are made through the link form, which audits them.
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "account_number",
        "email",
        "phone",
        "is_customer",
        "is_supplier",
        "ready_count",
        "linked_to",
        "updated_at",
    ]
    list_filter = ["is_customer", "is_supplier", ("links", admin.EmptyFieldListFilter)]
    search_fields = ["name", "first_name", "last_name", "email", "account_number", "tax_number"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [LinkInline]
    actions = ["unlink_selected"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "first_name",
                    "last_name",
                    "omni_id",
                    "is_customer",
                    "is_supplier",
                ]
            },
        ),
        ("Contact details", {"fields": ["email", "phone", "account_number", "tax_number"]}),
        (
            "Postal address",
            {
                "classes": ["collapse"],
                "fields": [
                    "postal_line1",
                    "postal_line2",
                    "postal_city",
                    "postal_region",
                    "postal_postal_code",
                    "postal_country",
                ],
            },
        ),
        (
            "Street address",
            {
                "classes": ["collapse"],
                "fields": [
                    "street_line1",
                    "street_line2",
                    "street_city",
                    "street_region",
                    "street_postal_code",
                    "street_country",
                ],
            },
        ),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(ready=Count("transactions", filter=Q(transactions__sync_state="ready")))
            .prefetch_related("links")
        )

    @admin.display(description="ready to sync", ordering="ready")
    def ready_count(self, obj: Contact) -> int:
        return obj.ready

    @admin.display(description="linked contact")
    def linked_to(self, obj: Contact) -> str:
        links = list(obj.links.all())
        if not links:
            return "No linked contact"
        return ", ".join(
            link.xero_name + ("" if link.is_valid else f" ({link.get_invalid_reason_display()})")
            for link in links
        )

    def _unlink_all(self, request, contacts) -> int:
        unlinked = 0
        for link in ContactLink.objects.filter(contact__in=contacts).select_related(
            "contact", "connection"
        ):
            try:
                contact_unlink(contact=link.contact, connection=link.connection, user=request.user)
                unlinked += 1
            except UserFacingError as error:
                self.message_user(request, str(error), messages.ERROR)
        return unlinked

    @admin.action(description="Unlink selected contacts from Xero", permissions=["change"])
    def unlink_selected(self, request, queryset):
        unlinked = self._unlink_all(request, queryset)
        if unlinked:
            self.message_user(request, f"Unlinked {unlinked} contact(s).", messages.SUCCESS)

    # A deleted contact's links go through the audited unlink first, never a silent cascade.
    def delete_model(self, request, obj):
        self._unlink_all(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        self._unlink_all(request, queryset)
        super().delete_queryset(request, queryset)
