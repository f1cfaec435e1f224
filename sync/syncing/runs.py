"""Syncing transactions to Xero: refuse what cannot go, send the rest exactly once.

A sync run checks first: it refreshes the mirror of Xero contacts (which judges every link
again) and fetches the chart of accounts and the tax rates, so that a link gone bad or an
archived account is caught before anything is sent. Then it sends the transactions in
batches of up to 50 documents of one kind, one POST each (`summarizeErrors=false`: every
document gets its own answer, and one bad document never fails its neighbours).

Exactly once: each batch's Idempotency-Key is derived from what it sends, and a transaction is
marked "sending" before its batch goes. One whose answer never came (a timeout, a dropped
connection, a killed worker) is looked up in Xero by its number before it is sent again, so a
retry never makes a second document. No database transaction is held across a call to Xero.

One run per organisation at a time (a database constraint on running runs); later requests
wait their turn. The run paces itself on the limits Xero reports in every answer.
"""

import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import connections as connections_db
from django.db import router, transaction
from django.db.models import Count, Field, Model, OuterRef, QuerySet, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from sync import jobs, xero
from sync.connections import services as connections
from sync.links import mirror
from sync.links.services import LinkChanged, link_mark_invalid
from sync.models import (
    PAYMENTS,
    Actor,
    ContactLink,
    InvalidReason,
    PaymentItem,
    SyncItem,
    SyncRun,
    SyncSettings,
    XeroConnection,
)
from sync.syncing import discrepancies, organisations, payments
from sync.syncing.batches import BATCH_SIZE, MAX_ATTEMPTS, RunTakenOver, batch_key, batch_send
from sync.syncing.refusals import (
    ARCHIVED_IN_XERO,
    DOCUMENT_TYPES,
    Refusal,
    Rules,
    settings_refresh,
)
from transactions.models import Payment, PaymentState, SyncState, Transaction

logger = logging.getLogger(__name__)

__all__ = ["BATCH_SIZE", "MAX_ATTEMPTS", "RunTakenOver", "batch_key"]

# How long a run waits when Xero is unavailable, or another refresh of the mirror runs.
UNAVAILABLE_WAIT = 30.0
MIRROR_WAIT = 30.0
# A run that waits longer than this (seconds) checks links and accounts again when it goes on.
RECHECK_AFTER = 300.0
# After this long (seconds), a run hands itself back between batches when other jobs wait
# for a worker, so that one organisation's 5,000 transactions never keep another's 20 waiting.
TIME_SLICE = 2.0
# Document types whose numbers Xero does not keep unique (the supplier's own numbers).
NON_UNIQUE_NUMBERS = {"ACCPAY", "ACCPAYCREDIT"}
# Documents that no longer count: a lookup that finds only these finds nothing.
GONE = {"DELETED", "VOIDED"}


# --- Pacing ------------------------------------------------------------------------------------


class PacedSession:
    """A connection's session that counts the run's calls (and its 429s) for its progress.

    The pace itself is the organisation's shared quota, which the connection session takes
    a slot of before every call (sync.connections.quota): a wait of a second or two is
    slept out there, a longer one raised as RateLimited, for the run to wait without
    holding a worker. The connection session also renews the run's lease as it goes
    (jobs.keep_alive).
    """

    def __init__(self, inner: connections.ConnectionSession):
        self.inner = inner
        self.statuses: list[int | None] = []
        self.quota = xero.Quota()
        self.calls = 0
        self.writes = 0
        self.rate_limited = 0

    @property
    def tenant_id(self) -> str:
        return self.inner.tenant_id

    def access_token(self) -> str:
        return self.inner.access_token()

    def waiting(self) -> None:
        self.inner.waiting()

    def token_rejected(self) -> bool:
        return self.inner.token_rejected()

    def refused(self, detail: str) -> xero.XeroError:
        return self.inner.refused(detail)

    def record(self, call: xero.CallRecord) -> None:
        self.inner.record(call)
        self.calls += 1
        self.writes += call.method in ("POST", "PUT")
        self.rate_limited += call.status == 429
        self.statuses.append(call.status)
        if call.quota.seen:
            self.quota = call.quota

    @classmethod
    def for_connection(cls, connection: XeroConnection) -> "PacedSession":
        """A counting session on the connection's own."""
        return cls(connections.session(connection))


