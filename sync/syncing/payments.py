"""Omni's payments to Xero: which can go, what each becomes, and sending them exactly once.

A payment goes against its document in Xero (an invoice or a bill is paid, a credit note
refunded) into the payment account chosen on the Admin tab, in the same sync runs as the
documents (sync.syncing.runs: one run per organisation, its lease, the shared quota), after
them: batches of up to 50 in one PUT each (`summarizeErrors=false`, so Xero says per payment
why it refuses one: a document voided or paid in full since, an amount over what is due),
each attempt with its own Idempotency-Key. One whose answer was lost is looked up in Xero by
its document and its reference (which carries the payment's Omni id) before it is sent again.

A payment whose document is not in Xero yet waits, and says so; it is ready once the document
is synced, and Upload all ready takes it.
"""

from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from sync import jobs, xero
from sync.models import (
    Actor,
    ChartAccount,
    PaymentItem,
    SyncItem,
    SyncRun,
    SyncSettings,
    XeroConnection,
)
from sync.syncing import discrepancies, organisations
from sync.syncing.batches import BATCH_SIZE, MAX_ATTEMPTS, batch_send
from sync.syncing.refusals import DOCUMENT_TYPES
from transactions.models import Payment, PaymentState, SyncState, Transaction

NO_ACCOUNT = "Choose the payment account on the Admin tab first: payments go into it in Xero."


def payment_account_problem(*, connection: XeroConnection, code: str) -> str:
    """Why Xero would refuse payments into this account (empty: it would not). The one rule,
    asked by the Admin tab's settings form and by every upload."""
    if not code:
        return NO_ACCOUNT
    chart = ChartAccount.objects.filter(connection=connection)
    account = chart.filter(code=code).first()
    if account is None:
        fetched = chart.exists()
        return f"Account code {code!r} is not in the organisation's chart of accounts" + (
            "." if fetched else ": fetch the accounts and tax rates from Xero first."
        )
    if not account.is_active:
        return f"Account {account} is archived in Xero: choose an active account."
    if not account.accepts_payments:
        return (
            f"Account {account} does not accept payments in Xero: choose a bank account, "
            "or one with “Enable payments to this account” ticked in Xero (then fetch the "
            "accounts again)."
        )
    return ""


def waiting_reason(payment: Payment) -> str:
    """Why the payment cannot go yet: its document is not in Xero (empty: it is)."""
    txn = payment.transaction
    if txn.sync_state == SyncState.SYNCED and txn.xero_id is not None:
        return ""
    return (
        f"Waiting for {txn.get_type_display().lower()} {txn.number} to sync: the payment "
        "goes once it is in Xero."
    )


def xero_reference(payment: Payment) -> str:
    """The Reference a payment goes to Xero with: Omni's, and its Omni id, by which a lost
    answer's payment is found again."""
    return f"{payment.reference} (Omni {payment.pk})".strip()[:255]


class PaymentRules:
    """What one organisation's payments go with, read once for a run: the account."""

    def __init__(self, connection: XeroConnection):
        self.connection = connection
        self.account_code = SyncSettings.for_connection(connection).payment_account_code
        self.account_problem = payment_account_problem(
            connection=connection, code=self.account_code
        )

    def upload(self, payment: Payment) -> xero.PaymentUpload:
        txn = payment.transaction
        assert txn.xero_id is not None  # waiting_reason() came first
        return xero.PaymentUpload(
            document_kind=DOCUMENT_TYPES[txn.type][0],
            document_id=txn.xero_id,
            account_code=self.account_code,
            date=payment.date,
            amount=payment.amount,
            reference=xero_reference(payment),
        )


# --- Starting an upload ------------------------------------------------------------------------


def payments_of_organisation[T: QuerySet[Payment]](
    payments: T, connection: XeroConnection | None
) -> T:
    """The payments whose transaction is the organisation's (every one when none is)."""
    if connection is None:
        return payments
    return payments.filter(
        transaction__in=organisations.for_organisation(Transaction.objects.all(), connection)
    )


