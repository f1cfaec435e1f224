"""Which Xero organisation each transaction is for: one, never two. The rule, and the
writes that respect it (Skip, Reset, moving a transaction to another organisation).

An Omni transaction is one entity's, so it goes to one organisation. Which one:

1. the one it is settled on (a `TransactionOrganisation` row: a sync took it there, it was
   skipped there, or an admin moved it there);
2. otherwise the rule: with one organisation connected, that one; with several, the one its
   Omni branch is mapped to (`BranchOrganisation`, set in the admin); for a branch not
   mapped, the one organisation its contact is linked in; a contact linked in several (or
   none) leaves it for an admin to move.

The rule's answer is a database filter (`organisation_q`), so lists, counts and the sync
read the same answer in SQL; `transaction_organisation` asks it for one transaction.
Settling is an insert keyed by the transaction: two syncs of two organisations racing for
one transaction cannot both have it.

Why the sync state, Xero ID and number stay on `transactions.Transaction`: a transaction has
one organisation, so it has one state, one document, one error; they are its state in that
organisation, which the row here names. Moving the transaction clears them (and is refused
while its document counts in Xero), so they never describe another organisation's document.
The history (sync items) carries its organisation already.
"""

from collections.abc import Iterable

from django.db import transaction as db
from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from sync.exceptions import UserFacingError
from sync.models import (
    Actor,
    BranchOrganisation,
    ConnectionStatus,
    ContactLink,
    MirroredDocument,
    SyncItem,
    TransactionEvent,
    TransactionOrganisation,
    XeroConnection,
)
from transactions.models import TO_SYNC, SyncState, Transaction

# A document in one of these states no longer counts in Xero: its transaction may move.
VOID_IN_XERO = {"VOIDED", "DELETED"}


class MoveRefused(UserFacingError):
    """A transaction that cannot move to another organisation (synced there, in a sync)."""


def other_organisations(connection: XeroConnection) -> list[int]:
    """The other organisations connected now. Read once per connection object: a page asks
    the rule several times (its list, its counts, the Errors badge), and whether one is
    the only organisation makes the rule much cheaper to ask in SQL."""
    known: list[int] | None = connection.__dict__.get("_other_organisations")
    if known is None:
        known = list(
            XeroConnection.objects.usable().exclude(pk=connection.pk).values_list("pk", flat=True)
        )
        connection.__dict__["_other_organisations"] = known
    return known


def other_organisations_known(
    connection: XeroConnection, connected: Iterable[XeroConnection]
) -> None:
    """Tell the rule which organisations are connected, when the caller has read them anyway
    (the dashboard's switcher): a page then costs no query more for it."""
    connection.__dict__["_other_organisations"] = [
        other.pk for other in connected if other.pk != connection.pk
    ]


def _rule_q(connection: XeroConnection) -> Q:
    """The rule, for transactions not settled yet: those that are the connection's."""
    if connection.status == ConnectionStatus.DISCONNECTED:
        return Q(pk__in=[])
    others = other_organisations(connection)
    if not others:
        return Q(pk__isnull=False)  # the only organisation: every one
    mapped_here = BranchOrganisation.objects.filter(connection=connection).values("branch")
    mapped = BranchOrganisation.objects.filter(connection_id__in=[connection.pk, *others]).values(
        "branch"
    )
    linked_here = Exists(
        ContactLink.objects.filter(contact=OuterRef("contact"), connection=connection)
    )
    linked_elsewhere = Exists(
        ContactLink.objects.filter(contact=OuterRef("contact"), connection_id__in=others)
    )
    return Q(branch__in=mapped_here) | (
        ~Q(branch__in=mapped) & Q(linked_here) & ~Q(linked_elsewhere)
    )


def organisation_q(connection: XeroConnection) -> Q:
    """The transactions that are the connection's: settled there, or not settled and the
    rule gives it. Disjoint for two organisations, so nothing is ever two's.

    The settled rows are read as uncorrelated subqueries (`pk IN (...)`): the database
    reads them once, not once per transaction."""
    settled = TransactionOrganisation.objects.values("transaction_id")
    if connection.status != ConnectionStatus.DISCONNECTED and not other_organisations(connection):
        # The only organisation: every transaction not settled on another.
        return ~Q(pk__in=settled.exclude(connection=connection))
    return Q(pk__in=settled.filter(connection=connection)) | (
        ~Q(pk__in=settled) & _rule_q(connection)
    )


