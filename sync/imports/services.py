"""Importing a Xero contacts spreadsheet into Omni, linking each contact in the same step.

`contacts_import_start` checks the file and keeps it server-side under a random token;
`contacts_import_preview` says what importing it would do (new contacts, updates, rows with
errors, and which rows would link); `contacts_import_confirm` does it in one database
transaction. Both run the same function, `_import_and_link`: the preview runs it in a
transaction it rolls back, so that what it says is what confirming does. A matched Omni
contact keeps its details unless the accountant chose Update Omni's details (the import's
`details`, the ticked fields; none, the default, is Link only). A row that matches exactly
one active Xero contact of the organisation (the same name, or its account number as the Xero
contact's account or contact number) is linked with method "import"; the others are kept as
the import's rows to review.
`contacts_import_plan_confirm` does the same for a plan the admin's django-import-export
Import (sync/import_resource.py) read and previewed itself.
"""

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from sync.exceptions import UserFacingError
from sync.imports.xero_export import (
    DETAILS,
    ImportFileError,
    ImportPlan,
    PlannedRow,
    contacts_file_as_csv,
    contacts_file_read,
    import_apply,
    import_plan,
)
from sync.links import normalise, same_contact
from sync.links.services import LinkWanted, contacts_link_many
from sync.models import (
    Actor,
    ContactImport,
    ContactLink,
    ImportedContact,
    ImportFile,
    LinkMethod,
    XeroConnection,
)

# How long an uploaded file waits for its confirmation.
IMPORT_TTL = timedelta(hours=24)


class ImportRefused(UserFacingError):
    """An import that cannot go on; the message says why."""


@dataclass(frozen=True)
class XeroMatch:
    xero_contact_id: uuid.UUID
    name: str


@dataclass
class MirrorIndex:
    """The organisation's linkable Xero contacts (linked ones too: linking says why one is
    taken) by their name once normalised and by account/contact number (same_contact)."""

    by_name: dict[str, list[XeroMatch]] = field(default_factory=dict)
    by_number: dict[str, list[XeroMatch]] = field(default_factory=dict)

    @classmethod
    def of(cls, connection: XeroConnection | None) -> "MirrorIndex":
        index = cls()
        if connection is None:
            return index
        rows = same_contact.linkable_xero_contacts(connection, include_linked=True).values_list(
            "contact_id", "name", "name_key", "account_key", "number_key"
        )
        for xero_id, name, key, account, number in rows.iterator(chunk_size=2000):
            match = XeroMatch(xero_id, name)
            index.by_name.setdefault(key, []).append(match)
            for key in {account, number} - {""}:
                index.by_number.setdefault(key, []).append(match)
        return index

    def matches(self, values: dict[str, str]) -> list[XeroMatch]:
        key = normalise.name_key(values["name"])
        found = {m.xero_contact_id: m for m in self.by_name.get(key, [])}
        account = normalise.number_key(values.get("account_number", ""))
        if account:
            found |= {m.xero_contact_id: m for m in self.by_number.get(account, [])}
        return sorted(found.values(), key=lambda m: m.name)


@dataclass(frozen=True)
class PreviewRow:
    planned: PlannedRow
    matches: list[XeroMatch]
    outcome: str  # an ImportedContact.Outcome, as confirming now would record it
    message: str = ""


@dataclass(frozen=True)
class Preview:
    contact_import: ContactImport
    plan: ImportPlan
    rows: list[PreviewRow]

    @property
    def linking(self) -> int:
        return sum(r.outcome == ImportedContact.Outcome.LINKED for r in self.rows)

    @property
    def details_labels(self) -> list[str]:
        """The details the import updates on matched Omni contacts, as the form names them."""
        return [DETAILS[code][0] for code in self.contact_import.details if code in DETAILS]

    @property
    def review(self) -> int:
        return sum(r.outcome in ImportedContact.REVIEW for r in self.rows)

    @property
    def new(self) -> list[PreviewRow]:
        return [r for r in self.rows if r.planned.is_new]

    @property
    def updates(self) -> list[PreviewRow]:
        return [r for r in self.rows if not r.planned.is_new and r.planned.changes]

    @property
    def unchanged(self) -> list[PreviewRow]:
        return [r for r in self.rows if not r.planned.is_new and not r.planned.changes]