# --- Starting a sync ---------------------------------------------------------------------------


def sync_start(
    *,
    connection: XeroConnection,
    transactions: QuerySet[Transaction] | Iterable[Transaction],
    user: Actor | None = None,
    trigger: str = SyncRun.Trigger.DASHBOARD,
) -> SyncRun | None:
    """Queue a sync of these transactions (those already synced or skipped are left out,
    as are another organisation's and those already waiting in another run) and hand it to
    the worker. With nothing left to send, no run is made (the log shows none) and None is
    returned."""
    ids = [t.pk for t in transactions if t.sync_state not in (SyncState.SYNCED, SyncState.SKIPPED)]
    # Only the organisation's own: another's are never sent here, whoever asks. Settling
    # locks the transactions until their items exist, so a move waits and then sees them
    # in this sync (and is refused) rather than moving one this sync is about to send.
    with transaction.atomic():
        ids = organisations.transactions_settle(connection=connection, ids=ids)
        if not ids:
            return None
        run = SyncRun.objects.create(
            connection=connection,
            created_by=user if user is not None and user.is_authenticated else None,
            trigger=trigger,
        )
        SyncItem.objects.bulk_create(
            [SyncItem(run=run, connection=connection, transaction_id=pk) for pk in ids],
            ignore_conflicts=True,  # in another run already: that one sends it
            batch_size=500,
        )
        lost_answers = SyncItem.objects.filter(connection=connection, state=SyncItem.State.SENDING)
        if not run.items.exists() and not lost_answers.exists():
            # Every one waits in another run, and no lost answer is left to look up (a run
            # does that first): this one would log nothing.
            run.delete()
            return None
    jobs.job_queue(run)
    return run


# --- Running it --------------------------------------------------------------------------------


def _claim(run: SyncRun) -> jobs.Lease | None:
    """Make this the organisation's running sync, unless another one is (the constraint on
    running runs decides between two workers); a run whose worker died is taken over. A
    queued run that must wait its turn is started by the run before it when that ends; the
    sweep looks at it again only if that run's lease runs out."""
    lease = jobs.job_claim(run)
    if lease is None:
        SyncRun.objects.filter(pk=run.pk, state=SyncRun.State.QUEUED).update(
            resume_at=timezone.now() + SyncRun.LEASE
        )
    return lease


def sync_run(*, run: SyncRun, on_batch: Callable[[SyncRun], None] | None = None) -> SyncRun:
    """Go on with a run: check, reconcile what has no answer, send what is left.

    Xero's rate limit, its unavailability or a refresh of the mirror under way leave the run
    waiting, with a task queued for when it goes on; anything else stops it visibly, its
    transactions still ready to sync. `on_batch` is called after each batch (a progress bar).
    """
    run.refresh_from_db()
    lease = _claim(run) if run.is_active else None
    if lease is None:
        run.refresh_from_db()
        return run
    run.refresh_from_db()
    with jobs.holding(lease):
        return _run_held(run, lease, on_batch)


