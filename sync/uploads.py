"""Upload: create Omni contacts in Xero and link them, or send a linked contact's changes.

Work goes in batches of up to 50 contacts, one POST /Contacts each (`summarizeErrors=false`,
so every contact gets its own answer and a failed one never hides the others). Before
anything is created the mirror is refreshed and searched for an active Xero contact that the
new one would duplicate (same name, email address, account or tax number): such a row creates
nothing and offers to link that contact instead.

Never twice: a contact has at most one upload row queued or sending per organisation (a
database constraint), each batch's Idempotency-Key is derived from its contacts and their
content (a retry, or a second click on the same contacts, gets Xero's first answer back), and
no transaction is held open across a call to Xero: rows are claimed, Xero is called, then
each outcome is recorded with its audit event.
"""

import hashlib
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from contacts.models import Contact

from . import connections, jobs, mirror, xero
from .exceptions import LinkError
from .models import (
    Actor,
    ContactLink,
    LinkEvent,
    LinkMethod,
    UploadJob,
    UploadRow,
    XeroConnection,
    XeroContact,
)
from .services import _audit, contact_link, link_rename

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
ALREADY_UPLOADING = "Already being uploaded."
# How long an upload waits for a mirror refresh already under way.
MIRROR_WAIT = 30.0


# --- Starting an upload ------------------------------------------------------------------------


def contacts_upload(
    *,
    connection: XeroConnection,
    contacts: QuerySet[Contact] | list[Contact],
    user: Actor | None,
) -> UploadJob:
    """Start uploading the contacts: unlinked ones are created in Xero, linked ones whose
    details changed are updated. Runs the first batch now (never waiting for Xero's rate
    limit: in a request, `xero.interactive()`); the rest continues as a task."""
    job = UploadJob.objects.create(
        connection=connection, created_by=user if user and user.is_authenticated else None
    )
    for contact in contacts:
        _queue(job, contact)
    upload_job_run(job=job, batches=1)
    return job


def _queue(job: UploadJob, contact: Contact) -> None:
    link = ContactLink.objects.filter(contact=contact, connection=job.connection).first()
    kind = UploadRow.Kind.UPDATE if link else UploadRow.Kind.CREATE
    row = UploadRow(job=job, connection=job.connection, contact=contact, kind=kind)
    if link is not None and not link.is_valid:
        row.state, row.message = UploadRow.State.FAILED, link.invalid_message
    elif link is not None and link.uploaded_fingerprint == contact.details_fingerprint:
        row.state, row.message = UploadRow.State.SKIPPED, "No changes since the last upload."
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        # Its pending row in another upload (a double click, a colleague) does the work.
        row.state, row.message = UploadRow.State.SKIPPED, ALREADY_UPLOADING
        row.save()


# --- Running it --------------------------------------------------------------------------------


def upload_job_run(*, job: UploadJob, batches: int | None = None) -> UploadJob:
    """Send the job's queued rows, `batches` batches at most (all with None).

    A rate limit leaves the job waiting, with the time it goes on and a task queued for
    then; any other failure of Xero stops it, the rows not done marked so and free to be
    uploaded again. A job another worker holds, or one already finished, is left alone.
    """
    lease = jobs.job_claim(job)
    job.refresh_from_db()
    if lease is None:
        return job
    _reclaim_stale(job)
    try:
        _refresh_mirror(job)
        sent = 0
        while batches is None or sent < batches:
            rows = _claim_batch(job, lease)
            if not rows:
                break
            _send(job, rows)
            sent += 1
    except jobs.LeaseLost:
        pass  # stalled past its lease and taken over: the new holder goes on
    except (xero.RateLimited, mirror.RefreshRunning) as wait:
        seconds = wait.wait_seconds if isinstance(wait, xero.RateLimited) else MIRROR_WAIT
        detail = (
            str(wait)
            if isinstance(wait, xero.RateLimited)
            else "Xero's contacts are being refreshed; the upload waits for them."
        )
        resume_at = timezone.now() + timedelta(seconds=max(1.0, seconds))
        UploadRow.objects.filter(job=job, state=UploadRow.State.SENDING).update(
            state=UploadRow.State.QUEUED, claimed_until=None
        )
        jobs.job_continue(lease, at=resume_at, detail=detail)
    except xero.XeroError as failure:
        _stop(job, lease, str(failure))
    except Exception as failure:
        # Not Xero's doing (a bug, the database): stop visibly, release every claim, and
        # keep the traceback for whoever reads the log.
        logger.exception("Upload %s failed", job.pk)
        _stop(job, lease, f"omni-xero hit an unexpected error ({type(failure).__name__}).")
    else:
        if UploadRow.objects.filter(job=job, state=UploadRow.State.QUEUED).exists():
            jobs.job_continue(lease)
        else:
            jobs.job_finish(lease, state=UploadJob.State.DONE)
    job.refresh_from_db()
    return job


