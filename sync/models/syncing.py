"""Sync settings, the fetched chart of accounts and tax rates, sync runs and their items, and
the local copy of Xero's documents."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sync.jobs import Job, JobItem
from transactions.models import Payment, Transaction, TransactionType

from .connections import XeroConnection


class DocumentStatus(models.TextChoices):
    """The status documents are created with in Xero (Xero's values)."""

    DRAFT = "DRAFT", "Draft"
    AUTHORISED = "AUTHORISED", "Approved (authorised)"


class Autosync(models.TextChoices):
    OFF = "off", "Off"
    EVERY_15_MINUTES = "15m", "Every 15 minutes"
    EVERY_30_MINUTES = "30m", "Every 30 minutes"
    HOURLY = "hourly", "Hourly"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


# The key of a sync run's payments among its outcome counts (the others are transaction
# types), and among the automatic sync's choices.
PAYMENTS = "payments"

# What an automatic sync can take, each a choice in the settings: the document types and
# the payments. The one list: a kind of work added to the automatic sync (contacts) is added
# here, and to autosyncs_start.
AUTOSYNC_TYPES: list[tuple[str, str]] = [*TransactionType.choices, (PAYMENTS, "Payments")]

AUTOSYNC_INTERVALS = {
    Autosync.EVERY_15_MINUTES: timedelta(minutes=15),
    Autosync.EVERY_30_MINUTES: timedelta(minutes=30),
    Autosync.HOURLY: timedelta(hours=1),
    Autosync.DAILY: timedelta(days=1),
    Autosync.WEEKLY: timedelta(weeks=1),
}


class SyncSettings(models.Model):
    """How one organisation's transactions are sent: document status and the schedule."""

    connection = models.OneToOneField(
        XeroConnection, on_delete=models.CASCADE, related_name="sync_settings"
    )
    document_status = models.CharField(
        "create documents as",
        max_length=16,
        choices=DocumentStatus,
        default=DocumentStatus.DRAFT,
        help_text="Draft documents can still be edited in Xero; approved ones are final.",
    )
    autosync = models.CharField(
        "sync automatically", max_length=8, choices=Autosync, default=Autosync.OFF
    )
    autosync_last_at = models.DateTimeField("last automatic sync", null=True, blank=True)
    autosync_types = models.JSONField(
        "types synced automatically",
        default=list,
        blank=True,
        help_text="None ticked: every type.",
    )
    autosync_at = models.TimeField(
        "daily and weekly syncs start at",
        null=True,
        blank=True,
        help_text="The organisation's time of day; blank: as soon as one is due.",
    )
    autosync_alert_email = models.EmailField(
        "failure alerts go to",
        blank=True,
        help_text="Blank: the admins.",
    )
    multicurrency = models.BooleanField(
        default=False,
        help_text="For an organisation that uses Xero's multicurrency: transactions go in "
        "their own currency. Off: one in another currency than the organisation's base "
        "currency is refused, never converted.",
    )
    settings_refreshed_at = models.DateTimeField(
        "accounts and tax rates fetched", null=True, blank=True
    )
    documents_checked_at = models.DateTimeField(
        "Xero documents last compared", null=True, blank=True
    )
    # Per document kind, the newest UpdatedDateUTC a refresh has fetched (ISO 8601): where
    # the next refresh starts. Kept apart from the documents themselves, which webhook
    # events also bring in: starting after one of those would skip what changed before it.
    documents_modified_since = models.JSONField(default=dict, blank=True)
    # The code of the account payments go into (a bank or clearing account of the chart,
    # one that accepts payments: sync.syncing.mapping checks it). Blank: not chosen yet,
    # and no payment can be uploaded.
    payment_account_code = models.CharField(
        "payment account",
        max_length=10,
        blank=True,
        help_text="The bank or clearing account Omni's payments go into in Xero.",
    )

    class Meta:
        verbose_name = "sync settings"
        verbose_name_plural = "sync settings"

    def __str__(self) -> str:
        return f"Sync settings for {self.connection}"

    @classmethod
    def for_connection(cls, connection: XeroConnection) -> "SyncSettings":
        found, _ = cls.objects.get_or_create(connection=connection)
        return found

    def autosync_due(self, now: datetime) -> bool:
        """Whether an automatic sync is due now: its interval since the last one; a daily or
        weekly one with a start time, once that time of day has come (in TIME_ZONE), and
        not since that start (a weekly one, not within the six days before it either)."""
        interval = AUTOSYNC_INTERVALS.get(Autosync(self.autosync))
        if interval is None:
            return False
        last = self.autosync_last_at
        if self.autosync_at is None or interval < timedelta(days=1):
            return last is None or last + interval <= now
        local = timezone.localtime(now)
        start = datetime.combine(local.date(), self.autosync_at, tzinfo=local.tzinfo)
        return now >= start and (last is None or last < start - (interval - timedelta(days=1)))

    def autosync_type_values(self) -> list[str]:
        """The transaction types (and PAYMENTS) an automatic sync takes (every one when none
        is ticked)."""
        return list(self.autosync_types) or [value for value, _ in AUTOSYNC_TYPES]


class AccountMapping(models.Model):
    """The account and tax type a transaction type's lines go to in Xero. Blank: each line
    keeps the code Omni gave it."""

    connection = models.ForeignKey(
        XeroConnection, on_delete=models.CASCADE, related_name="account_mappings"
    )
    transaction_type = models.CharField(max_length=32, choices=TransactionType)
    account_code = models.CharField(
        max_length=10, blank=True, help_text="Blank: each line's own account code."
    )
    tax_type = models.CharField(
        max_length=32, blank=True, help_text="Blank: each line's own tax type."
    )

    class Meta:
        ordering = ["connection", "transaction_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "transaction_type"], name="one_mapping_per_type"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_transaction_type_display()}: {self.account_code or 'line codes'}"


class ChartAccount(models.Model):
    """One account of an organisation's chart of accounts, as last fetched from Xero."""

    connection = models.ForeignKey(XeroConnection, on_delete=models.CASCADE, related_name="+")
    account_id = models.UUIDField("Xero account ID")
    code = models.CharField(max_length=10, blank=True)
    name = models.CharField(max_length=150)
    type = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16)
    tax_type = models.CharField("default tax type", max_length=32, blank=True)
    # Xero's EnablePaymentsToAccount: an account other than a bank account that payments may
    # go into. None until the chart is fetched again (fetched before omni-xero kept it).
    enable_payments = models.BooleanField("accepts payments", null=True, blank=True)

    class Meta:
        ordering = ["connection", "code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "account_id"], name="one_row_per_account")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()

    @property
    def is_active(self) -> bool:
        return self.status == "ACTIVE"

    @property
    def accepts_payments(self) -> bool:
        """Whether Xero takes payments into it: a bank account, or one that enables them."""
        return self.type == "BANK" or bool(self.enable_payments)


class TaxRate(models.Model):
    """One of an organisation's tax rates, as last fetched from Xero."""

    connection = models.ForeignKey(XeroConnection, on_delete=models.CASCADE, related_name="+")
    tax_type = models.CharField(max_length=32)
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=16)
    rate = models.DecimalField("rate (%)", max_digits=7, decimal_places=4)
    # Xero's CanApplyToRevenue and CanApplyToExpenses: whether the rate suits sales and
    # purchases. Empty until the tax rates are fetched again (unknown).
    can_apply_to_revenue = models.BooleanField("applies to sales", null=True, blank=True)
    can_apply_to_expenses = models.BooleanField("applies to purchases", null=True, blank=True)

    class Meta:
        ordering = ["connection", "name"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "tax_type"], name="one_row_per_tax_type")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tax_type})"

    @property
    def is_active(self) -> bool:
        return self.status == "ACTIVE"