def _run_held(
    run: SyncRun, lease: jobs.Lease, on_batch: Callable[[SyncRun], None] | None
) -> SyncRun:
    """sync_run's work, under the run's lease."""
    session = PacedSession(connections.session(run.connection))
    turn_ends = time.monotonic() + TIME_SLICE
    try:
        if not run.prepared:
            _prepare(run, session)
        rules = Rules(run.connection)
        payment_rules = payments.PaymentRules(run.connection)
        _reconcile(run, session, rules)
        payments.payments_reconcile(run, session)
        while step := _next_step(run, session, rules, payment_rules):
            step()
            _renew(run, lease, session)
            if on_batch is not None:
                on_batch(run)
            if time.monotonic() >= turn_ends and jobs.others_waiting(lease) and _more(run):
                # Its turn is over: the rest goes on in a task queued behind the others.
                jobs.job_continue(lease, at=None, **_counts(run, session))
                run.refresh_from_db()
                return run
    except jobs.LeaseLost:  # RunTakenOver among them
        run.refresh_from_db()
        return run
    except (xero.RateLimited, mirror.RefreshRunning, xero.XeroUnavailable) as wait:
        seconds = _wait_seconds(wait)
        jobs.job_continue(
            lease,
            at=timezone.now() + timedelta(seconds=seconds),
            detail=str(wait)[:500],
            # After a long wait, links and accounts are checked again before sending.
            prepared=run.prepared and seconds < RECHECK_AFTER,
            **_counts(run, session),
        )
        run.refresh_from_db()
        return run
    except xero.XeroError as failure:
        _stop(run, lease, session, str(failure))
        return _finished(run)
    except Exception as failure:
        logger.exception("Sync %s failed", run.pk)
        _stop(run, lease, session, f"omni-xero hit an unexpected error ({type(failure).__name__}).")
        return _finished(run)
    jobs.job_finish(lease, state=SyncRun.State.DONE, **_counts(run, session))
    return _finished(run)


def _next_step(
    run: SyncRun,
    session: PacedSession,
    rules: Rules,
    payment_rules: "payments.PaymentRules",
) -> Callable[[], None] | None:
    """The run's next call: a batch of documents, then, once they are all sent (a payment
    goes after its document), a batch of payments; None when nothing is left."""
    batch = _next_batch(run, rules)
    if batch is not None:
        return lambda: _send(run, session, rules, *batch)
    paid = payments.payments_next_batch(run, payment_rules)
    if paid:
        return lambda: payments.payments_send(
            run, session, payment_rules, paid, statuses=session.statuses
        )
    return None


def _more(run: SyncRun) -> bool:
    """Whether the run has transactions or payments left to send."""
    return (
        SyncItem.objects.filter(run=run, state=SyncItem.State.QUEUED).exists()
        or PaymentItem.objects.filter(run=run, state=SyncItem.State.QUEUED).exists()
    )


def sync_run_continue(*, run_id: int) -> dict[str, str | int]:
    """What the worker's sync task does: go on with the run, if it still exists."""
    run = SyncRun.objects.filter(pk=run_id).first()
    if run is None:
        return {"skipped": "no such sync"}
    run = sync_run(run=run)
    return {"state": run.state, "items": run.items.count()}


def _wait_seconds(wait: Exception) -> float:
    if isinstance(wait, xero.RateLimited):
        return max(1.0, wait.wait_seconds)
    if isinstance(wait, mirror.RefreshRunning):
        return MIRROR_WAIT
    return UNAVAILABLE_WAIT


def _finished(run: SyncRun) -> SyncRun:
    """After a run ends: tell the admins about failures of an automatic one, and start the
    organisation's next queued run."""
    run.refresh_from_db()
    if run.trigger == SyncRun.Trigger.SCHEDULE:
        _email_failures(run)
    following = (
        SyncRun.objects.filter(connection_id=run.connection_id, state=SyncRun.State.QUEUED)
        .order_by("created_at", "pk")
        .first()
    )
    if following is not None:
        jobs.job_queue(following)
    return run


def _stop(run: SyncRun, lease: jobs.Lease, session: PacedSession, reason: str) -> None:
    """End a run that cannot go on: what it has not sent stays ready to sync."""
    message = f"Not sent: {reason} It is still ready to sync."
    with transaction.atomic():
        pending = SyncItem.objects.filter(run=run, state=SyncItem.State.QUEUED)
        Transaction.objects.filter(pk__in=pending.values("transaction_id")).update(
            last_error=message[:1000]
        )
        pending.update(state=SyncItem.State.SKIPPED, message=message[:2000])
        payments.payments_not_sent(run=run, reason=reason)
        jobs.job_finish(
            lease, state=SyncRun.State.STOPPED, detail=reason[:500], **_counts(run, session)
        )


