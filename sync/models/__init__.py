"""Xero connections, the links joining Omni contacts to Xero contacts, and their audit trail."""

from .audit import (
    Actor,
    AppendOnlyQuerySet,
    AuditEvent,
    ConnectionEvent,
    LinkEvent,
    TransactionEvent,
)
from .connections import (
    ConnectionKind,
    ConnectionStatus,
    XeroApiCall,
    XeroConnection,
    XeroConnectionQuerySet,
)
from .dashboard import KeptCounts
from .heartbeats import Heartbeat
from .imports import ContactImport, DismissedSuggestion, ImportedContact, ImportFile
from .links import (
    ContactLink,
    ContactLinkQuerySet,
    InvalidReason,
    LinkMethod,
    LinkStatus,
    SyncContact,
    SyncContactManager,
    SyncContactQuerySet,
)
from .mirror import MATCH_KEYS, UnmirroredContact, XeroContact, XeroContactQuerySet, fitted
from .notifications import Notification, NotificationQuerySet
from .preferences import KeptFilter
from .quota import XeroAppQuota, XeroQuota
from .syncing import (
    AUTOSYNC_INTERVALS,
    AUTOSYNC_TYPES,
    PAYMENTS,
    AccountMapping,
    Autosync,
    BranchOrganisation,
    ChartAccount,
    DocumentStatus,
    MirroredDocument,
    PaymentItem,
    SyncItem,
    SyncRun,
    SyncSettings,
    TaxRate,
    TransactionOrganisation,
)
from .uploads import RECENT_UPLOAD, UploadJob, UploadRow
from .webhooks import WebhookDelivery, WebhookEvent

__all__ = [
    "AUTOSYNC_INTERVALS",
    "AUTOSYNC_TYPES",
    "MATCH_KEYS",
    "PAYMENTS",
    "RECENT_UPLOAD",
    "AccountMapping",
    "Actor",
    "AppendOnlyQuerySet",
    "AuditEvent",
    "Autosync",
    "BranchOrganisation",
    "ChartAccount",
    "ConnectionEvent",
    "ConnectionKind",
    "ConnectionStatus",
    "ContactImport",
    "ContactLink",
    "ContactLinkQuerySet",
    "DismissedSuggestion",
    "DocumentStatus",
    "Heartbeat",
    "ImportFile",
    "ImportedContact",
    "InvalidReason",
    "KeptCounts",
    "KeptFilter",
    "LinkEvent",
    "LinkMethod",
    "LinkStatus",
    "MirroredDocument",
    "Notification",
    "NotificationQuerySet",
    "PaymentItem",
    "SyncContact",
    "SyncContactManager",
    "SyncContactQuerySet",
    "SyncItem",
    "SyncRun",
    "SyncSettings",
    "TaxRate",
    "TransactionEvent",
    "TransactionOrganisation",
    "UnmirroredContact",
    "UploadJob",
    "UploadRow",
    "WebhookDelivery",
    "WebhookEvent",
    "XeroApiCall",
    "XeroAppQuota",
    "XeroConnection",
    "XeroConnectionQuerySet",
    "XeroContact",
    "XeroContactQuerySet",
    "XeroQuota",
    "fitted",
]