class Currency(models.Model):
    """One of the currencies an organisation uses, as last fetched from Xero (GET
    /Currencies, with multicurrency on)."""

    connection = models.ForeignKey(XeroConnection, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=3)
    description = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["connection", "code"]
        verbose_name_plural = "currencies"
        constraints = [
            models.UniqueConstraint(fields=["connection", "code"], name="one_row_per_currency")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}".strip()


class TrackingCategory(models.Model):
    """One of an organisation's tracking categories (archived ones too), as last fetched."""

    connection = models.ForeignKey(XeroConnection, on_delete=models.CASCADE, related_name="+")
    category_id = models.UUIDField("Xero tracking category ID")
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=16)

    class Meta:
        ordering = ["connection", "name"]
        verbose_name_plural = "tracking categories"
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "category_id"], name="one_row_per_tracking_category"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == "ACTIVE"


class TrackingOption(models.Model):
    """An option of a tracking category, as last fetched."""

    category = models.ForeignKey(TrackingCategory, on_delete=models.CASCADE, related_name="options")
    option_id = models.UUIDField("Xero tracking option ID")
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=16)

    class Meta:
        ordering = ["category", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "option_id"], name="one_row_per_tracking_option"
            )
        ]

    def __str__(self) -> str:
        return f"{self.category.name}: {self.name}"

    @property
    def is_active(self) -> bool:
        return self.status == "ACTIVE"