def _renew(run: SyncRun, lease: jobs.Lease, session: PacedSession) -> None:
    """Save the run's counts and renew its lease (the worker is alive)."""
    lease.renew(heartbeat_at=timezone.now(), **_counts(run, session))


def _counts(run: SyncRun, session: PacedSession) -> dict[str, int | None]:
    """The run's counts with the session's calls since the last save, to save with the
    lease; the session starts counting again."""
    run.api_calls += session.calls
    run.write_calls += session.writes
    run.rate_limited += session.rate_limited
    session.calls = session.writes = session.rate_limited = 0
    return {
        "api_calls": run.api_calls,
        "write_calls": run.write_calls,
        "rate_limited": run.rate_limited,
        "minute_remaining": session.quota.minute_remaining,
        "day_remaining": session.quota.day_remaining,
    }


def _prepare(run: SyncRun, session: PacedSession) -> None:
    """Check first: bring the mirror of contacts up to date (which judges every link again)
    and fetch the accounts and tax rates the lines are checked against."""
    mirror.xero_contacts_refresh(connection=run.connection, session=session)
    settings_refresh(connection=run.connection, session=session)
    SyncRun.objects.filter(pk=run.pk).update(prepared=True)
    run.prepared = True


# --- Batches -----------------------------------------------------------------------------------


def _types_of(kind: xero.DocumentKind) -> list[str]:
    return [t for t, (k, _) in DOCUMENT_TYPES.items() if k == kind]


def _next_batch(run: SyncRun, rules: Rules) -> tuple[xero.DocumentKind, list[SyncItem]] | None:
    """The next batch to send: up to BATCH_SIZE queued items of one kind, each claimed as
    sending. Those that cannot go are refused on the way, without a call."""
    for kind in xero.DocumentKind:
        batch: list[SyncItem] = []
        after = 0  # items are read in order: those refused on the way are not read again
        while len(batch) < BATCH_SIZE:
            items = list(
                SyncItem.objects.filter(
                    run=run,
                    state=SyncItem.State.QUEUED,
                    transaction__type__in=_types_of(kind),
                    pk__gt=after,
                )
                .select_related("transaction__contact")
                .prefetch_related("transaction__lines")
                .order_by("pk")[: BATCH_SIZE - len(batch)]
            )
            if not items:
                break
            after = items[-1].pk
            # The batch's links in one query, not one per contact.
            rules.links_load(item.transaction.contact_id for item in items)
            refused = []
            for item in items:
                refusal = rules.refusal(item.transaction)
                if refusal is None:
                    batch.append(item)
                else:
                    refused.append((item, refusal))
            if refused:
                _refuse(refused)
        if batch:
            return kind, batch
    return None


def _refuse(refused: list[tuple[SyncItem, Refusal]]) -> None:
    """Record the refusals found while a batch was made, together (one commit)."""
    with transaction.atomic():
        for item, refusal in refused:
            _outcome(item, SyncItem.State.REFUSED, refusal.message, refusal=refusal.code)


def _send(
    run: SyncRun,
    session: PacedSession,
    rules: Rules,
    kind: xero.DocumentKind,
    batch: list[SyncItem],
) -> None:
    uploads = [rules.upload(item.transaction) for item in batch]
    try:
        outcomes = batch_send(
            run,
            session.statuses,
            batch,
            uploads,
            lambda key: xero.documents_save(
                session, kind=kind, documents=uploads, idempotency_key=key
            ),
        )
    except xero.ValidationFailed as failure:
        # The whole request was refused (not one element): nothing was written.
        for item in batch:
            _outcome(item, SyncItem.State.FAILED, str(failure))
        return
    # Xero has answered: the batch's outcomes are saved together (one commit, not 50).
    with transaction.atomic():
        synced = []
        for item, outcome in zip(batch, outcomes, strict=False):
            if outcome.document is not None:
                synced.append((item, outcome.document))
            else:
                _refused_by_xero(item, outcome, rules)
        _synced(run.connection, synced)
        for item in batch[len(outcomes) :]:
            _outcome(item, SyncItem.State.FAILED, "Xero gave no answer for this transaction.")


