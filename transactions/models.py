"""Omni transactions (invoices, credit notes, purchase orders, bills) and their lines."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce, Round

from contacts.models import Contact, any_field_contains

from .taxes import RATES, TaxType

CENT = Decimal("0.01")


class TransactionType(models.TextChoices):
    SALES_INVOICE = "sales_invoice", "Sales invoice"
    SALES_CREDIT_NOTE = "sales_credit_note", "Sales credit note"
    PURCHASE_ORDER = "purchase_order", "Purchase order"
    SUPPLIER_INVOICE = "supplier_invoice", "Supplier invoice (bill)"
    SUPPLIER_CREDIT_NOTE = "supplier_credit_note", "Supplier credit note"


SALES_TYPES = (TransactionType.SALES_INVOICE, TransactionType.SALES_CREDIT_NOTE)
PURCHASE_TYPES = (
    TransactionType.PURCHASE_ORDER,
    TransactionType.SUPPLIER_INVOICE,
    TransactionType.SUPPLIER_CREDIT_NOTE,
)


def tab_types(tab: str) -> tuple[str, ...]:
    """The transaction types of a dashboard tab: "sales" or "purchases"."""
    if tab == "sales":
        return SALES_TYPES
    if tab == "purchases":
        return PURCHASE_TYPES
    raise ValueError(f"Unknown dashboard tab {tab!r}")


class LineAmountType(models.TextChoices):
    """Whether line prices include tax; the values are Xero's LineAmountTypes."""

    EXCLUSIVE = "Exclusive", "Tax exclusive"
    INCLUSIVE = "Inclusive", "Tax inclusive"
    NO_TAX = "NoTax", "No tax"


class SyncState(models.TextChoices):
    READY = "ready", "Ready to sync"
    SYNCED = "synced", "Synced"
    FAILED = "failed", "Failed"
    REFUSED = "refused", "Refused"  # not sent: its contact or codes cannot go; still to sync
    SKIPPED = "skipped", "Skipped"


# What Upload all ready picks up: refused transactions go again once what stopped them is fixed.
TO_SYNC = (SyncState.READY, SyncState.REFUSED)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax: Decimal
    total: Decimal


def default_currency() -> str:
    # A callable, so the setting is read when a transaction is made, not frozen in a migration.
    return settings.DEFAULT_CURRENCY


class OneOf(models.Func):
    """`column IN (subquery)`, written on PostgreSQL as `column = ANY(ARRAY(subquery))`: the
    subquery runs first, and its ids can join the other arms of an OR in one bitmap scan of
    the column's index (where IN would check every row against them)."""

    output_field = models.BooleanField()

    def __init__(self, column: str, subquery: models.QuerySet[Any]) -> None:
        super().__init__(models.F(column), models.Subquery(subquery))

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra: Any,
    ) -> Any:
        column, subquery, params = self._compiled(compiler)
        return f"{column} IN {subquery}", params

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, subquery, params = self._compiled(compiler)
        return f"{column} = ANY(ARRAY{subquery})", params

    def _compiled(self, compiler: Any) -> tuple[str, str, tuple[Any, ...]]:
        (column, column_params), (subquery, params) = (
            compiler.compile(e) for e in self.get_source_expressions()
        )
        return column, subquery, (*column_params, *params)


class TransactionQuerySet(models.QuerySet["Transaction"]):
    def ready_to_sync(self) -> Self:
        return self.filter(sync_state__in=TO_SYNC)

    def of_type(self, transaction_type: str) -> Self:
        return self.filter(type=transaction_type)

    def for_tab(self, tab: str) -> Self:
        """The transactions of a dashboard tab: "sales" or "purchases"."""
        return self.filter(type__in=tab_types(tab))

    def with_lines(self) -> Self:
        return self.select_related("contact").prefetch_related("lines")

    def in_state(self, state: str) -> Self:
        """Transactions in one sync state; every transaction for an unknown or empty one."""
        return self.filter(sync_state=state) if state in SyncState.values else self

    def with_total(self) -> Self:
        """Annotate `omni_total`: `Transaction.totals.total` in SQL (tests keep the two in
        agreement), so that a list can filter and page on it without loading the lines."""
        amount = Round(models.F("quantity") * models.F("unit_price"), 2)
        by_rate: dict[Decimal, list[str]] = {}
        for code, r in RATES.items():
            if r:
                by_rate.setdefault(r, []).append(code)
        rate = models.Case(
            *(models.When(tax_type__in=c, then=models.Value(r)) for r, c in by_rate.items()),
            default=models.Value(Decimal("0")),
            output_field=models.DecimalField(max_digits=5, decimal_places=4),
        )
        lines = LineItem.objects.filter(transaction=models.OuterRef("pk")).order_by()
        money = models.DecimalField(max_digits=20, decimal_places=2)

        def summed(expression: Any) -> models.Subquery:
            total = models.Func(expression, function="SUM", output_field=money)
            return models.Subquery(lines.annotate(s=total).values("s")[:1], output_field=money)

        zero = models.Value(Decimal("0.00"), output_field=money)
        # Exclusive prices add their tax (rounded per line, as Xero does); inclusive and
        # tax-free ones total their amounts.
        tax = models.Case(
            models.When(
                line_amount_type=LineAmountType.EXCLUSIVE,
                then=Coalesce(summed(Round(amount * rate, 2)), zero),
            ),
            default=zero,
            output_field=money,
        )
        return self.annotate(omni_total=Coalesce(summed(amount), zero) + tax)

    def search(self, text: str) -> Self:
        """Match the number, the reference or the contact's name."""
        text = text.strip()
        if not text:
            return self
        contacts = Contact.objects.filter(name__icontains=text).values("pk")
        return self.filter(
            any_field_contains(text, ["number", "reference"]) | Q(OneOf("contact_id", contacts))
        )