class BranchTracking(models.Model):
    """The tracking an admin gives an Omni branch's transactions: every line goes to Xero
    with this category and option, by name, as Xero's LineItem Tracking takes them (a
    branch's transactions go to one organisation: BranchOrganisation)."""

    branch = models.CharField(max_length=100, unique=True, help_text="As Omni names it.")
    category = models.CharField(
        "tracking category", max_length=100, help_text="As Xero names it, e.g. Region."
    )
    option = models.CharField(
        "tracking option", max_length=100, help_text="As Xero names it, e.g. Wellington."
    )

    class Meta:
        ordering = ["branch"]
        verbose_name = "branch's tracking"
        verbose_name_plural = "branches' tracking"

    def __str__(self) -> str:
        return f"{self.branch} → {self.category}: {self.option}"


class SyncRun(Job):
    """One sync of transactions to one organisation: who asked, and how it went.

    One runs at a time per organisation (the database says so); the others wait their turn.
    Kept, with its items, until an admin prunes the sync log.
    """

    KIND = "sync"

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Syncing"
        WAITING = "waiting", "Waiting for Xero"
        DONE = "done", "Finished"
        STOPPED = "stopped", "Stopped"

    class Trigger(models.TextChoices):
        DASHBOARD = "dashboard", "Dashboard"
        COMMAND = "command", "Command line"
        SCHEDULE = "schedule", "Automatic sync"

    ACTIVE = [State.QUEUED, State.RUNNING, State.WAITING]

    connection = models.ForeignKey(
        XeroConnection, on_delete=models.CASCADE, related_name="sync_runs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    trigger = models.CharField(max_length=16, choices=Trigger, default=Trigger.DASHBOARD)
    state = models.CharField(max_length=16, choices=State, default=State.QUEUED)
    prepared = models.BooleanField(
        default=False, help_text="Links checked and accounts fetched for this run."
    )
    api_calls = models.PositiveIntegerField(default=0)
    write_calls = models.PositiveIntegerField(default=0)
    rate_limited = models.PositiveIntegerField("429 answers", default=0)
    minute_remaining = models.IntegerField(null=True, blank=True)
    day_remaining = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection"],
                condition=Q(state__in=["running", "waiting"]),
                name="one_sync_running_per_organisation",
            )
        ]

    def __str__(self) -> str:
        return f"Sync {self.pk} ({self.get_state_display()})"

    # The outcomes a run's summary counts, per transaction type.
    OUTCOMES = ("synced", "refused", "failed", "skipped")

    def outcome_counts(self) -> dict[str, Any]:
        """Its items by transaction type and outcome, its payments' under PAYMENTS (two
        queries):
        {"supplier_invoice": {"synced": 2, "refused": 15, "failed": 0, "skipped": 0}}."""
        found = (
            self.items.order_by()
            .values_list("transaction__type", "state")
            .annotate(n=models.Count("pk"))
        )
        paid = self.payment_items.order_by().values_list("state").annotate(n=models.Count("pk"))
        counts: dict[str, Any] = {}
        for transaction_type, state, n in [*found, *((PAYMENTS, s, n) for s, n in paid)]:
            per_type = counts.setdefault(transaction_type, dict.fromkeys(self.OUTCOMES, 0))
            if state in per_type:
                per_type[state] = n
        return counts


