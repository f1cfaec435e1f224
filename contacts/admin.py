"""Admin for Omni contacts. sync/admin.py adds their Xero links to it."""

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from .models import Contact

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class ReadyCount(TypedDict):
    """What ContactAdmin.get_queryset annotates each contact with."""

    ready: int


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin[Contact]):
    list_display = [
        "name",
        "account_number",
        "email",
        "phone",
        "is_customer",
        "is_supplier",
        "ready_count",
        "updated_at",
    ]
    list_filter = ["is_customer", "is_supplier"]
    search_fields = ["name", "first_name", "last_name", "email", "account_number", "tax_number"]
    readonly_fields = ["created_at", "updated_at"]
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
        ("In Xero", {"fields": ["cost_center"]}),
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

    def get_queryset(self, request: HttpRequest) -> QuerySet[Contact]:
        return (
            super()
            .get_queryset(request)
            .annotate(ready=Count("transactions", filter=Q(transactions__sync_state="ready")))
        )

    @admin.display(description="ready to sync", ordering="ready")
    def ready_count(self, obj: "WithAnnotations[Contact, ReadyCount]") -> int:
        return obj.ready
