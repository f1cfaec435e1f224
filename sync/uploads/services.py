"""Upload: create Omni contacts in Xero and link them, or send a linked contact's changes.

Work goes in batches of up to 50 contacts: new ones in one PUT /Contacts (create only), the
changes of linked ones in one POST /Contacts by ContactID, both with `summarizeErrors=false`
so that every contact gets its own answer and a failed one never hides the others. Before
anything is created the mirror is refreshed, and the match suggestions are asked for a likely
match (same_contact.likely: the same name once normalised, email address, tax or account
number): such a row creates nothing and offers to link that contact, with the evidence; the
accountant may still choose Create anyway for that row (audited).

Never twice: a contact has at most one upload row queued or sending per organisation (a
database constraint); each row is one upload attempt, and its batch's Idempotency-Key comes
from its attempts (a retry of the batch gets Xero's first answer back; an upload after Unlink
is a new attempt and creates a new contact). An attempt whose answer never came is looked up
in the mirror by the ContactNumber it was sent with before the contact is sent again. A
contact Xero answers with that is archived, merged or under a GDPR request is never linked.
No transaction is held open across a call to Xero: rows are claimed, Xero is called, then
each outcome is recorded with its audit event.
"""

import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from contacts.models import Contact
from sync import jobs, xero
from sync.connections import services as connections
from sync.exceptions import LinkError
from sync.links import health as links
from sync.links import mirror, normalise, same_contact
from sync.links import suggestions as matching
from sync.links.services import contact_link, link_event_record, link_mark_invalid, link_rename
from sync.links.suggestions import Suggestion
from sync.models import (
    Actor,
    ContactLink,
    LinkEvent,
    LinkMethod,
    UploadJob,
    UploadRow,
    XeroConnection,
    XeroContact,
)

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
    contacts = list(contacts)
    for start in range(0, len(contacts), QUEUE_CHUNK):
        chunk = contacts[start : start + QUEUE_CHUNK]
        links = {
            link.contact_id: link
            for link in ContactLink.objects.filter(connection=connection, contact__in=chunk)
        }
        for contact in chunk:
            _queue(job, contact, links.get(contact.pk))
    upload_job_run(job=job, batches=1)
    return job


QUEUE_CHUNK = 500  # contacts whose links are read in one query when an upload is queued


def _queue(job: UploadJob, contact: Contact, link: ContactLink | None) -> None:
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
    with jobs.holding(lease):
        _run_held(job, lease, batches)
    job.refresh_from_db()
    return job