def upload_job_continue(*, job_id: int) -> dict[str, str | int]:
    """What the worker's upload task does: go on with the job, if it still exists."""
    job = UploadJob.objects.filter(pk=job_id).first()
    if job is None:
        return {"skipped": "no such upload"}
    job = upload_job_run(job=job)
    return {"state": job.state, "rows": job.rows.count()}


def _stop(job: UploadJob, lease: jobs.Lease, reason: str) -> None:
    message = f"Not uploaded: {reason} Nothing else was changed; upload it again to retry."
    UploadRow.objects.filter(job=job, state__in=UploadRow.PENDING).update(
        state=UploadRow.State.FAILED, message=message[:1000]
    )
    jobs.job_finish(lease, state=UploadJob.State.STOPPED, detail=reason[:500])


def _refresh_mirror(job: UploadJob) -> None:
    """Bring the mirror up to date before the duplicate guard first reads it (once per job;
    what later batches create goes into the mirror as Xero answers)."""
    if (
        job.mirror_refreshed
        or not UploadRow.objects.filter(
            job=job, state=UploadRow.State.QUEUED, kind=UploadRow.Kind.CREATE
        ).exists()
    ):
        return
    # While another refresh fills the mirror, it raises RefreshRunning: the job waits.
    mirror.xero_contacts_refresh(connection=job.connection)
    UploadJob.objects.filter(pk=job.pk).update(mirror_refreshed=True)
    job.mirror_refreshed = True


def _reclaim_stale(job: UploadJob) -> None:
    """Rows a dead worker left sending go back in the queue. Xero may have created them:
    the mirror is refreshed again first, so the guard finds them by omni-xero's contact
    number and links them instead of creating them twice."""
    if jobs.items_reclaim(UploadRow.objects.filter(job=job)):
        UploadJob.objects.filter(pk=job.pk).update(mirror_refreshed=False)
        job.mirror_refreshed = False


def _claim_batch(job: UploadJob, lease: jobs.Lease) -> list[UploadRow]:
    """Up to BATCH_SIZE queued rows, claimed under the job's lease (no lock is held while
    Xero is called)."""
    rows = UploadRow.objects.filter(job=job).select_related("contact")
    return jobs.items_claim(rows, lease=lease, limit=BATCH_SIZE)


# --- One batch ---------------------------------------------------------------------------------


@dataclass
class _Outgoing:
    row: UploadRow
    payload: xero.ContactUpload
    link: ContactLink | None