def _refused_by_xero(item: SyncItem, outcome: xero.DocumentOutcome, rules: Rules) -> None:
    if any(ARCHIVED_IN_XERO in e for e in outcome.errors):
        # The contact was archived (or merged) in Xero since the check: the link is invalid
        # now, and the contact's other transactions are refused without being sent.
        _invalidate(item, rules)
        return
    _outcome(item, SyncItem.State.FAILED, xero.refused_message(outcome.errors))


def _invalidate(item: SyncItem, rules: Rules) -> None:
    txn = item.transaction
    link = rules.link(txn)
    if link is not None and link.is_valid:
        # Unlinked or relinked meanwhile: the refusal below reads the link afresh.
        with contextlib.suppress(LinkChanged, ContactLink.DoesNotExist):
            link_mark_invalid(link=link, reason=InvalidReason.ARCHIVED)
    rules.forget(txn.contact_id)
    refusal = rules.refusal(txn)
    message = refusal.message if refusal else f"{txn.contact.name} is archived in Xero."
    _outcome(item, SyncItem.State.REFUSED, message, refusal=SyncItem.Refusal.INVALID_LINK)


def _synced(connection: XeroConnection, found: list[tuple[SyncItem, xero.XeroDocument]]) -> None:
    """Mark these items and their transactions synced, as the documents Xero holds, and
    the payments that waited for them ready: a batch's 50 in a few statements, not 150.
    Xero's answer is kept as the local copy of its documents, so the webhook events their
    creation causes find them up to date and cost no call."""
    if not found:
        return
    now = timezone.now()
    for item, document in found:
        item.state, item.message, item.refusal = SyncItem.State.SYNCED, "", ""
        item.xero_id, item.xero_number = document.document_id, document.number
        item.updated_at = now
    transaction_ids = [item.transaction_id for item, _ in found]
    with transaction.atomic():
        _rows_update(
            SyncItem,
            ["xero_id", "xero_number", "state", "message", "refusal", "updated_at"],
            [item for item, _ in found],
        )
        # Each transaction takes its Xero ID and number from its item, in one UPDATE.
        own = SyncItem.objects.filter(
            pk__in=[item.pk for item, _ in found], transaction_id=OuterRef("pk")
        )
        Transaction.objects.filter(pk__in=transaction_ids).update(
            sync_state=SyncState.SYNCED,
            xero_id=Subquery(own.values("xero_id")[:1]),
            xero_number=Subquery(own.values("xero_number")[:1]),
            synced_at=now,
            last_error="",
        )
        payments.payments_document_synced(transaction_ids=transaction_ids)
        discrepancies.documents_keep(
            connection=connection, documents=[document for _, document in found]
        )


def _rows_update(model: type[Model], names: list[str], rows: list[Model]) -> None:
    """Save these fields of these rows in one executemany: what `bulk_update` does, without
    building a CASE of 50 branches per field (it costs more than the 50 UPDATEs it saves)."""
    db = connections_db[router.db_for_write(model)]
    fields: list[Field[Any, Any]] = []
    for name in names:
        field = model._meta.get_field(name)
        assert isinstance(field, Field)  # a column of the table, not a relation's other end
        fields.append(field)
    pk = model._meta.pk
    assert pk is not None
    quote = db.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        quote(model._meta.db_table),
        ", ".join(f"{quote(str(f.column))} = %s" for f in fields),
        quote(str(pk.column)),
    )
    values = [
        [f.get_db_prep_save(getattr(row, f.attname), db) for f in fields] + [row.pk] for row in rows
    ]
    with db.cursor() as cursor:
        cursor.executemany(sql, values)


_TRANSACTION_STATE = {
    SyncItem.State.FAILED: SyncState.FAILED,
    SyncItem.State.REFUSED: SyncState.REFUSED,
}


def _outcome(item: SyncItem, state: str, message: str, *, refusal: str = "") -> None:
    with transaction.atomic():
        item.state, item.message, item.refusal = state, message[:2000], refusal
        item.save()
        Transaction.objects.filter(pk=item.transaction_id).update(
            sync_state=_TRANSACTION_STATE[SyncItem.State(state)], last_error=message[:1000]
        )