def _run_held(job: UploadJob, lease: jobs.Lease, batches: int | None) -> None:
    """upload_job_run's work, under the job's lease."""
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
    creates = [row for row in rows if row.kind == UploadRow.Kind.CREATE]
    likely = duplicates_of(
        connection=connection, contacts=[r.contact for r in creates if not r.create_anyway]
    )
    lost = _lost_creations(connection, creates)
    # What this batch creates, so that two of its rows never make two Xero contacts of one
    # business (the same rule as against Xero's contacts: same_contact.likely).
    creating: list[XeroContact] = []
    updating: dict[uuid.UUID, Contact] = {}
    outgoing: list[_Outgoing] = []
    for row in rows:
        contact = row.contact
        link = ContactLink.objects.filter(contact=contact, connection=connection).first()
        if row.kind == UploadRow.Kind.CREATE:
            if link is not None:
                _finish(row, UploadRow.State.SKIPPED, f"Already linked to {link.xero_name}.")
                continue
            if contact.pk in lost:
                # Created by an earlier attempt whose answer was lost: it is this contact, so
                # link it rather than create it again.
                _adopt(job, row, lost[contact.pk])
                continue
            match = likely.get(contact.pk)
            if match is not None:
                _finish(
                    row,
                    UploadRow.State.DUPLICATE,
                    "",
                    refusal=UploadRow.Refusal.LIKELY,
                    evidence=match.likely,
                    suggestion=match.xero,
                )
                continue
            keys = normalise.omni_keys(contact)
            sibling = next((s for s in creating if same_contact.likely(keys, s)), None)
            if sibling is not None and not row.create_anyway:
                _finish(
                    row,
                    UploadRow.State.DUPLICATE,
                    "",
                    refusal=UploadRow.Refusal.SIBLING,
                    evidence=same_contact.likely(keys, sibling),
                    suggestion=sibling,
                )
                continue
            if not row.contact_number:
                # Kept before Xero is called: a retry of this attempt sends the same number,
                # and the lost-answer lookup finds what it created by it.
                row.contact_number = _free_number(connection, contact)
                UploadRow.objects.filter(pk=row.pk).update(contact_number=row.contact_number)
            creating.append(_stand_in(contact))
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
        outgoing.append(_Outgoing(row, payload(contact, link, row.contact_number), link))
    new = [o for o in outgoing if o.link is None]
    changed = [o for o in outgoing if o.link is not None]
    session = connections.session(connection) if outgoing else None
    for items, save in ((new, xero.contacts_create_each), (changed, xero.contacts_save)):
        if not items:
            continue
        assert session is not None
        outcomes = save(
            session,
            contacts=[o.payload for o in items],
            idempotency_key=batch_key(connection, items),
        )
        for item, outcome in zip(items, outcomes, strict=False):
            _record(job, item, outcome)
        for item in items[len(outcomes) :]:
            _finish(item.row, UploadRow.State.FAILED, "Xero gave no answer for this contact.")


def duplicates_of(*, connection: XeroConnection, contacts: list[Contact]) -> dict[int, Suggestion]:
    """The guard: for each contact (by pk) that Upload must not create, its best likely
    match among the organisation's active Xero contacts. It asks the match suggestions, so
    that Upload refuses exactly what a row shows as a likely match (a dismissed suggestion
    blocks nothing)."""
    found = matching.suggestions_for(connection=connection, contacts=contacts, shown=None)
    return {
        pk: next(s for s in suggestions if s.likely)
        for pk, suggestions in found.items()
        if any(s.likely for s in suggestions)
    }


def _stand_in(contact: Contact) -> XeroContact:
    """An Omni contact about to be created, as the Xero contact it becomes."""
    row = XeroContact(
        name=contact.name,
        email=contact.email,
        account_number=contact.account_number,
        tax_number=contact.tax_number,
    )
    row.set_match_keys()
    return row


def _lost_creations(connection: XeroConnection, rows: list[UploadRow]) -> dict[int, XeroContact]:
    """The Xero contacts earlier attempts of these rows' contacts created though their
    answers never came (by contact pk): active, unlinked mirror rows with the ContactNumber
    of this row's attempt (sent before, its worker gone) or of an earlier attempt of the
    contact that did not end linked. A finished upload's contact is not among them: after
    Unlink, a new upload creates a new contact."""
    if not rows:
        return {}
    numbers: dict[str, int] = {}
    for row in rows:
        if row.contact_number:
            numbers[normalise.number_key(row.contact_number)] = row.contact_id
    earlier = (
        UploadRow.objects.filter(
            connection=connection,
            contact__in=[r.contact_id for r in rows],
            kind=UploadRow.Kind.CREATE,
        )
        .exclude(state=UploadRow.State.DONE)
        .exclude(contact_number="")
        .values_list("contact_id", "contact_number")
    )
    for contact_pk, number in earlier:
        numbers[normalise.number_key(number)] = contact_pk
    found: dict[int, XeroContact] = {}
    for xero_row in same_contact.linkable_xero_contacts(connection).filter(
        number_key__in=list(numbers)
    ):
        found.setdefault(numbers[xero_row.number_key], xero_row)
    return found


