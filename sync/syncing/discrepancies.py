"""Where Xero no longer agrees with Omni: synced transactions whose Xero document was voided,
deleted, edited (another total) since, or paid more or less than Omni's payments of it.
Compared against a local copy of the organisation's documents, refreshed incrementally
(If-Modified-Since)."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.db import models
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
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
from transactions.models import Payment, SyncState, Transaction, TransactionQuerySet


class Problem(models.TextChoices):
    """How a synced transaction's Xero document differs from Omni (the label is the page's)."""

    VOIDED = "voided", "Voided in Xero"
    DELETED = "deleted", "Deleted in Xero"
    PAID = "paid", "Paid in Xero, not in Omni"
    UNPAID = "unpaid", "Paid in Omni, not in Xero"
    EDITED = "edited", "Edited in Xero: the total differs"


GONE = {"VOIDED": Problem.VOIDED, "DELETED": Problem.DELETED}


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
    """Keep these documents as Xero answered them now (one statement): the one writer of
    the local copy (a refresh's pages, the documents webhook events name, and a sync's
    answers)."""
    fields = [
        "kind", "type", "number", "status", "total", "amount_due", "amount_paid",
        "updated_in_xero", "contact_id", "due_date", "currency",
    ]  # fmt: skip
    latest = {document.document_id: document for document in documents}  # once each
    rows = [
        MirroredDocument(
            connection=connection,
            document_id=document.document_id,
            **fitted(
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
                    "contact_id": document.contact_id,
                    "due_date": document.due_date,
                    "currency": document.currency,
                },
            )[0],
        )
        for document in latest.values()
    ]
    MirroredDocument.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["connection", "document_id"],
        update_fields=fields,
        batch_size=500,
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
    omni_paid: Decimal = Decimal("0")  # what Omni's payments of it add up to


def _problem_of_document() -> models.Case:
    """How a document (in a subquery on MirroredDocument) differs from its transaction
    (the outer query, annotated with_total and with_paid): a Problem's value, or None where
    they agree. An invoice's or bill's payments are compared: more paid in Xero than Omni
    has recorded, or less; a credit note's "paid" is what was allocated, not compared."""
    invoice = models.Q(kind=xero.DocumentKind.INVOICE.value)
    omni_paid = models.OuterRef("omni_paid")
    return models.Case(
        *(models.When(status=status, then=models.Value(p.value)) for status, p in GONE.items()),
        models.When(invoice & models.Q(amount_paid__gt=omni_paid), then=models.Value(Problem.PAID)),
        models.When(
            invoice & models.Q(amount_paid__lt=omni_paid), then=models.Value(Problem.UNPAID)
        ),
        models.When(
            ~models.Q(total=models.OuterRef("omni_total")), then=models.Value(Problem.EDITED.value)
        ),
        default=models.Value(None),
        output_field=models.CharField(),
    )


def _differing(
    connection: XeroConnection, transactions: TransactionQuerySet
) -> QuerySet[Transaction]:
    """Those of the transactions synced to the organisation whose document, as last fetched,
    differs, annotated `problem` (a Problem's value), in date order: compared in SQL, so
    that a page reads its own rows only."""
    documents = MirroredDocument.objects.filter(
        connection=connection, document_id=models.OuterRef("xero_id")
    )
    synced = for_organisation(
        transactions.filter(sync_state=SyncState.SYNCED, xero_id__isnull=False), connection
    ).with_total()
    paid = (
        Payment.objects.filter(transaction=models.OuterRef("pk"))
        .order_by()
        .values("transaction")
        .annotate(total=models.Sum("amount"))
        .values("total")
    )
    money = models.DecimalField(max_digits=16, decimal_places=2)
    synced = synced.annotate(
        omni_paid=Coalesce(
            models.Subquery(paid, output_field=money),
            models.Value(Decimal("0")),
            output_field=money,
        )
    )
    problem = documents.annotate(problem=_problem_of_document()).values("problem")[:1]
    return (
        synced.annotate(problem=models.Subquery(problem, output_field=models.CharField()))
        .filter(problem__isnull=False)
        .order_by("date", "number", "pk")
    )


def discrepancies_found(
    *, connection: XeroConnection, show_resolved: bool = False
) -> QuerySet[Transaction]:
    """Every transaction synced to the organisation whose Xero document, as last fetched,
    differs from Omni (those marked resolved only with `show_resolved`), annotated
    `problem`: the list to page; discrepancies_of makes a page's rows."""
    found = _differing(connection, Transaction.objects.all())
    if show_resolved:
        return found
    resolved = TransactionEvent.objects.filter(
        action=TransactionEvent.Action.RESOLVE,
        connection=connection,
        transaction=models.OuterRef("pk"),
        discrepancy=models.OuterRef("problem"),
    )
    return found.exclude(models.Exists(resolved))


def discrepancies_of(
    *, connection: XeroConnection, transactions: Sequence[Transaction]
) -> list[Discrepancy]:
    """The rows of these transactions (a page of discrepancies_found): each with its
    document, its Omni total and who marked it resolved, in three queries whatever the
    page holds."""
    chosen = list(
        Transaction.objects.filter(pk__in=[t.pk for t in transactions])
        .select_related("contact")
        .prefetch_related("lines")
    )
    by_pk = {t.pk: t for t in chosen}
    documents = {
        d.document_id: d
        for d in MirroredDocument.objects.filter(
            connection=connection, document_id__in=[t.xero_id for t in chosen]
        )
    }
    resolutions = _resolutions(connection, list(by_pk))
    rows = []
    for found in transactions:
        txn = by_pk[found.pk]
        problem = Problem(found.problem)  # type: ignore[attr-defined]
        rows.append(
            Discrepancy(
                txn,
                documents[txn.xero_id],  # type: ignore[index]
                txn.totals.total,
                problem,
                resolutions.get((txn.pk, problem)),
                getattr(found, "omni_paid", Decimal("0")),
            )
        )
    return rows


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
    found = list(_differing(connection, Transaction.objects.filter(pk=transaction.pk)))
    if not found:
        raise NothingToResolve(f"{transaction} agrees with Xero now: nothing to resolve.")
    (row,) = discrepancies_of(connection=connection, transactions=found)
    (event,) = transactions_audit(
        TransactionEvent.Action.RESOLVE,
        [transaction],
        connection,
        user,
        discrepancy=row.problem,
        detail=row.problem.label,
    )
    return replace(row, resolved=event)