def for_organisation[T: QuerySet[Transaction]](
    transactions: T, connection: XeroConnection | None
) -> T:
    """The transactions of the organisation shown; every one when none is connected (the
    dashboard then shows Omni's transactions, and nothing can be sent)."""
    if connection is None:
        return transactions
    return transactions.filter(organisation_q(connection))


def with_organisation(transactions: QuerySet[Transaction]) -> QuerySet[Transaction]:
    """Annotate `organisation_pk`: the connection each transaction is for (None: no
    organisation yet). One query for the connections, then the rule in SQL."""
    settled = TransactionOrganisation.objects.filter(transaction=OuterRef("pk"))
    by_rule = [
        When(_rule_q(connection), then=Value(connection.pk))
        for connection in XeroConnection.objects.usable()
    ]
    settled_on = Subquery(settled.values("connection_id")[:1], output_field=IntegerField())
    if not by_rule:
        return transactions.annotate(organisation_pk=settled_on)
    return transactions.annotate(
        organisation_pk=Coalesce(
            settled_on, Case(*by_rule, default=None, output_field=IntegerField())
        )
    )


def without_organisation[T: QuerySet[Transaction]](
    transactions: T, shown: XeroConnection | None = None
) -> T:
    """The transactions no organisation is for yet (the rule cannot say): no sync takes
    them until an admin maps their branch or moves them. With `shown` the only one
    connected, none (and no query)."""
    if shown is not None and not other_organisations(shown):
        return transactions.none()
    unsettled = transactions.exclude(
        pk__in=TransactionOrganisation.objects.values("transaction_id")
    )
    for connection in XeroConnection.objects.usable():
        unsettled = unsettled.exclude(_rule_q(connection))
    return unsettled


def transaction_organisation(*, transaction: Transaction) -> XeroConnection | None:
    """The organisation one transaction is for; None when the rule cannot say."""
    found = with_organisation(Transaction.objects.filter(pk=transaction.pk)).first()
    pk = getattr(found, "organisation_pk", None)
    return XeroConnection.objects.filter(pk=pk).first() if pk is not None else None


def transactions_settle(*, connection: XeroConnection, ids: Iterable[int]) -> list[int]:
    """Settle these transactions on the connection where it is theirs; return those that
    are the connection's now, in the order given. Called by a sync before it takes them,
    inside its transaction."""
    wanted = list(ids)
    if not wanted:
        return []
    with db.atomic():
        # The row locks (held until the caller's transaction ends) keep a move from changing
        # a transaction's organisation between this check and what the caller does with it.
        mine = set(
            for_organisation(Transaction.objects.filter(pk__in=wanted), connection)
            .order_by("pk")
            .select_for_update()
            .values_list("pk", flat=True)
        )
        # The transaction is the key: when another organisation's sync settled one meanwhile,
        # its row stands and this insert is ignored, so the check below leaves it out.
        TransactionOrganisation.objects.bulk_create(
            [TransactionOrganisation(transaction_id=pk, connection=connection) for pk in mine],
            ignore_conflicts=True,
            batch_size=500,
        )
        settled = set(
            TransactionOrganisation.objects.filter(
                transaction_id__in=mine, connection=connection
            ).values_list("transaction_id", flat=True)
        )
    return [pk for pk in wanted if pk in settled]


def _not_pending(transactions: QuerySet[Transaction]) -> QuerySet[Transaction]:
    """Leave out those a sync is about to send or sending: their outcome decides."""
    pending = SyncItem.objects.filter(transaction=OuterRef("pk"), state__in=SyncItem.PENDING)
    return transactions.exclude(Exists(pending))


def transactions_audit(
    action: str,
    transactions: list[Transaction],
    connection: XeroConnection,
    user: Actor | None,
    **fields: str,
) -> list[TransactionEvent]:
    """Record who did what to these transactions, in the caller's database transaction."""
    actor = user if user is not None and user.is_authenticated else None
    return TransactionEvent.objects.bulk_create(
        [
            TransactionEvent(
                action=action,
                actor=actor,
                organisation_name=connection.organisation_name,
                transaction=txn,
                transaction_label=str(txn)[:300],
                connection=connection,
                **fields,
            )
            for txn in transactions
        ]
    )