def _send(job: UploadJob, rows: list[UploadRow]) -> None:
    connection = job.connection
    guard = DuplicateGuard.for_connection(connection)
    # What this batch creates and updates, so that two of its rows never make two Xero
    # contacts of one business, nor send two versions of one shared Xero contact.
    creating = DuplicateGuard([])
    updating: dict[uuid.UUID, Contact] = {}
    outgoing: list[_Outgoing] = []
    for row in rows:
        contact = row.contact
        link = ContactLink.objects.filter(contact=contact, connection=connection).first()
        if row.kind == UploadRow.Kind.CREATE:
            if link is not None:
                _finish(row, UploadRow.State.SKIPPED, f"Already linked to {link.xero_name}.")
                continue
            twin = guard.twin(contact)
            if twin is not None and twin[1] == OUR_NUMBER:
                # Created by an earlier upload of this contact whose answer was lost: it is
                # this contact, so link it rather than create it again.
                _adopt(job, row, twin[0])
                continue
            if twin is not None:
                found, evidence = twin
                _finish(
                    row,
                    UploadRow.State.DUPLICATE,
                    f"Xero already has {found.name} with {evidence}: nothing was created. "
                    "Link to it instead, or change the contact in Omni.",
                    suggestion=found,
                )
                continue
            sibling = creating.twin(contact)
            if sibling is not None:
                _finish(
                    row,
                    UploadRow.State.DUPLICATE,
                    f"{sibling[0].name}, in this upload too, has {sibling[1]}: only it was "
                    "created. Link this one to it, or change one of them in Omni.",
                )
                continue
            creating.add(contact)
        elif link is None or not link.is_valid:
            message = link.invalid_message if link else "It is no longer linked."
            _finish(row, UploadRow.State.FAILED, message)
            continue
        elif link.xero_contact_id in updating:
            sharer = updating[link.xero_contact_id]
            _finish(
                row,
                UploadRow.State.SKIPPED,
                f"It shares its Xero contact with {sharer.name}, whose details were sent in "
                "this upload.",
            )
            continue
        else:
            updating[link.xero_contact_id] = contact
        row.fingerprint = contact.fingerprint()
        outgoing.append(
            _Outgoing(row, payload(contact, link.xero_contact_id if link else None), link)
        )
    if not outgoing:
        return
    outcomes = xero.contacts_save(
        connections.session(connection),
        contacts=[o.payload for o in outgoing],
        idempotency_key=batch_key(connection, outgoing),
    )
    for item, outcome in zip(outgoing, outcomes, strict=False):
        _record(job, item, outcome)
    for item in outgoing[len(outcomes) :]:
        _finish(item.row, UploadRow.State.FAILED, "Xero gave no answer for this contact.")


def payload(contact: Contact, xero_contact_id: uuid.UUID | None) -> xero.ContactUpload:
    """What Xero is sent for an Omni contact (an update when it has its Xero ID)."""
    return xero.ContactUpload(
        name=contact.name,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        account_number=contact.account_number,
        # Tells the contacts omni-xero created apart in Xero, and finds them again; an
        # existing Xero contact keeps its own number.
        contact_number=our_number(contact) if xero_contact_id is None else "",
        tax_number=contact.tax_number,
        contact_id=xero_contact_id,
        phone=contact.phone,
        postal_address=_address(contact, "postal"),
        street_address=_address(contact, "street"),
    )


def _address(contact: Contact, kind: str) -> xero.Address:
    """One of the contact's two addresses (its fields are named `<kind>_line1` and so on)."""
    return xero.Address(
        **{
            part: getattr(contact, f"{kind}_{part}")
            for part in ("line1", "line2", "city", "region")
        },
        postal_code=getattr(contact, f"{kind}_postal_code"),
        country=getattr(contact, f"{kind}_country"),
    )


def batch_key(connection: XeroConnection, outgoing: list[_Outgoing]) -> str:
    """The batch's Idempotency-Key, from what it sends: the same contacts with the same
    details give the same key, so Xero answers a repeat as it did the first time."""
    parts = [
        str(connection.tenant_id),
        *sorted(
            f"{o.row.contact_id}:{o.row.kind}:{o.row.fingerprint}:{o.payload.contact_id or ''}"
            for o in outgoing
        ),
    ]
    return "omni-xero-" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _record(job: UploadJob, item: _Outgoing, outcome: xero.SaveOutcome) -> None:
    row, connection = item.row, job.connection
    if outcome.contact is None:
        _finish(row, UploadRow.State.FAILED, xero.refused_message(outcome.errors))
        return
    created = outcome.contact
    mirror.contacts_mirrored(connection=connection, contacts=[created])
    try:
        with transaction.atomic():
            if row.kind == UploadRow.Kind.CREATE:
                link = contact_link(
                    contact=row.contact,
                    connection=connection,
                    xero_contact_id=created.contact_id,
                    xero_name=created.name,
                    method=LinkMethod.UPLOAD,
                    user=job.created_by,
                )
            else:
                assert item.link is not None  # an update always has its link
                link = ContactLink.objects.select_for_update().get(pk=item.link.pk)
                if created.name != link.xero_name:
                    link = link_rename(link=link, xero_name=created.name, user=job.created_by)
            # What Xero holds now is what was sent, whatever Omni changed meanwhile.
            ContactLink.objects.filter(pk=link.pk).update(
                uploaded_fingerprint=row.fingerprint, uploaded_at=timezone.now()
            )
            _audit(
                action=LinkEvent.Action.UPLOAD,
                contact=row.contact,
                connection=connection,
                user=job.created_by,
                after=created.contact_id,
                detail=f"{UploadRow.Kind(row.kind).label}: {created.name}",
            )
            _finish(row, UploadRow.State.DONE, "")
    except LinkError as error:
        _finish(row, UploadRow.State.FAILED, f"Sent to Xero as {created.name}, but {error}")
    except ContactLink.DoesNotExist:
        _finish(
            row,
            UploadRow.State.FAILED,
            f"Sent to Xero as {created.name}, but it was unlinked here meanwhile.",
        )


