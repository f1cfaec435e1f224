"""The boundary to Xero: the only code that imports xero_python.

- `transport`: the SDK client, timeouts, retries, Idempotency-Keys, and what each failure
  means (one place);
- `identity`: the consent page, tokens, and the organisations a grant covers;
- `accounting`: the Accounting API calls for contacts and the organisation, one small typed
  function each; `documents`: those for documents, accounts and tax rates; `payments`:
  those for payments;
- `errors` and `data`: what the rest of omni-xero catches and gets back.

It writes nothing to the database: every call takes a `Session` (sync.connections.services makes one
per connection) that supplies the access token, renews a refused one, and records each
request.
"""

from .accounting import (
    IDS_PER_CALL,
    contact_get,
    contact_pages,
    contacts_by_ids,
    contacts_create,
    contacts_create_each,
    contacts_page,
    contacts_save,
    organisation_get,
)
from .data import (
    Address,
    ContactDetails,
    ContactsPage,
    ContactUpload,
    DocumentKind,
    DocumentLine,
    DocumentOutcome,
    DocumentUpload,
    Organisation,
    PaymentOutcome,
    PaymentUpload,
    SaveOutcome,
    Tenant,
    TokenSet,
    XeroAccount,
    XeroContactData,
    XeroDocument,
    XeroPayment,
    XeroTaxRate,
)
from .documents import (
    DOCUMENT_IDS_PER_CALL,
    accounts_list,
    documents_by_ids,
    documents_pages,
    documents_save,
    tax_rates_list,
)
from .errors import (
    ElementError,
    GrantRefused,
    NeedsReconnecting,
    NotConnected,
    NotFound,
    RateLimited,
    ValidationFailed,
    XeroError,
    XeroUnavailable,
    refused_message,
)
from .identity import (
    Authorization,
    authorization_new,
    authorization_url,
    client_credentials_token,
    code_exchange,
    tenant_remove,
    tenants,
    tenants_remove,
    tokens_refresh,
    tokens_revoke,
)
from .payments import payments_pages, payments_save
from .text import from_xero, storable
from .transport import CallRecord, Quota, Session, TokenSession, interactive

__all__ = [
    "DOCUMENT_IDS_PER_CALL",
    "IDS_PER_CALL",
    "Address",
    "Authorization",
    "CallRecord",
    "ContactDetails",
    "ContactUpload",
    "ContactsPage",
    "DocumentKind",
    "DocumentLine",
    "DocumentOutcome",
    "DocumentUpload",
    "ElementError",
    "GrantRefused",
    "NeedsReconnecting",
    "NotConnected",
    "NotFound",
    "Organisation",
    "PaymentOutcome",
    "PaymentUpload",
    "Quota",
    "RateLimited",
    "SaveOutcome",
    "Session",
    "Tenant",
    "TokenSession",
    "TokenSet",
    "ValidationFailed",
    "XeroAccount",
    "XeroContactData",
    "XeroDocument",
    "XeroError",
    "XeroPayment",
    "XeroTaxRate",
    "XeroUnavailable",
    "accounts_list",
    "authorization_new",
    "authorization_url",
    "client_credentials_token",
    "code_exchange",
    "contact_get",
    "contact_pages",
    "contacts_by_ids",
    "contacts_create",
    "contacts_create_each",
    "contacts_page",
    "contacts_save",
    "documents_by_ids",
    "documents_pages",
    "documents_save",
    "from_xero",
    "interactive",
    "organisation_get",
    "payments_pages",
    "payments_save",
    "refused_message",
    "storable",
    "tax_rates_list",
    "tenant_remove",
    "tenants",
    "tenants_remove",
    "tokens_refresh",
    "tokens_revoke",
]