def transactions_skip(
    *, connection: XeroConnection, transactions: QuerySet[Transaction], user: Actor | None
) -> int:
    """Skip the organisation's transactions among these (Upload all ready leaves them out
    until reset); those in a sync now, synced or another organisation's are left alone."""
    with db.atomic():
        candidates = _not_pending(
            for_organisation(transactions, connection).filter(
                sync_state__in=[*TO_SYNC, SyncState.FAILED]
            )
        )
        ids = transactions_settle(
            connection=connection, ids=candidates.values_list("pk", flat=True)
        )
        chosen = list(Transaction.objects.filter(pk__in=ids))
        Transaction.objects.filter(pk__in=[t.pk for t in chosen]).update(
            sync_state=SyncState.SKIPPED
        )
        transactions_audit(TransactionEvent.Action.SKIP, chosen, connection, user)
    return len(chosen)


def transactions_reset(
    *, connection: XeroConnection, transactions: QuerySet[Transaction], user: Actor | None
) -> int:
    """Make the organisation's transactions among these ready again. A synced one keeps its
    Xero ID, so uploading it again updates its document in that organisation; another
    organisation's transactions are left alone, so its ID never goes anywhere else."""
    with db.atomic():
        chosen = list(
            _not_pending(
                for_organisation(transactions, connection).exclude(sync_state=SyncState.READY)
            ).select_for_update()
        )
        Transaction.objects.filter(pk__in=[t.pk for t in chosen]).update(
            sync_state=SyncState.READY, last_error=""
        )
        transactions_audit(TransactionEvent.Action.RESET, chosen, connection, user)
    return len(chosen)


def _voided_in_xero(transaction: Transaction, connection: XeroConnection) -> bool:
    """Whether its document, as omni-xero last read it from Xero, is voided or deleted."""
    if transaction.xero_id is None:
        return False
    return MirroredDocument.objects.filter(
        connection=connection, document_id=transaction.xero_id, status__in=VOID_IN_XERO
    ).exists()


def with_xero_status[T: QuerySet[Transaction]](transactions: T, connection: XeroConnection) -> T:
    """Annotate `xero_status`, `xero_paid` and `xero_due`: its document's status and what
    is paid and due on it, as omni-xero last read them from Xero (None when it has no
    copy), in the list's own query."""
    copy = MirroredDocument.objects.filter(connection=connection, document_id=OuterRef("xero_id"))
    return transactions.annotate(
        xero_status=Subquery(copy.values("status")[:1]),
        xero_paid=Subquery(copy.values("amount_paid")[:1]),
        xero_due=Subquery(copy.values("amount_due")[:1]),
    )


def transaction_move(
    *, transaction: Transaction, connection: XeroConnection, user: Actor | None
) -> None:
    """Make the transaction another organisation's: ready to sync there, with nothing of
    where it was. Refused while its document counts in the organisation it was synced to
    (void it in Xero first), or while a sync is sending it. Audited."""
    with db.atomic():
        # The row lock keeps a sync from taking it between the checks and the move.
        txn = Transaction.objects.select_for_update().get(pk=transaction.pk)
        current = transaction_organisation(transaction=txn)
        if current is not None and current.pk == connection.pk:
            raise MoveRefused(f"{txn} is already for {connection.organisation_name}.")
        if SyncItem.objects.filter(transaction=txn, state__in=SyncItem.PENDING).exists():
            raise MoveRefused(f"{txn} is in a sync now; move it once that sync has finished.")
        if txn.xero_id is not None and not (current is not None and _voided_in_xero(txn, current)):
            where = current.organisation_name if current is not None else "Xero"
            raise MoveRefused(
                f"{txn} is synced to {where}: void it in Xero first, then refresh "
                "Discrepancies so omni-xero sees it voided, and move it again."
            )
        TransactionOrganisation.objects.update_or_create(
            transaction=txn, defaults={"connection": connection}
        )
        Transaction.objects.filter(pk=txn.pk).update(
            sync_state=SyncState.READY, xero_id=None, xero_number="", last_error="", synced_at=None
        )
        TransactionEvent.objects.create(
            action=TransactionEvent.Action.MOVE,
            actor=user if user is not None and user.is_authenticated else None,
            organisation_name=connection.organisation_name,
            transaction=txn,
            transaction_label=str(txn)[:300],
            connection=connection,
            detail=f"From {current.organisation_name if current else 'no organisation'} "
            f"to {connection.organisation_name}."[:500],
        )
