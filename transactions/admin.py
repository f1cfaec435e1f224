from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import LineItem, Payment, Transaction


class LineItemInline(admin.TabularInline):
    model = LineItem
    extra = 0
    fields = ["position", "description", "quantity", "unit_price", "account_code", "tax_type"]


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "type",
        "contact",
        "date",
        "due_date",
        "currency",
        "total",
        "sync_state",
        "xero_number",
    ]
    list_filter = ["type", "sync_state", "branch", "currency", "date"]
    list_select_related = ["contact"]
    search_fields = ["number", "reference", "contact__name", "xero_number", "xero_id"]
    date_hierarchy = "date"
    autocomplete_fields = ["contact"]
    inlines = [LineItemInline]
    # What Xero made of it is the sync's to write (Upload, Skip and Reset on the dashboard):
    # a hand-edited Xero ID or state would send a duplicate or lose one.
    xero_fields = ["sync_state", "xero_id", "xero_number", "synced_at", "last_error"]
    readonly_fields = ["subtotal", "tax", "total", *xero_fields, "created_at", "updated_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "type",
                    "number",
                    "reference",
                    "contact",
                    "branch",
                    "date",
                    "due_date",
                    "currency",
                    "currency_rate",
                    "line_amount_type",
                ]
            },
        ),
        ("Totals (from the lines)", {"fields": ["subtotal", "tax", "total"]}),
        ("Xero", {"fields": ["sync_state", "xero_id", "xero_number", "synced_at", "last_error"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Transaction]:
        return super().get_queryset(request).prefetch_related("lines")

    @admin.display(description="subtotal")
    def subtotal(self, obj: Transaction):
        return obj.totals.subtotal

    @admin.display(description="tax")
    def tax(self, obj: Transaction):
        return obj.totals.tax

    @admin.display(description="total")
    def total(self, obj: Transaction):
        return obj.totals.total


@admin.register(LineItem)
class LineItemAdmin(admin.ModelAdmin):
    """Lines across transactions, e.g. to find every line on an account code."""

    list_display = [
        "description", "transaction", "quantity", "unit_price", "amount", "account_code",
        "tax_type",
    ]  # fmt: skip
    list_filter = ["tax_type", "account_code", "transaction__type"]
    list_select_related = ["transaction"]
    search_fields = ["description", "transaction__number", "account_code"]
    autocomplete_fields = ["transaction"]

    @admin.display(description="amount")
    def amount(self, obj: LineItem):
        return obj.amount


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["transaction", "date", "amount", "method", "reference", "sync_state"]
    list_filter = ["sync_state", "method", "transaction__type", "date"]
    list_select_related = ["transaction"]
    search_fields = ["reference", "transaction__number", "transaction__contact__name", "xero_id"]
    date_hierarchy = "date"
    autocomplete_fields = ["transaction"]
    # Like a transaction's: what Xero made of it is the upload's to write.
    readonly_fields = ["sync_state", "xero_id", "synced_at", "last_error", "created_at"]
    fields = ["transaction", "date", "amount", "method", "reference", *readonly_fields]