def payments_upload(
    *,
    connection: XeroConnection,
    payments: QuerySet[Payment],
    user: Actor | None = None,
    trigger: str = SyncRun.Trigger.DASHBOARD,
) -> tuple[SyncRun | None, int]:
    """Queue these payments for Xero (those synced already are left out, as are another
    organisation's and those in another run); those whose document is not in Xero wait, and
    say so. Returns the run (None: nothing to send) and how many wait."""
    wanted = payments_of_organisation(payments, connection).exclude(sync_state=PaymentState.SYNCED)
    waiting = wanted.exclude(transaction__sync_state=SyncState.SYNCED)
    for payment in waiting.select_related("transaction"):
        Payment.objects.filter(pk=payment.pk).update(
            sync_state=PaymentState.WAITING, last_error=waiting_reason(payment)
        )
    waited = waiting.count()
    ids = list(wanted.filter(transaction__sync_state=SyncState.SYNCED).values_list("pk", flat=True))
    if not ids:
        return None, waited
    with transaction.atomic():
        run = SyncRun.objects.create(
            connection=connection,
            created_by=user if user is not None and user.is_authenticated else None,
            trigger=trigger,
        )
        PaymentItem.objects.bulk_create(
            [PaymentItem(run=run, connection=connection, payment_id=pk) for pk in ids],
            ignore_conflicts=True,  # in another run already: that one sends it
            batch_size=500,
        )
        lost = PaymentItem.objects.filter(connection=connection, state=SyncItem.State.SENDING)
        if not run.payment_items.exists() and not lost.exists():
            # Every one is in another run, and no lost answer is left to look up (a run
            # does that first): this one would do nothing.
            run.delete()
            return None, waited
    jobs.job_queue(run)
    return run, waited


def payments_document_synced(*, transaction_ids: Iterable[int]) -> None:
    """Documents reached Xero: the payments that waited for them are ready (one UPDATE)."""
    Payment.objects.filter(
        transaction_id__in=list(transaction_ids), sync_state=PaymentState.WAITING
    ).update(sync_state=PaymentState.READY, last_error="", updated_at=timezone.now())


def payments_not_sent(*, run: SyncRun, reason: str) -> None:
    """A run stopped: its payments not sent yet stay as they were, saying why."""
    message = f"Not sent: {reason} It is still ready to upload."
    pending = PaymentItem.objects.filter(run=run, state=SyncItem.State.QUEUED)
    Payment.objects.filter(pk__in=pending.values("payment_id")).update(last_error=message[:1000])
    pending.update(state=SyncItem.State.SKIPPED, message=message[:2000])


# --- Sending -----------------------------------------------------------------------------------


def payments_next_batch(run: SyncRun, rules: PaymentRules) -> list[PaymentItem]:
    """Up to BATCH_SIZE of the run's queued payments that can go; those that cannot (their
    document not in Xero, no payment account) are settled on the way, without a call."""
    batch: list[PaymentItem] = []
    while len(batch) < BATCH_SIZE:
        items = list(
            PaymentItem.objects.filter(run=run, state=SyncItem.State.QUEUED)
            .exclude(pk__in=[i.pk for i in batch])
            .select_related("payment__transaction")
            .order_by("pk")[: BATCH_SIZE - len(batch)]
        )
        if not items:
            break
        for item in items:
            waiting = waiting_reason(item.payment)
            if waiting:
                _outcome(item, SyncItem.State.SKIPPED, waiting, PaymentState.WAITING)
            elif rules.account_problem:
                _outcome(item, SyncItem.State.REFUSED, rules.account_problem)
            else:
                batch.append(item)
    return batch