class SentItem(JobItem):
    """What every item a sync run sends keeps: where it stands, Xero's word on it, and its
    attempts (each batch's Idempotency-Key, when it went)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting"
        SENDING = "sending", "Sending"
        SYNCED = "synced", "Synced"
        FAILED = "failed", "Failed"
        REFUSED = "refused", "Refused"
        SKIPPED = "skipped", "Skipped"

    PENDING = [State.QUEUED, State.SENDING]

    connection = models.ForeignKey(XeroConnection, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=State, default=State.QUEUED)
    message = models.CharField(max_length=2000, blank=True)
    xero_id = models.UUIDField("Xero ID", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    batch_key = models.CharField(max_length=128, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # An item left sending is never put back blind when its claim runs out: its answer may
    # have been lost after Xero saved it, so the next run looks it up in Xero (by its
    # number, a payment by its document and reference: sync.syncing.runs, the run's lease
    # decides who does).
    claimed_until = None

    class Meta:
        abstract = True
        ordering = ["pk"]


class SyncItem(SentItem):
    """One transaction in a sync run, and what came of it: the sync log's line."""

    class Refusal(models.TextChoices):
        UNLINKED = "unlinked", "Contact not linked"
        INVALID_LINK = "invalid_link", "Link invalid"
        ACCOUNT = "account", "Account code"
        TAX = "tax", "Tax type"
        CURRENCY = "currency", "Currency"
        TRACKING = "tracking", "Tracking"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="items")
    transaction = models.ForeignKey(
        Transaction, on_delete=models.CASCADE, related_name="sync_items"
    )
    refusal = models.CharField(max_length=16, choices=Refusal, blank=True)
    xero_number = models.CharField("Xero number", max_length=255, blank=True)

    class Meta(SentItem.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["transaction"],
                condition=Q(state__in=["queued", "sending"]),
                name="one_pending_sync_per_transaction",
            )
        ]
        indexes = [models.Index(fields=["connection", "state"])]

    def __str__(self) -> str:
        return f"{self.transaction} ({self.get_state_display()})"


class PaymentItem(SentItem):
    """One payment in a sync run, and what came of it (its `xero_id` is Xero's PaymentID). A
    run sends its documents first, then its payments, on the same lease, quota and
    exactly-once rules (sync.syncing.runs)."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="payment_items")
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="sync_items")

    class Meta(SentItem.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(state__in=["queued", "sending"]),
                name="one_pending_sync_per_payment",
            )
        ]
        indexes = [models.Index(fields=["connection", "state"], name="payment_item_state_idx")]

    def __str__(self) -> str:
        return f"{self.payment} ({self.get_state_display()})"


class BranchOrganisation(models.Model):
    """The rule an admin sets when several organisations are connected: an Omni branch's
    transactions go to this organisation (sync.syncing.organisations applies it)."""

    branch = models.CharField(max_length=100, unique=True, help_text="As Omni names it.")
    connection = models.ForeignKey(
        XeroConnection,
        on_delete=models.CASCADE,
        related_name="branches",
        verbose_name="organisation",
    )

    class Meta:
        ordering = ["branch"]
        verbose_name = "branch's organisation"
        verbose_name_plural = "branches' organisations"

    def __str__(self) -> str:
        return f"{self.branch} → {self.connection}"


class TransactionOrganisation(models.Model):
    """The organisation a transaction is for, once it is settled: one row per transaction (the
    transaction is the key), so it can never be two. Settled when a sync takes it, or Skip,
    or an admin moves it (sync.syncing.organisations); until then the rule says which it is."""

    transaction = models.OneToOneField(
        Transaction, on_delete=models.CASCADE, primary_key=True, related_name="organisation"
    )
    # PROTECT: a transaction synced to an organisation must never fall back to the rule,
    # which could send it to another.
    connection = models.ForeignKey(
        XeroConnection,
        on_delete=models.PROTECT,
        related_name="transaction_organisations",
        verbose_name="organisation",
    )
    settled_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "transaction's organisation"
        verbose_name_plural = "transactions' organisations"
        indexes = [models.Index(fields=["connection"])]

    def __str__(self) -> str:
        return f"{self.transaction_id} → {self.connection_id}"


class MirroredDocument(models.Model):
    """A document of the organisation, as Xero holds it now (refreshed with If-Modified-Since):
    what the discrepancies view compares with Omni, and what contacts' balances add up."""

    connection = models.ForeignKey(XeroConnection, on_delete=models.CASCADE, related_name="+")
    document_id = models.UUIDField("Xero ID")
    kind = models.CharField(max_length=16)
    type = models.CharField(max_length=16, blank=True)
    number = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16)
    total = models.DecimalField(max_digits=16, decimal_places=2)
    amount_due = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    amount_paid = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    updated_in_xero = models.DateTimeField(null=True, blank=True)
    # Whose it is, and when an invoice's amount due becomes overdue: a linked contact's
    # balance is added up from these (sync.syncing.balances), with no call of its own.
    contact_id = models.UUIDField("Xero contact ID", null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)  # what its amounts are in

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "document_id"], name="one_row_per_xero_document"
            )
        ]
        indexes = [
            models.Index(
                fields=["connection", "contact_id"],
                condition=Q(status="AUTHORISED"),
                name="document_owed_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.status})"
