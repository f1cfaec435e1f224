"""Where Xero no longer agrees with Omni: synced transactions whose Xero document was voided,
deleted, edited (another total) or paid since. Compared against a local copy of the
organisation's documents, refreshed incrementally (If-Modified-Since)."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.db import models
from django.db import transaction as db_transaction
from django.utils import timezone

from sync import xero
from sync.connections import services as connections
from sync.exceptions import UserFacingError
from sync.models import (
    Actor,
    MirroredDocument,
    SyncSettings,
    TransactionEvent,
    XeroConnection,
    fitted,
)
from sync.syncing.organisations import for_organisation, transactions_audit
from transactions.models import SyncState, Transaction, TransactionQuerySet


class Problem(models.TextChoices):
    """How a synced transaction's Xero document differs from Omni (the label is the page's)."""

    VOIDED = "voided", "Voided in Xero"
    DELETED = "deleted", "Deleted in Xero"
    PAID = "paid", "Paid in Xero"
    EDITED = "edited", "Edited in Xero: the total differs"


GONE = {"VOIDED": Problem.VOIDED, "DELETED": Problem.DELETED}
CHUNK = 500


def _newest(connection: XeroConnection, kind: xero.DocumentKind) -> datetime | None:
    """Where the next refresh of a kind starts: the newest document a refresh fetched (not
    one a webhook event brought in since, which may be newer than changes no event told
    of). Never fetched: everything (None)."""
    marks = (
        SyncSettings.objects.filter(connection=connection)
        .values_list("documents_modified_since", flat=True)
        .first()
    )
    mark = (marks or {}).get(kind.value)
    return datetime.fromisoformat(mark) if isinstance(mark, str) else None


def documents_keep(*, connection: XeroConnection, documents: Sequence[xero.XeroDocument]) -> None:
    """Keep these documents as Xero answered them now: the one writer of the local copy
    (a refresh's pages and the documents webhook events name)."""
    with db_transaction.atomic():
        for document in documents:
            MirroredDocument.objects.update_or_create(
                connection=connection,
                document_id=document.document_id,
                defaults=fitted(
                    MirroredDocument,
                    {
                        "kind": document.kind.value,
                        "type": document.type,
                        "number": document.number,
                        "status": document.status,
                        "total": document.total,
                        "amount_due": document.amount_due,
                        "amount_paid": document.amount_paid,
                        "updated_in_xero": document.updated_in_xero,
                    },
                )[0],
            )


def documents_refresh(*, connection: XeroConnection, session: xero.Session | None = None) -> int:
    """Fetch the documents changed in Xero since the newest one the last refresh fetched of
    each kind (all of them the first time) and keep them. Returns how many were fetched."""
    session = session or connections.session(connection)
    fetched = 0
    marks: dict[str, str] = {}
    for kind in xero.DocumentKind:
        newest = _newest(connection, kind)
        pages = xero.documents_pages(session, kind=kind, modified_since=newest)
        for page in pages:  # each page is kept before the next is asked for
            documents_keep(connection=connection, documents=page)
            fetched += len(page)
            for document in page:
                changed = document.updated_in_xero
                if changed is not None and (newest is None or changed > newest):
                    newest = changed
        if newest is not None:
            marks[kind.value] = newest.isoformat()
    SyncSettings.objects.update_or_create(
        connection=connection,
        defaults={"documents_checked_at": timezone.now(), "documents_modified_since": marks},
    )
    return fetched


@dataclass(frozen=True)
class Discrepancy:
    transaction: Transaction
    document: MirroredDocument
    omni_total: Decimal
    problem: Problem
    resolved: TransactionEvent | None = None  # who marked it resolved, and when


def _problem(omni_total: Decimal, document: MirroredDocument) -> Problem | None:
    if document.status in GONE:
        return GONE[document.status]
    if document.status == "PAID" or document.amount_paid > 0:
        return Problem.PAID
    if document.total != omni_total:
        return Problem.EDITED
    return None


def discrepancies_list(
    *, connection: XeroConnection, show_resolved: bool = False
) -> list[Discrepancy]:
    """Every transaction synced to the organisation whose Xero document, as last fetched,
    differs from Omni; those marked resolved only with `show_resolved`."""
    found = _differing(connection, Transaction.objects.all())
    resolutions = _resolutions(connection, [d.transaction.pk for d in found])
    marked = [replace(d, resolved=resolutions.get((d.transaction.pk, d.problem))) for d in found]
    return [d for d in marked if show_resolved or d.resolved is None]


def _differing(connection: XeroConnection, transactions: TransactionQuerySet) -> list[Discrepancy]:
    """Those of the transactions synced to the organisation whose document differs."""
    synced = (
        for_organisation(
            transactions.filter(sync_state=SyncState.SYNCED, xero_id__isnull=False),
            connection,
        )
        .select_related("contact")
        .order_by("date", "number", "pk")
    )
    found = []
    ids = list(synced.values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK):
        chunk = list(synced.filter(pk__in=ids[start : start + CHUNK]).with_lines())
        documents = {
            d.document_id: d
            for d in MirroredDocument.objects.filter(
                connection=connection, document_id__in=[t.xero_id for t in chunk]
            )
        }
        for txn in chunk:
            document = documents.get(txn.xero_id)  # type: ignore[arg-type]
            if document is None:
                continue
            total = txn.totals.total
            problem = _problem(total, document)
            if problem is not None:
                found.append(Discrepancy(txn, document, total, problem))
    return found


def _resolutions(
    connection: XeroConnection, transaction_ids: list[int]
) -> dict[tuple[int, str], TransactionEvent]:
    """The latest time each of these transactions' discrepancies was marked resolved, by
    transaction and kind: a discrepancy of another kind found later is not resolved."""
    events = TransactionEvent.objects.filter(
        action=TransactionEvent.Action.RESOLVE,
        connection=connection,
        transaction_id__in=transaction_ids,
    ).select_related("actor")
    return {(e.transaction_id, e.discrepancy): e for e in events.order_by("at", "pk")}  # type: ignore[misc]


class NothingToResolve(UserFacingError):
    """The transaction has no discrepancy with Xero (any more) to mark resolved."""


def discrepancy_resolve(
    *, connection: XeroConnection, transaction: Transaction, user: Actor | None
) -> Discrepancy:
    """Mark the transaction's discrepancy with Xero, as last fetched, resolved: it is listed
    no more (but with "show resolved", saying who and when) until Xero's document differs in
    another way. Audited."""
    found = _differing(connection, Transaction.objects.filter(pk=transaction.pk))
    if not found:
        raise NothingToResolve(f"{transaction} agrees with Xero now: nothing to resolve.")
    (event,) = transactions_audit(
        TransactionEvent.Action.RESOLVE,
        [transaction],
        connection,
        user,
        discrepancy=found[0].problem,
        detail=found[0].problem.label,
    )
    return replace(found[0], resolved=event)