# --- Outcomes that never came ------------------------------------------------------------------


def _reconcile(run: SyncRun, session: PacedSession, rules: Rules) -> None:
    """Look up in Xero, by number, every transaction of the organisation left "sending"
    (its answer was lost): found, it is synced; not found, it goes back in the queue (or
    fails, after MAX_ATTEMPTS)."""
    unknown = list(
        SyncItem.objects.filter(connection=run.connection, state=SyncItem.State.SENDING)
        .select_related("transaction__contact")
        .prefetch_related("transaction__lines")
        .order_by("pk")
    )
    for kind in xero.DocumentKind:
        items = [i for i in unknown if DOCUMENT_TYPES[i.transaction.type][0] == kind]
        for start in range(0, len(items), BATCH_SIZE):
            _reconcile_chunk(run, session, rules, kind, items[start : start + BATCH_SIZE])


def _sent_by_us(item: SyncItem, document: xero.XeroDocument, link: ContactLink | None) -> bool:
    """Whether a document Xero holds under the item's number is the one its lost call made.

    Sales documents and purchase orders have numbers unique in Xero: the number says it. A
    bill's or a supplier credit note's number is the supplier's and need not be unique, so
    it must also be the linked contact's, for Omni's total, changed since the call went.
    """
    txn = item.transaction
    if DOCUMENT_TYPES[txn.type][1] not in NON_UNIQUE_NUMBERS:
        return link is None or document.contact_id in (None, link.xero_contact_id)
    if link is None or document.contact_id != link.xero_contact_id:
        return False
    sent = (item.sent_at or timezone.now()) - timedelta(seconds=5)
    recent = document.updated_in_xero is None or document.updated_in_xero >= sent
    return recent and document.total == txn.totals.total


def _reconcile_chunk(
    run: SyncRun,
    session: PacedSession,
    rules: Rules,
    kind: xero.DocumentKind,
    items: list[SyncItem],
) -> None:
    numbers = [i.transaction.number for i in items]
    since = None
    if kind == xero.DocumentKind.PURCHASE_ORDER:
        sent = min(i.sent_at or timezone.now() for i in items)
        since = sent - timedelta(seconds=5)
        numbers = []
    found: dict[tuple[str, str], list[xero.XeroDocument]] = {}
    for page in xero.documents_pages(session, kind=kind, numbers=numbers, modified_since=since):
        for document in page:
            if document.status not in GONE:
                found.setdefault((document.type, document.number.casefold()), []).append(document)
    synced: list[tuple[SyncItem, xero.XeroDocument]] = []
    for item in items:
        txn = item.transaction
        doc_type = DOCUMENT_TYPES[txn.type][1] or "PO"
        link = rules.link(txn)
        candidates = [
            d
            for d in found.get((doc_type, txn.number.casefold()), [])
            if _sent_by_us(item, d, link)
        ]
        if candidates:
            synced.append((item, candidates[0]))
        elif item.attempts >= MAX_ATTEMPTS:
            _outcome(
                item,
                SyncItem.State.FAILED,
                f"Xero gave no answer {item.attempts} times, and has no document numbered "
                f"{txn.number}: it was not created. Reset it to try again.",
            )
        else:
            # Never created: it goes again, in this run (its own may have stopped).
            SyncItem.objects.filter(pk=item.pk, state=SyncItem.State.SENDING).update(
                state=SyncItem.State.QUEUED, run=run, updated_at=timezone.now()
            )
    _synced(run.connection, synced)


# --- Progress ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    run: SyncRun
    total: int
    synced: int
    refused: int
    failed: int
    skipped: int
    left: int
    seconds_left: float | None

    @property
    def done(self) -> int:
        return self.total - self.left

    @property
    def percent(self) -> int:
        return 100 if not self.total else math.floor(100 * self.done / self.total)