class Transaction(models.Model):
    """One Omni transaction of one contact, and where its upload to Xero stands.

    A transaction goes to one Xero organisation, never two (the sync app records which), so
    its sync state, Xero ID and number are its state in that organisation.
    """

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="transactions")
    # The Omni branch (location) that made it: with several Xero organisations connected, a
    # branch's transactions can be mapped to one of them.
    branch = models.CharField(max_length=100, blank=True, db_index=True)
    type = models.CharField(max_length=32, choices=TransactionType)
    number = models.CharField(max_length=255)
    reference = models.CharField(max_length=255, blank=True)
    date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3, default=default_currency)
    # Xero's CurrencyRate: units of this currency per one unit of the organisation's base
    # currency. Blank: Xero uses its own rate of the day.
    currency_rate = models.DecimalField(
        max_digits=18,
        decimal_places=10,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.0000000001"))],
        help_text="Units of this currency per unit of the organisation's base currency; "
        "blank: Xero's rate of the day.",
    )
    line_amount_type = models.CharField(
        max_length=16, choices=LineAmountType, default=LineAmountType.EXCLUSIVE
    )
    sync_state = models.CharField(max_length=16, choices=SyncState, default=SyncState.READY)
    xero_id = models.UUIDField("Xero ID", null=True, blank=True)
    xero_number = models.CharField("Xero number", max_length=255, blank=True)
    last_error = models.TextField(blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TransactionQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["type", "number"],
                name="transaction_number_unique_per_type",
                violation_error_message="A transaction of this type with this number exists.",
            ),
            models.CheckConstraint(
                condition=Q(due_date__isnull=True) | Q(due_date__gte=models.F("date")),
                name="transaction_due_on_or_after_date",
                violation_error_message="The due date cannot be before the transaction date.",
            ),
            models.CheckConstraint(
                condition=~Q(sync_state=SyncState.SYNCED) | Q(xero_id__isnull=False),
                name="transaction_synced_has_xero_id",
                violation_error_message="A synced transaction must have its Xero ID.",
            ),
        ]
        indexes = [
            models.Index(fields=["contact", "sync_state"]),
            # What waits to sync, by contact: the contacts lists' "ready" filter, counts and
            # sort read it alone (the id is in it for the organisation's filter).
            models.Index(
                fields=["contact", "id"],
                condition=Q(sync_state__in=TO_SYNC),
                name="transaction_to_sync_idx",
            ),
            # What failed or was refused, by contact: the Errors view's contacts and its badge.
            models.Index(
                fields=["contact", "id"],
                condition=Q(sync_state__in=[SyncState.FAILED, SyncState.REFUSED]),
                name="transaction_problem_idx",
            ),
            # A subtab's page in the list's order, of every state or of one.
            models.Index(fields=["type", "-date", "number"], name="transaction_type_page_idx"),
            models.Index(
                fields=["type", "sync_state", "-date", "number"],
                name="transaction_state_page_idx",
            ),
            # Discrepancies' page: the synced ones, in its order.
            models.Index(
                fields=["date", "number", "id"],
                condition=Q(sync_state=SyncState.SYNCED),
                name="transaction_synced_page_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.number}"

    def clean(self) -> None:
        contact = self.contact if self.contact_id else None
        if contact is None:
            return
        if self.is_sales and not contact.is_customer:
            raise ValidationError({"contact": f"{contact} is not a customer in Omni."})
        if not self.is_sales and not contact.is_supplier:
            raise ValidationError({"contact": f"{contact} is not a supplier in Omni."})

    @property
    def is_sales(self) -> bool:
        return self.type in SALES_TYPES

    @property
    def totals(self) -> Totals:
        """Subtotal, tax and total, derived from the lines as Xero derives them.

        Tax is rounded per line, the way Xero rounds it.
        """
        subtotal = tax = Decimal("0.00")
        for line in self.lines.all():
            amount = line.amount
            rate = RATES.get(line.tax_type, Decimal("0"))
            if self.line_amount_type == LineAmountType.EXCLUSIVE:
                line_tax = (amount * rate).quantize(CENT, ROUND_HALF_UP)
                subtotal += amount
            elif self.line_amount_type == LineAmountType.INCLUSIVE:
                line_tax = (amount - amount / (1 + rate)).quantize(CENT, ROUND_HALF_UP)
                subtotal += amount - line_tax
            else:
                line_tax = Decimal("0.00")
                subtotal += amount
            tax += line_tax
        return Totals(subtotal=subtotal, tax=tax, total=subtotal + tax)


class LineItem(models.Model):
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=4000)
    quantity = models.DecimalField(
        max_digits=14, decimal_places=4, default=Decimal("1"), validators=[MinValueValidator(0)]
    )
    unit_price = models.DecimalField(max_digits=14, decimal_places=4)
    account_code = models.CharField(max_length=10)
    tax_type = models.CharField(max_length=32, choices=TaxType)

    class Meta:
        ordering = ["transaction", "position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="line_quantity_not_negative"),
            models.CheckConstraint(condition=~Q(description=""), name="line_description_not_empty"),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def amount(self) -> Decimal:
        """The line amount as Xero computes it: quantity times unit price, to the cent."""
        return (self.quantity * self.unit_price).quantize(CENT, ROUND_HALF_UP)


# Payments ------------------------------------------------------------------------------------

# What a payment can be made against: an invoice or a bill is paid; a credit note is
# refunded. A purchase order is never paid.
PAYABLE_TYPES = (
    TransactionType.SALES_INVOICE,
    TransactionType.SUPPLIER_INVOICE,
    TransactionType.SALES_CREDIT_NOTE,
    TransactionType.SUPPLIER_CREDIT_NOTE,
)
REFUNDED_TYPES = (TransactionType.SALES_CREDIT_NOTE, TransactionType.SUPPLIER_CREDIT_NOTE)


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CARD = "card", "Card"
    CASH = "cash", "Cash"
    CHEQUE = "cheque", "Cheque"
    OTHER = "other", "Other"


class PaymentState(models.TextChoices):
    WAITING = "waiting", "Waiting for its document"  # its transaction is not in Xero yet
    READY = "ready", "Ready to upload"
    SYNCED = "synced", "Synced"
    FAILED = "failed", "Failed"
    REFUSED = "refused", "Refused"


class PaymentQuerySet(models.QuerySet["Payment"]):
    def for_tab(self, tab: str) -> Self:
        """The payments of a dashboard tab's transactions: "sales" or "purchases"."""
        return self.filter(transaction__type__in=tab_types(tab))

    def in_state(self, state: str) -> Self:
        """Payments in one state; every payment for an unknown or empty one."""
        return self.filter(sync_state=state) if state in PaymentState.values else self

    def search(self, text: str) -> Self:
        """Match the payment's reference, its transaction's number or its contact's name."""
        text = text.strip()
        if not text:
            return self
        return self.filter(
            any_field_contains(
                text, ["reference", "transaction__number", "transaction__contact__name"]
            )
        )


class Payment(models.Model):
    """Money Omni recorded against one invoice or bill (or a refund on a credit note), and
    where its upload to Xero stands: it goes to the organisation its transaction went to,
    as a payment against that document, once the document is there."""

    transaction = models.ForeignKey(
        Transaction,
        on_delete=models.PROTECT,
        related_name="payments",
        limit_choices_to={"type__in": PAYABLE_TYPES},
        help_text="The invoice or bill it pays, or the credit note it refunds.",
    )
    date = models.DateField()
    amount = models.DecimalField(
        max_digits=14, decimal_places=2, validators=[MinValueValidator(CENT)]
    )
    method = models.CharField(max_length=16, choices=PaymentMethod, default=PaymentMethod.OTHER)
    reference = models.CharField(max_length=200, blank=True)
    sync_state = models.CharField(max_length=16, choices=PaymentState, default=PaymentState.WAITING)
    xero_id = models.UUIDField("Xero PaymentID", null=True, blank=True)
    last_error = models.TextField(blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=~Q(sync_state=PaymentState.SYNCED) | Q(xero_id__isnull=False),
                name="payment_synced_has_xero_id",
                violation_error_message="A synced payment must have its Xero PaymentID.",
            ),
        ]
        indexes = [
            models.Index(fields=["transaction", "sync_state"]),
            # A Payments subtab's page in the list's order, of every state or of one.
            models.Index(fields=["-date", "-id"], name="payment_page_idx"),
            models.Index(fields=["sync_state", "-date", "-id"], name="payment_state_page_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} on {self.transaction.number}" if self.transaction_id else "Payment"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A new (or not yet sent) payment waits for its document until that is in Xero.
        if self.sync_state in (PaymentState.WAITING, PaymentState.READY) and self.transaction_id:
            synced = self.transaction.sync_state == SyncState.SYNCED
            self.sync_state = PaymentState.READY if synced else PaymentState.WAITING
        super().save(*args, **kwargs)

    @property
    def is_refund(self) -> bool:
        return self.transaction.type in REFUNDED_TYPES

    def clean(self) -> None:
        if self.transaction_id and self.transaction.type not in PAYABLE_TYPES:
            raise ValidationError(
                {"transaction": "Only an invoice, a bill or a credit note can be paid."}
            )