def _adopt(job: UploadJob, row: UploadRow, found: XeroContact) -> None:
    try:
        with transaction.atomic():
            link = contact_link(
                contact=row.contact,
                connection=job.connection,
                xero_contact_id=found.contact_id,
                xero_name=found.name,
                method=LinkMethod.UPLOAD,
                user=job.created_by,
            )
            ContactLink.objects.filter(pk=link.pk).update(uploaded_at=timezone.now())
            _finish(
                row,
                UploadRow.State.DONE,
                "Already in Xero from an earlier upload whose answer was lost: linked to it.",
            )
    except LinkError as error:
        _finish(row, UploadRow.State.FAILED, str(error))


def _finish(
    row: UploadRow, state: str, message: str, *, suggestion: XeroContact | None = None
) -> None:
    row.state, row.message = state, message[:1000]
    row.suggested_xero_contact_id = suggestion.contact_id if suggestion else None
    row.suggested_name = suggestion.name if suggestion else ""
    row.save()


# --- The duplicate guard -----------------------------------------------------------------------


OUR_NUMBER = "omni-xero's contact number for it"


def our_number(contact: Contact) -> str:
    """The ContactNumber omni-xero gives the Xero contacts it creates."""
    return f"OMNI-{contact.omni_id or contact.pk}"


def _normal_name(name: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", name.casefold()).split())


def _normal_code(value: str) -> str:
    return re.sub(r"[^0-9a-z]", "", value.casefold())


class DuplicateGuard:
    """The active Xero contacts of an organisation, indexed by what would make a new contact
    their duplicate: name (normalised), email address, account number, tax number, and the
    contact number omni-xero gives its uploads."""

    def __init__(self, rows: list[XeroContact]):
        self.index: dict[tuple[str, str], XeroContact] = {}
        for row in rows:
            for key in self._keys(
                name=row.name,
                email=row.email,
                account=row.account_number,
                tax=row.tax_number,
                number=row.contact_number,
            ):
                self.index.setdefault(key, row)

    @classmethod
    def for_connection(cls, connection: XeroConnection) -> "DuplicateGuard":
        return cls(
            list(
                XeroContact.objects.filter(connection=connection)
                .active()
                .filter(merged_into_xero_contact_id__isnull=True)
            )
        )

    @staticmethod
    def _keys(
        *, name: str, email: str, account: str, tax: str, number: str
    ) -> list[tuple[str, str]]:
        keys = [
            # First: a contact an earlier upload of this one created is no mere namesake.
            (OUR_NUMBER, number.strip().casefold()),
            ("the same name", _normal_name(name)),
            ("the same email address", email.strip().casefold()),
            ("the same account number", account.strip().casefold()),
            ("the same tax number", _normal_code(tax)),
        ]
        return [(what, value) for what, value in keys if value]

    def add(self, contact: Contact) -> None:
        """Count an Omni contact about to be created as one of the organisation's."""
        stand_in = XeroContact(
            name=contact.name,
            email=contact.email,
            account_number=contact.account_number,
            tax_number=contact.tax_number,
            contact_number=our_number(contact),
        )
        for key in self._keys(
            name=stand_in.name,
            email=stand_in.email,
            account=stand_in.account_number,
            tax=stand_in.tax_number,
            number=stand_in.contact_number,
        ):
            self.index.setdefault(key, stand_in)

    def twin(self, contact: Contact) -> tuple[XeroContact, str] | None:
        """The active Xero contact a new upload of `contact` would duplicate, and why."""
        for key in self._keys(
            name=contact.name,
            email=contact.email,
            account=contact.account_number,
            tax=contact.tax_number,
            number=our_number(contact),
        ):
            if key in self.index:
                return self.index[key], key[0]
        return None