def payments_send(
    run: SyncRun,
    session: xero.Session,
    rules: PaymentRules,
    batch: list[PaymentItem],
    *,
    statuses: list[int | None],
) -> None:
    """One PUT of the batch; each payment's own answer kept. `statuses`: the session's
    answers so far (a run's PacedSession records them)."""
    uploads = [rules.upload(item.payment) for item in batch]
    try:
        outcomes = batch_send(
            run,
            statuses,
            batch,
            uploads,
            lambda key: xero.payments_save(session, payments=uploads, idempotency_key=key),
        )
    except xero.ValidationFailed as failure:
        for item in batch:
            _outcome(item, SyncItem.State.FAILED, str(failure))
        return
    with transaction.atomic():
        for item, outcome in zip(batch, outcomes, strict=False):
            if outcome.payment is not None:
                _synced(item, outcome.payment)
            else:
                # Xero's own reason, per payment: the document voided or paid in full in
                # Xero since it was synced, an amount over what is due.
                _outcome(item, SyncItem.State.REFUSED, xero.refused_message(outcome.errors))
        for item in batch[len(outcomes) :]:
            _outcome(item, SyncItem.State.FAILED, "Xero gave no answer for this payment.")
        # What the documents look like now (paid in full, what is still due), as Xero said.
        paid = {
            o.payment.document.document_id: o.payment.document
            for o in outcomes
            if o.payment and o.payment.document
        }
        discrepancies.documents_keep(connection=run.connection, documents=list(paid.values()))


def _synced(item: PaymentItem, found: xero.XeroPayment) -> None:
    with transaction.atomic():
        PaymentItem.objects.filter(pk=item.pk).update(
            state=SyncItem.State.SYNCED, message="", xero_id=found.payment_id
        )
        Payment.objects.filter(pk=item.payment_id).update(
            sync_state=PaymentState.SYNCED,
            xero_id=found.payment_id,
            synced_at=timezone.now(),
            last_error="",
        )
    item.state = SyncItem.State.SYNCED


_PAYMENT_STATE = {
    SyncItem.State.FAILED: PaymentState.FAILED,
    SyncItem.State.REFUSED: PaymentState.REFUSED,
}


def _outcome(item: PaymentItem, state: str, message: str, payment_state: str = "") -> None:
    with transaction.atomic():
        item.state, item.message = state, message[:2000]
        item.save(update_fields=["state", "message"])
        Payment.objects.filter(pk=item.payment_id).update(
            sync_state=payment_state or _PAYMENT_STATE[SyncItem.State(state)],
            last_error=message[:1000],
        )


# --- Answers that never came -------------------------------------------------------------------


def payments_reconcile(run: SyncRun, session: xero.Session) -> None:
    """Look up in Xero every payment of the organisation left "sending" (its answer was
    lost), by its document and its reference, among the payments changed since it was sent:
    found, it is synced; not found, it goes back in the queue (or fails after MAX_ATTEMPTS)."""
    unknown = list(
        PaymentItem.objects.filter(connection=run.connection, state=SyncItem.State.SENDING)
        .select_related("payment__transaction")
        .order_by("pk")
    )
    if not unknown:
        return
    sent = min(item.sent_at or timezone.now() for item in unknown)
    by_key: dict[tuple[object, str], xero.XeroPayment] = {}
    for page in xero.payments_pages(session, modified_since=sent - timedelta(seconds=5)):
        for payment in page:
            if payment.status != "DELETED":
                by_key.setdefault((payment.document_id, payment.reference), payment)
    _settle_lost(run, unknown, by_key)


def _settle_lost(
    run: SyncRun,
    items: Iterable[PaymentItem],
    found: dict[tuple[object, str], xero.XeroPayment],
) -> None:
    for item in items:
        payment = item.payment
        match = found.get((payment.transaction.xero_id, xero_reference(payment)))
        if match is not None:
            _synced(item, match)
        elif item.attempts >= MAX_ATTEMPTS:
            _outcome(
                item,
                SyncItem.State.FAILED,
                f"Xero gave no answer {item.attempts} times, and holds no payment on "
                f"{payment.transaction.number} with its reference: it was not made. Upload "
                "it again.",
            )
        else:
            # Never made: it goes again, in this run (its own may have stopped).
            PaymentItem.objects.filter(pk=item.pk, state=SyncItem.State.SENDING).update(
                state=SyncItem.State.QUEUED, run=run
            )
