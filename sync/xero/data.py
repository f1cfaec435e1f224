"""What the Xero boundary hands back and takes: plain frozen dataclasses, no SDK types."""

import datetime as dt
import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_at: datetime
    scopes: list[str]


@dataclass(frozen=True)
class Tenant:
    """An organisation a grant covers. `xero_connection_id` is the ID of Xero's /Connections
    entry for it (None for a custom connection), not omni-xero's connection row."""

    xero_connection_id: uuid.UUID | None
    tenant_id: uuid.UUID
    tenant_type: str
    name: str


@dataclass(frozen=True)
class Organisation:
    organisation_id: uuid.UUID
    name: str
    base_currency: str = ""


@dataclass(frozen=True)
class ContactDetails:
    """The contact fields omni-xero sends to Xero and mirrors from it, named as in our models.

    This class is the one list of them: the SDK mapping below, the mirror's columns and the
    create call all derive from it.
    """

    name: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    account_number: str = ""
    contact_number: str = ""
    tax_number: str = ""


# Our field name → the SDK Contact attribute that carries it.
SDK_CONTACT_ATTRIBUTES = {
    "name": "name",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email_address",
    "account_number": "account_number",
    "contact_number": "contact_number",
    "tax_number": "tax_number",
}
assert set(SDK_CONTACT_ATTRIBUTES) == {f.name for f in fields(ContactDetails)}


@dataclass(frozen=True, kw_only=True)
class XeroContactData(ContactDetails):
    """A contact as Xero holds it, archived and merged ones included."""

    contact_id: uuid.UUID
    status: str = "ACTIVE"
    merged_into_xero_contact_id: uuid.UUID | None = None
    is_customer: bool = False
    is_supplier: bool = False
    updated_in_xero: datetime | None = None
    # The fields whose text was changed to be storable (sync.xero.text), comma-separated.
    cleaned_fields: str = ""


@dataclass(frozen=True)
class Address:
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True, kw_only=True)
class ContactUpload(ContactDetails):
    """A contact to create in Xero (no `contact_id`) or to update (its `contact_id`)."""

    contact_id: uuid.UUID | None = None
    phone: str = ""
    postal_address: Address = Address()
    street_address: Address = Address()


@dataclass(frozen=True)
class SaveOutcome:
    """What Xero did with one element of a batch save: the contact, or why not."""

    contact: "XeroContactData | None"
    errors: list[str]


@dataclass(frozen=True)
class ContactsPage:
    contacts: list[XeroContactData]
    page: int
    page_count: int | None


class DocumentKind(StrEnum):
    """The three Accounting API collections omni-xero writes documents to."""

    INVOICE = "invoice"  # Type ACCREC (sales invoice) or ACCPAY (bill)
    CREDIT_NOTE = "credit_note"  # Type ACCRECCREDIT or ACCPAYCREDIT
    PURCHASE_ORDER = "purchase_order"


@dataclass(frozen=True)
class LineTracking:
    """A line's tracking as Xero's LineItem Tracking takes it: the names of a category and
    of one of its options."""

    category: str
    option: str


@dataclass(frozen=True)
class DocumentLine:
    description: str
    quantity: Decimal
    unit_amount: Decimal
    account_code: str
    tax_type: str
    tracking: tuple[LineTracking, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DocumentUpload:
    """A document to create in Xero (no `document_id`) or to update (its `document_id`).

    `number` is the Omni number: it goes in the document's number field (InvoiceNumber,
    CreditNoteNumber, PurchaseOrderNumber), by which the document is found again.
    """

    kind: DocumentKind
    type: str  # ACCREC, ACCPAY, ACCRECCREDIT, ACCPAYCREDIT; "" for a purchase order
    contact_id: uuid.UUID
    number: str
    reference: str
    date: dt.date
    due_date: dt.date | None
    currency: str
    line_amount_types: str
    status: str
    lines: tuple[DocumentLine, ...]
    document_id: uuid.UUID | None = None
    # Xero's CurrencyRate (foreign units per base unit); None: Xero's rate of the day.
    currency_rate: Decimal | None = None


@dataclass(frozen=True)
class XeroDocument:
    """A document as Xero holds it now."""

    kind: DocumentKind
    document_id: uuid.UUID
    type: str
    number: str
    reference: str
    status: str
    contact_id: uuid.UUID | None
    total: Decimal
    amount_due: Decimal
    amount_paid: Decimal
    updated_in_xero: datetime | None
    due_date: dt.date | None = None  # an invoice's: when what is due becomes overdue
    currency: str = ""  # what its amounts are in (Xero's CurrencyCode)


@dataclass(frozen=True)
class DocumentOutcome:
    """What Xero did with one element of a batch: the document, or why not."""

    document: XeroDocument | None
    errors: list[str]


@dataclass(frozen=True)
class XeroAccount:
    account_id: uuid.UUID
    code: str
    name: str
    type: str
    status: str
    tax_type: str
    # EnablePaymentsToAccount: payments may go into it (a bank account always may).
    enable_payments: bool = False


@dataclass(frozen=True)
class XeroTaxRate:
    tax_type: str
    name: str
    status: str
    rate: Decimal
    # Whether Xero lets the rate go on revenue (sales) and on expenses (purchases) accounts;
    # None when Xero did not say.
    can_apply_to_revenue: bool | None = None
    can_apply_to_expenses: bool | None = None


@dataclass(frozen=True, kw_only=True)
class PaymentUpload:
    """A payment to create in Xero, against one document (an invoice or bill is paid, a
    credit note refunded) into one account."""

    document_kind: DocumentKind  # INVOICE or CREDIT_NOTE
    document_id: uuid.UUID
    account_code: str
    date: dt.date
    amount: Decimal
    reference: str


@dataclass(frozen=True)
class XeroPayment:
    """A payment as Xero holds it now."""

    payment_id: uuid.UUID
    document_id: uuid.UUID | None  # its invoice's or credit note's ID
    reference: str
    amount: Decimal
    status: str
    updated_in_xero: dt.datetime | None
    # The document paid, as Xero's answer shows it after the payment (its status, what is
    # paid and due); None when the answer does not say.
    document: "XeroDocument | None" = None


@dataclass(frozen=True)
class PaymentOutcome:
    """What Xero did with one element of a batch: the payment, or why not."""

    payment: XeroPayment | None
    errors: list[str]


@dataclass(frozen=True)
class XeroCurrency:
    code: str
    description: str


@dataclass(frozen=True)
class XeroTrackingOption:
    option_id: uuid.UUID
    name: str
    status: str


@dataclass(frozen=True)
class XeroTrackingCategory:
    category_id: uuid.UUID
    name: str
    status: str
    options: tuple[XeroTrackingOption, ...]