def _free_number(connection: XeroConnection, contact: Contact) -> str:
    """The ContactNumber a new attempt creates the contact with: omni-xero's number for it,
    or, when a Xero contact already holds that (an archived one, from before an Unlink), the
    first of OMNI-<id>-2, -3, ... none holds. Never a held one: sent to a Xero that matches
    by ContactNumber, it would update (and link) the contact that holds it."""
    base = our_number(contact)
    held = set(
        XeroContact.objects.filter(
            connection=connection, number_key__startswith=normalise.number_key(base)
        ).values_list("number_key", flat=True)
    ) | {
        normalise.number_key(number)
        for number in UploadRow.objects.filter(connection=connection, contact=contact)
        .exclude(contact_number="")
        .values_list("contact_number", flat=True)
    }
    candidate, n = base, 1
    while normalise.number_key(candidate) in held:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def payload(contact: Contact, link: ContactLink | None, number: str = "") -> xero.ContactUpload:
    """What Xero is sent for an Omni contact: an update by ContactID when it is linked, else
    a new contact with the attempt's ContactNumber (an existing contact keeps its own)."""
    return xero.ContactUpload(
        name=contact.name,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        account_number=contact.account_number,
        contact_number=number if link is None else "",
        tax_number=contact.tax_number,
        contact_id=link.xero_contact_id if link else None,
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
    """The batch's Idempotency-Key, from its upload attempts and what they send: a retry of
    the batch gives the same key, so Xero answers it as it did the first time; a new attempt
    (an upload after Unlink) gives a new one."""
    parts = [
        str(connection.tenant_id),
        *sorted(
            f"{o.row.attempt_key}:{o.row.contact_id}:{o.row.kind}:{o.row.fingerprint}"
            f":{o.payload.contact_id or ''}:{o.payload.contact_number}"
            for o in outgoing
        ),
    ]
    return "omni-xero-" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _archived_holder(connection: XeroConnection, row: UploadRow) -> XeroContact | None:
    """The Xero contact that cannot be linked (archived, merged, GDPR) and holds the name,
    account number or ContactNumber a refused create was sent with: what Xero refused it for."""
    contact = row.contact
    holds = Q(name__iexact=contact.name)
    if normalise.number_key(contact.account_number):
        holds |= Q(account_key=normalise.number_key(contact.account_number))
    if row.contact_number:
        holds |= Q(number_key=normalise.number_key(row.contact_number))
    candidates = XeroContact.objects.filter(holds, connection=connection)
    return next((c for c in candidates if not same_contact.is_linkable(c)), None)


def _record(job: UploadJob, item: _Outgoing, outcome: xero.SaveOutcome) -> None:
    row, connection = item.row, job.connection
    if outcome.contact is None:
        holder = _archived_holder(connection, row) if row.kind == UploadRow.Kind.CREATE else None
        _finish(
            row,
            UploadRow.State.FAILED,
            xero.refused_message(outcome.errors),
            refusal=UploadRow.Refusal.ARCHIVED_HOLDER if holder else "",
            suggestion=holder,
        )
        return
    created = outcome.contact
    mirror.contacts_mirrored(connection=connection, contacts=[created])
    answered = XeroContact.objects.get(connection=connection, contact_id=created.contact_id)
    if not same_contact.is_linkable(answered):
        _refuse_inactive(job, item, answered)
        return
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
            link_event_record(
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


def _refuse_inactive(job: UploadJob, item: _Outgoing, answered: XeroContact) -> None:
    """Xero answered with a contact that is archived, merged or under a GDPR request: it is
    not linked (and a link to it goes invalid, saying why)."""
    reason, survivor = links.link_verdict(answered)
    assert reason is not None
    with transaction.atomic():
        if item.link is not None:
            link = ContactLink.objects.filter(pk=item.link.pk).first()
            if link is not None and link.is_valid:
                link_mark_invalid(link=link, reason=reason, merged_into=survivor)
        _finish(
            item.row,
            UploadRow.State.FAILED,
            f"{answered.name} is {reason.label[0].lower()}{reason.label[1:]}.",
            refusal=UploadRow.Refusal.INACTIVE,
            suggestion=answered,
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
    row: UploadRow,
    state: str,
    message: str,
    *,
    refusal: str = "",
    evidence: tuple[same_contact.Evidence, ...] = (),
    suggestion: XeroContact | None = None,
) -> None:
    row.state, row.message = state, message[:1000]
    row.refusal, row.evidence = refusal, ",".join(evidence)
    row.suggested_xero_contact_id = suggestion.contact_id if suggestion else None
    row.suggested_name = suggestion.name if suggestion else ""
    row.save()


def our_number(contact: Contact) -> str:
    """The ContactNumber omni-xero gives the Xero contacts it creates (its first attempt)."""
    return f"OMNI-{contact.omni_id or contact.pk}"


# --- Create anyway -----------------------------------------------------------------------------


def contact_create_anyway(
    *, connection: XeroConnection, contact: Contact, user: Actor
) -> UploadJob:
    """Create the contact in Xero though it has a likely match there: the accountant's
    choice, audited, for this upload only (later uploads are guarded again)."""
    if ContactLink.objects.filter(contact=contact, connection=connection).exists():
        raise LinkError(f"{contact.name} is linked already: nothing to create.")
    latest = (
        UploadRow.objects.filter(connection=connection, contact=contact).order_by("-pk").first()
    )
    try:
        with transaction.atomic():
            job = UploadJob.objects.create(
                connection=connection, created_by=user if user.is_authenticated else None
            )
            UploadRow.objects.create(
                job=job,
                connection=connection,
                contact=contact,
                kind=UploadRow.Kind.CREATE,
                create_anyway=True,
            )
            link_event_record(
                action=LinkEvent.Action.CREATE_ANYWAY,
                contact=contact,
                connection=connection,
                user=user,
                before=latest.suggested_xero_contact_id if latest else None,
                detail=f"Created despite {latest.suggested_name}"
                if latest and latest.suggested_name
                else "Created despite a likely match",
            )
    except IntegrityError:
        raise LinkError(ALREADY_UPLOADING) from None
    return upload_job_run(job=job, batches=1)


# --- Read paths --------------------------------------------------------------------------------


def uploads_under_way(connection: XeroConnection | None) -> Sequence[UploadJob]:
    """The organisation's uploads under way, with their counts (`done`, `attention`,
    `queued`, `total`, `finished`), oldest first."""
    if connection is None:
        return []
    jobs = list(
        UploadJob.objects.filter(
            connection=connection, state__in=[UploadJob.State.RUNNING, UploadJob.State.WAITING]
        )
        .annotate(
            total=Count("rows"),
            done=Count("rows", filter=Q(rows__state=UploadRow.State.DONE)),
            attention=Count(
                "rows",
                filter=Q(rows__state__in=[UploadRow.State.FAILED, UploadRow.State.DUPLICATE]),
            ),
            queued=Count("rows", filter=Q(rows__state__in=UploadRow.PENDING)),
        )
        .order_by("created_at", "pk")
    )
    for job in jobs:
        job.finished = job.total - job.queued  # type: ignore[attr-defined]
    return jobs


def uploads_ended(connection: XeroConnection | None, ids: Sequence[int]) -> list[UploadJob]:
    """Those of these uploads of the organisation that have ended, oldest first."""
    if connection is None or not ids:
        return []
    return list(
        UploadJob.objects.filter(
            connection=connection, pk__in=ids, state__in=jobs.FINISHED
        ).order_by("created_at", "pk")
    )


def uploads_of(connection: XeroConnection | None) -> QuerySet[UploadJob]:
    """The organisation's uploads, with who started them."""
    return UploadJob.objects.filter(connection=connection).select_related("created_by")


def upload_rows(job: UploadJob) -> QuerySet[UploadRow]:
    """An upload's rows in the order they were queued, with their contacts."""
    return job.rows.select_related("contact").order_by("pk")