def runs_ended(connection: XeroConnection | None, ids: Sequence[int]) -> list[SyncRun]:
    """Those of these runs of the organisation that have ended, oldest first."""
    if connection is None or not ids:
        return []
    return list(
        SyncRun.objects.filter(connection=connection, pk__in=ids, state__in=jobs.FINISHED).order_by(
            "created_at", "pk"
        )
    )


def run_progress(run: SyncRun) -> Progress:
    counts: dict[str, int] = {}
    for items in (SyncItem.objects.filter(run=run), PaymentItem.objects.filter(run=run)):
        for state, n in items.values_list("state").annotate(n=Count("pk")).order_by():
            counts[state] = counts.get(state, 0) + n
    left = counts.get(SyncItem.State.QUEUED, 0) + counts.get(SyncItem.State.SENDING, 0)
    return Progress(
        run=run,
        total=sum(counts.values()),
        synced=counts.get(SyncItem.State.SYNCED, 0),
        refused=counts.get(SyncItem.State.REFUSED, 0),
        failed=counts.get(SyncItem.State.FAILED, 0),
        skipped=counts.get(SyncItem.State.SKIPPED, 0),
        left=left,
        seconds_left=_estimate(run, left) if run.is_active else None,
    )


def _estimate(run: SyncRun, left: int) -> float:
    """Seconds left, from the calls still needed and the quota Xero last reported: calls
    within this minute's quota go at once, the rest at Xero's per-minute limit."""
    calls = math.ceil(left / BATCH_SIZE)
    if run.state == SyncRun.State.WAITING and run.resume_at:
        wait = max(0.0, (run.resume_at - timezone.now()).total_seconds())
    else:
        wait = 0.0
    free = run.minute_remaining if run.minute_remaining is not None else calls
    over = max(0, calls - free)
    per_call = settings.XERO_RATE_WINDOW_SECONDS / settings.XERO_MINUTE_LIMIT
    return float(wait + over * per_call + calls * 0.5)


# --- Keeping runs going ------------------------------------------------------------------------


def autosyncs_start(now: datetime | None = None) -> int:
    """Start the automatic syncs that are due: the organisation's ready transactions of
    the types its settings choose."""
    now = now or timezone.now()
    started = 0
    for sync_settings in SyncSettings.objects.exclude(autosync="off").select_related("connection"):
        connection = sync_settings.connection
        if not sync_settings.autosync_due(now) or connection.status != "active":
            continue
        SyncSettings.objects.filter(pk=sync_settings.pk).update(autosync_last_at=now)
        chosen = sync_settings.autosync_type_values()
        ready = organisations.for_organisation(
            Transaction.objects.ready_to_sync(), connection
        ).filter(type__in=chosen)
        if ready.exists():  # nothing to send: no run, no email
            sync_start(connection=connection, transactions=ready, trigger=SyncRun.Trigger.SCHEDULE)
            started += 1
        if PAYMENTS in chosen:
            # Those whose document is in Xero by now: the others wait for a later run.
            run, _ = payments.payments_upload(
                connection=connection,
                payments=Payment.objects.filter(sync_state=PaymentState.READY),
                trigger=SyncRun.Trigger.SCHEDULE,
            )
            started += run is not None
    return started


def _email_failures(run: SyncRun) -> None:
    progress = run_progress(run)
    if not (progress.failed or progress.refused or run.state == SyncRun.State.STOPPED):
        return
    # The words and the link to the Errors view are the email templates'.
    context = {
        "run": run,
        "progress": progress,
        "not_sent": progress.failed + progress.refused,
        "site_url": settings.SITE_URL.rstrip("/"),
    }
    # The address chosen in the sync settings, else the admins.
    chosen = SyncSettings.for_connection(run.connection).autosync_alert_email
    recipients = (
        {chosen}
        if chosen
        else {
            *settings.ADMINS,
            *User.objects.filter(is_superuser=True, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True),
        }
    )
    if recipients:
        send_mail(
            render_to_string("sync/email/sync_problems_subject.txt", context).strip(),
            render_to_string("sync/email/sync_problems.txt", context).strip() + "\n",
            None,
            sorted(recipients),
        )