def _read(contact_import: ContactImport) -> ImportPlan:
    try:
        parsed = contacts_file_read(
            name=contact_import.file_name, data=bytes(contact_import.file_data)
        )
        return import_plan(
            parsed,
            customers=contact_import.customers,
            suppliers=contact_import.suppliers,
            details=contact_import.details,
        )
    except ImportFileError as error:
        raise ImportRefused(str(error)) from None


def contacts_import_start(
    *,
    user: Actor,
    connection: XeroConnection | None,
    file_name: str,
    data: bytes,
    customers: bool,
    suppliers: bool,
    details: list[str] | None = None,
) -> ContactImport:
    """Check the file and keep it for its preview; ImportRefused says why it cannot be used.
    `details` are the ones to update on matched Omni contacts (none: Link only)."""
    if not user.is_authenticated:
        raise ImportRefused("Sign in to import contacts.")
    try:
        # Checked, previewed and confirmed, the file is read three times: a workbook only once.
        data = contacts_file_as_csv(name=file_name, data=data)
    except ImportFileError as error:
        raise ImportRefused(str(error)) from None
    contact_import = ContactImport(
        token=secrets.token_urlsafe(32),
        created_by=user,
        connection=connection,
        file_name=file_name[:255] or "contacts.csv",
        file_data=data,
        customers=customers,
        suppliers=suppliers,
        details=sorted(details or []),
    )
    _read(contact_import)  # refuse a file that cannot be used before keeping it
    contact_import.save()
    return contact_import


def _pending(*, token: str, user: Actor) -> ContactImport:
    found = ContactImport.objects.filter(
        token=token, created_by__pk=user.pk or 0, created_at__gte=timezone.now() - IMPORT_TTL
    ).first()
    if found is None:
        raise ImportRefused(
            "That import was not found: it has expired or was started by someone else. "
            "Choose the file again."
        )
    if found.confirmed_at is not None:
        raise ImportRefused(f"{found.file_name} has been imported already.")
    return found


class _DryRun(Exception):
    """Rolls back the preview's run of the import."""


def contacts_import_preview(*, token: str, user: Actor) -> Preview:
    """What confirming the import would do, without keeping anything: the import itself, run
    in a transaction that is rolled back, so that the preview cannot say otherwise."""
    contact_import = _pending(token=token, user=user)
    plan = _read(contact_import)
    shown = _read(contact_import)  # the run saves the plan's contacts; the page shows these
    try:
        with transaction.atomic():
            run = _import_and_link(contact_import=contact_import, plan=plan, user=user)
            raise _DryRun
    except _DryRun:
        pass
    outcomes = {record.row_number: record for record in run.records}
    rows = [
        PreviewRow(
            row,
            run.matches[row.row],
            outcomes[row.row].outcome,
            outcomes[row.row].message,
        )
        for row in shown.rows
    ]
    return Preview(contact_import, shown, rows)


def _outcome(
    *, row: PlannedRow, matches: list[XeroMatch], linked: set[int], connection: object
) -> tuple[str, str]:
    """What becomes of a row before linking: LINKED means "to link" until it is done."""
    if row.contact.pk in linked:
        return ImportedContact.Outcome.ALREADY_LINKED, ""
    if connection is None:
        return ImportedContact.Outcome.NO_MATCH, "Not connected to Xero: nothing to link to."
    if not matches:
        return ImportedContact.Outcome.NO_MATCH, "No active Xero contact has this name or number."
    if len(matches) > 1:
        names_ = ", ".join(m.name for m in matches)
        return ImportedContact.Outcome.AMBIGUOUS, f"Pick one of {names_}."[:500]
    return ImportedContact.Outcome.LINKED, f"Linked to {matches[0].name}."


def contacts_import_confirm(*, token: str, user: Actor) -> ContactImport:
    """Import the valid rows and link the unambiguous ones, all in one transaction."""
    with transaction.atomic():
        contact_import = _pending(token=token, user=user)
        # Two clicks on Confirm: the second waits here and then finds it imported.
        contact_import = ContactImport.objects.select_for_update().get(pk=contact_import.pk)
        if contact_import.confirmed_at is not None:
            raise ImportRefused(f"{contact_import.file_name} has been imported already.")
        return _import_and_link(
            contact_import=contact_import, plan=_read(contact_import), user=user
        ).recorded()


