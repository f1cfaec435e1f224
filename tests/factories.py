"""A factory for every model."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

import factory
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.utils import timezone

from contacts.models import Contact
from sync.models import (
    AccountMapping,
    BranchOrganisation,
    BranchTracking,
    ChartAccount,
    ConnectionEvent,
    ContactImport,
    ContactLink,
    Currency,
    DismissedSuggestion,
    ImportedContact,
    LinkEvent,
    LinkMethod,
    MirroredDocument,
    SyncItem,
    SyncRun,
    SyncSettings,
    TaxRate,
    TrackingCategory,
    TrackingOption,
    TransactionEvent,
    TransactionOrganisation,
    UnmirroredContact,
    UploadJob,
    UploadRow,
    WebhookDelivery,
    WebhookEvent,
    XeroApiCall,
    XeroConnection,
    XeroContact,
)
from transactions.models import LineItem, Payment, PaymentMethod, Transaction, TransactionType
from transactions.taxes import TaxType


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    name = factory.Sequence(lambda n: f"Kauri Trading {n} Ltd")
    first_name = "Mere"
    last_name = "Ngata"
    email = factory.Sequence(lambda n: f"accounts{n}@kauri.example.nz")
    account_number = factory.Sequence(lambda n: f"C{n:05d}")
    is_customer = True
    is_supplier = False


class SupplierFactory(ContactFactory):
    name = factory.Sequence(lambda n: f"Pacific Packaging {n} Ltd")
    account_number = factory.Sequence(lambda n: f"S{n:05d}")
    is_customer = False
    is_supplier = True


class TransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Transaction

    contact = factory.SubFactory(ContactFactory)
    type = TransactionType.SALES_INVOICE
    number = factory.Sequence(lambda n: f"INV-{n:05d}")
    date = factory.LazyFunction(date.today)
    due_date = factory.LazyAttribute(lambda t: t.date + timedelta(days=20))


class LineItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LineItem

    transaction = factory.SubFactory(TransactionFactory)
    description = "Manuka honey 500g"
    quantity = Decimal("2")
    unit_price = Decimal("24.50")
    account_code = "200"
    tax_type = TaxType.OUTPUT2


class XeroConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = XeroConnection

    organisation_name = factory.Sequence(lambda n: f"Demo Company {n} (NZ)")
    tenant_id = factory.LazyFunction(uuid.uuid4)


class ContactLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactLink

    contact = factory.SubFactory(ContactFactory)
    connection = factory.SubFactory(XeroConnectionFactory)
    xero_contact_id = factory.LazyFunction(uuid.uuid4)
    xero_name = factory.LazyAttribute(lambda link: link.contact.name)
    method = LinkMethod.EXISTING


class LinkEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LinkEvent

    action = LinkEvent.Action.LINK
    contact = factory.SubFactory(ContactFactory)
    contact_name = factory.LazyAttribute(lambda e: e.contact.name)
    connection = factory.SubFactory(XeroConnectionFactory)
    organisation_name = factory.LazyAttribute(lambda e: e.connection.organisation_name)
    xero_contact_id_after = factory.LazyFunction(uuid.uuid4)


class ConnectionEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConnectionEvent

    action = ConnectionEvent.Action.CONNECT
    connection = factory.SubFactory(XeroConnectionFactory)
    organisation_name = factory.LazyAttribute(lambda e: e.connection.organisation_name)


class XeroContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = XeroContact

    connection = factory.SubFactory(XeroConnectionFactory)
    contact_id = factory.LazyFunction(uuid.uuid4)
    name = factory.Sequence(lambda n: f"Xero Contact {n} Ltd")


class UnmirroredContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UnmirroredContact

    connection = factory.SubFactory(XeroConnectionFactory)
    contact_id = factory.LazyFunction(uuid.uuid4)
    name = factory.Sequence(lambda n: f"Unstorable Contact {n} Ltd")
    reason = "value refused"


class XeroApiCallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = XeroApiCall

    connection = factory.SubFactory(XeroConnectionFactory)
    method = "GET"
    endpoint = "/api.xro/2.0/Contacts?page=1"
    status = 200
    duration_ms = 42


class AccessAttemptFactory(factory.django.DjangoModelFactory):
    """django-axes' count of failed logins for one username from one address."""

    class Meta:
        model = AccessAttempt

    username = "alex"
    ip_address = "203.0.113.7"
    user_agent = "Mozilla/5.0"
    path_info = "/login/"
    get_data = ""
    post_data = "username=alex\npassword=********************"
    failures_since_start = 5


class AccessLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccessLog

    username = "alex"
    ip_address = "203.0.113.7"
    user_agent = "Mozilla/5.0"
    path_info = "/login/"


class AccessFailureLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccessFailureLog

    username = "alex"
    ip_address = "203.0.113.7"
    user_agent = "Mozilla/5.0"
    path_info = "/login/"


class UploadJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UploadJob

    connection = factory.SubFactory(XeroConnectionFactory)


class UploadRowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UploadRow

    job = factory.SubFactory(UploadJobFactory)
    connection = factory.LazyAttribute(lambda row: row.job.connection)
    contact = factory.SubFactory(ContactFactory)
    kind = UploadRow.Kind.CREATE


# --- Transaction sync --------------------------------------------------------------------------


class SyncSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncSettings

    connection = factory.SubFactory(XeroConnectionFactory)


class ChartAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChartAccount

    connection = factory.SubFactory(XeroConnectionFactory)
    account_id = factory.LazyFunction(uuid.uuid4)
    code = factory.Sequence(lambda n: str(200 + n))
    name = factory.Sequence(lambda n: f"Sales {n}")
    type = "REVENUE"
    status = "ACTIVE"
    tax_type = "OUTPUT2"


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRate

    connection = factory.SubFactory(XeroConnectionFactory)
    tax_type = factory.Sequence(lambda n: f"TAX{n}")
    name = factory.Sequence(lambda n: f"Tax rate {n}")
    status = "ACTIVE"
    rate = Decimal("15")


class AccountMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountMapping

    connection = factory.SubFactory(XeroConnectionFactory)
    transaction_type = TransactionType.SALES_INVOICE


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    connection = factory.SubFactory(XeroConnectionFactory)
    state = SyncRun.State.DONE


class SyncItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncItem

    run = factory.SubFactory(SyncRunFactory)
    connection = factory.LazyAttribute(lambda item: item.run.connection)
    transaction = factory.SubFactory(TransactionFactory)
    state = SyncItem.State.SYNCED


class MirroredDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MirroredDocument

    connection = factory.SubFactory(XeroConnectionFactory)
    document_id = factory.LazyFunction(uuid.uuid4)
    kind = "invoice"
    type = "ACCREC"
    number = factory.Sequence(lambda n: f"INV-{n:05d}")
    status = "AUTHORISED"
    total = Decimal("0")


class ContactImportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactImport

    token = factory.Sequence(lambda n: f"token-{n}")
    created_by = factory.SubFactory(UserFactory)
    connection = factory.SubFactory(XeroConnectionFactory)
    file_name = "Contacts.csv"
    file_data = b"*ContactName\r\nTui Books\r\n"
    customers = True


class ImportedContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportedContact

    contact_import = factory.SubFactory(ContactImportFactory)
    row_number = factory.Sequence(lambda n: n + 2)
    contact = factory.SubFactory(ContactFactory)
    contact_name = factory.LazyAttribute(lambda row: row.contact.name)
    created = True
    outcome = ImportedContact.Outcome.NO_MATCH


class DismissedSuggestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DismissedSuggestion

    connection = factory.SubFactory(XeroConnectionFactory)
    contact = factory.SubFactory(ContactFactory)
    xero_contact_id = factory.LazyFunction(uuid.uuid4)


class BranchOrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BranchOrganisation

    branch = factory.Sequence(lambda n: f"Branch {n}")
    connection = factory.SubFactory(XeroConnectionFactory)


class BranchTrackingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BranchTracking

    branch = factory.Sequence(lambda n: f"Tracked branch {n}")
    category = "Region"
    option = "Wellington"


class CurrencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Currency

    connection = factory.SubFactory(XeroConnectionFactory)
    code = "USD"
    description = "United States Dollar"


class TrackingCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackingCategory

    connection = factory.SubFactory(XeroConnectionFactory)
    category_id = factory.LazyFunction(uuid.uuid4)
    name = factory.Sequence(lambda n: f"Category {n}")
    status = "ACTIVE"


class TrackingOptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackingOption

    category = factory.SubFactory(TrackingCategoryFactory)
    option_id = factory.LazyFunction(uuid.uuid4)
    name = factory.Sequence(lambda n: f"Option {n}")
    status = "ACTIVE"


class TransactionOrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TransactionOrganisation

    transaction = factory.SubFactory(TransactionFactory)
    connection = factory.SubFactory(XeroConnectionFactory)


class TransactionEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TransactionEvent

    action = TransactionEvent.Action.SKIP
    transaction = factory.SubFactory(TransactionFactory)
    transaction_label = factory.LazyAttribute(lambda event: str(event.transaction))
    connection = factory.SubFactory(XeroConnectionFactory)
    organisation_name = factory.LazyAttribute(lambda event: event.connection.organisation_name)


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    events = 1
    signed = True


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEvent

    connection = factory.SubFactory(XeroConnectionFactory)
    category = "CONTACT"
    event_type = "UPDATE"
    resource_id = factory.LazyFunction(uuid.uuid4)
    event_date = factory.LazyFunction(timezone.now)


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    transaction = factory.SubFactory(TransactionFactory)
    date = factory.LazyFunction(date.today)
    amount = Decimal("10.00")
    method = PaymentMethod.BANK_TRANSFER
    reference = factory.Sequence(lambda n: f"DEP-{n:04d}")