def contacts_import_plan_confirm(
    *,
    user: Actor,
    connection: XeroConnection | None,
    file_name: str,
    plan: ImportPlan,
    customers: bool,
    suppliers: bool,
    details: list[str] | None = None,
) -> ContactImport:
    """Import a plan read and checked elsewhere (the admin's django-import-export confirm
    step) as contacts_import_confirm does: recorded as a confirmed import, linked the same way."""
    with transaction.atomic():
        contact_import = ContactImport(
            token=secrets.token_urlsafe(32),
            created_by=user if user.is_authenticated else None,
            connection=connection,
            file_name=file_name[:255] or "contacts.csv",
            file_data=b"",
            customers=customers,
            suppliers=suppliers,
            details=sorted(details or []),
        )
        contact_import.save()
        return _import_and_link(contact_import=contact_import, plan=plan, user=user).recorded()


@dataclass
class _Run:
    contact_import: ContactImport
    plan: ImportPlan
    records: list[ImportedContact]
    matches: dict[int, list[XeroMatch]]  # by row

    def recorded(self) -> ContactImport:
        """Keep the rows' outcomes and the counts on the import, now confirmed."""
        records, plan, contact_import = self.records, self.plan, self.contact_import
        ImportedContact.objects.bulk_create(records, batch_size=1000)
        contact_import.confirmed_at = timezone.now()
        contact_import.file_data = b""
        contact_import.created_count = len(plan.new)
        contact_import.updated_count = len(plan.updates)
        contact_import.linked_count = sum(
            r.outcome == ImportedContact.Outcome.LINKED for r in records
        )
        contact_import.review_count = sum(r.outcome in ImportedContact.REVIEW for r in records)
        contact_import.problem_count = len({p.row for p in plan.problems})
        contact_import.save()
        return contact_import


def _import_and_link(*, contact_import: ContactImport, plan: ImportPlan, user: Actor) -> _Run:
    """Write the plan, link its unambiguous rows, say what became of every row; the caller's
    transaction (the preview's is rolled back)."""
    connection = contact_import.connection
    index = MirrorIndex.of(connection)
    rows = import_apply(plan)
    linked = set(
        ContactLink.objects.filter(
            connection=connection, contact__in=[r.contact.pk for r in rows]
        ).values_list("contact_id", flat=True)
        if connection is not None
        else []
    )
    records, wanted, found = [], [], {}
    for row in rows:
        matches = found[row.row] = index.matches(row.values)
        outcome, message = _outcome(row=row, matches=matches, linked=linked, connection=connection)
        if outcome == ImportedContact.Outcome.LINKED:
            wanted.append(LinkWanted(row.contact, matches[0].xero_contact_id, matches[0].name))
        records.append(
            ImportedContact(
                contact_import=contact_import,
                row_number=row.row,
                contact=row.contact,
                contact_name=row.contact.name,
                created=row.is_new,
                outcome=outcome,
                message=message,
            )
        )
    if connection is not None and wanted:
        refused = contacts_link_many(
            wanted=wanted, connection=connection, method=LinkMethod.IMPORT, user=user
        )
        for record in records:
            if record.contact is not None and record.contact.pk in refused:
                record.outcome = ImportedContact.Outcome.REFUSED
                record.message = refused[record.contact.pk][:500]
    return _Run(contact_import, plan, records, found)


def import_review(contact_import: ContactImport) -> list[ImportedContact]:
    """The import's rows that were not linked and whose contact is still unlinked."""
    rows = contact_import.rows.filter(
        outcome__in=ImportedContact.REVIEW, contact__isnull=False
    ).select_related("contact")
    if contact_import.connection is not None:
        rows = rows.exclude(contact__links__connection=contact_import.connection)
    return list(rows)


# --- The Contact admin's kept file (django-import-export) --------------------------------------


def import_file_keep(*, data: bytes) -> str:
    """Keep a file between the admin's preview and its confirmation; its random name. Files
    never confirmed go once they are older than IMPORT_TTL, as an upload's do."""
    ImportFile.objects.filter(created_at__lt=timezone.now() - IMPORT_TTL).delete()
    return ImportFile.objects.create(name=secrets.token_urlsafe(32), data=data).name


def import_file_read(*, name: str) -> bytes:
    found = ImportFile.objects.filter(
        name=name, created_at__gte=timezone.now() - IMPORT_TTL
    ).first()
    if found is None:
        raise ImportRefused("That import was not found: it has expired. Choose the file again.")
    return bytes(found.data)


def import_file_remove(*, name: str) -> None:
    ImportFile.objects.filter(name=name).delete()
