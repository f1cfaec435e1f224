"""Measure the transaction sync: 5,000 transactions of 500 linked contacts, under Xero's limits.

Runs against a fresh Xero sandbox with its rate limits on: 60 calls a minute per
organisation (--scale N makes the minute N times shorter; at Xero's own minute the run takes
a little over one, as 5,000 transactions need 103 calls), and a throwaway SQLite database.
The sync is driven as the worker would drive it (`sync_run`, sleeping while the run waits
for Xero).

It prints API calls per transaction, duplicates in the sandbox, 429s received, and the run
time as a multiple of the floor Xero's limit allows for the fewest calls the job needs
(ceil(transactions / 50) writes, one link check, the two settings reads; not the calls it
made): with L calls per rolling window W, call number k cannot start before
floor((k - 1) / L) windows have passed, so C calls need at least floor((C - 1) / L) * W.
Targets: write calls at most 1.05 x ceil(transactions / 50); link-check calls (GET
Contacts) at most 1 + ceil(changed contacts / 1,000); run time within 1.15x the floor at
Xero's minute, 1.5x with the minute scaled shorter; no duplicates.

A payments run (unless --no-payments) uploads 5,000 payments of 2,000 synced invoices
(--payments, --paid-invoices), after the invoices are synced (not measured): write calls
(PUT Payments) at most 1.05 x ceil(payments / 50), no payment made twice in the sandbox,
and its run time against the floor of its fewest calls, as above.

A second run (unless --no-faults) syncs another 5,000 transactions with 10% of the calls
failing: 500s, timeouts and connections dropped after Xero committed. It must end with every
transaction synced exactly once, or failed with its message: nothing lost.

Usage:

    .venv/bin/python bench/sync_throughput.py [--transactions 5000] [--contacts 500]
        [--payments 5000] [--paid-invoices 2000] [--no-payments]
        [--scale 1] [--no-faults] [--database-url URL]
"""

import argparse
import math
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import django_setup, sales_invoices, sandbox_connect  # noqa: E402

BATCH = 50
MINUTE_LIMIT = 60
# A run reads the chart of accounts and the tax rates before it sends.
SETTINGS_READS = 2
# The run time's target, as a multiple of the floor: at Xero's own minute, and scaled (where
# each call's own time weighs more against a short minute).
TARGET = 1.15
TARGET_SCALED = 1.5
# The share of calls the run with faults makes fail.
FAULT_SHARE = 0.10
DOCUMENT_PATHS = (
    "/api.xro/2.0/Invoices",
    "/api.xro/2.0/CreditNotes",
    "/api.xro/2.0/PurchaseOrders",
)


def omni_data(control: Any, connection: Any, contacts: int, transactions: int, tag: str) -> int:
    """Omni contacts linked to new Xero contacts, and their transactions with one line each
    (reusing the contacts when they exist). Returns how many Xero contacts were made."""

    from contacts.models import Contact
    from sync.models import ContactLink, LinkMethod

    made = 0
    omni = list(Contact.objects.order_by("pk"))
    if not omni:
        omni = Contact.objects.bulk_create(
            Contact(omni_id=300_000 + i, name=f"Bench Customer {i + 1}", is_customer=True)
            for i in range(contacts)
        )
        ids = control.seed_contacts(str(connection.tenant_id), [{"Name": c.name} for c in omni])
        ContactLink.objects.bulk_create(
            ContactLink(
                contact=c,
                connection=connection,
                xero_contact_id=xero_id,
                xero_name=c.name,
                method=LinkMethod.EXISTING,
            )
            for c, xero_id in zip(omni, ids, strict=True)
        )
        made = len(ids)
    sales_invoices([(omni[i % len(omni)], f"{tag}-{i + 1:05d}") for i in range(transactions)])
    return made


def to_the_end(run: Any, started: float) -> tuple[Any, float]:
    """Go on with a run until it ends, as the worker would (sleeping while it waits)."""
    from django.utils import timezone

    from sync.syncing import runs

    while True:
        run = runs.sync_run(run=run)
        if not run.is_active:
            return run, time.monotonic() - started
        resume = run.resume_at or timezone.now()
        time.sleep(max(0.05, (resume - timezone.now()).total_seconds()))


def drive(connection: Any, tag: str) -> tuple[Any, float]:
    """Sync every ready transaction numbered with `tag`, to the end, as the worker would."""
    from sync.syncing import runs
    from transactions.models import Transaction

    started = time.monotonic()
    run = runs.sync_start(
        connection=connection,
        transactions=Transaction.objects.ready_to_sync().filter(number__startswith=tag),
    )
    assert run is not None, "nothing to sync"
    return to_the_end(run, started)


Call = tuple[str, str, int | None, int]  # method, endpoint, status, duration in ms


def calls_since(first_pk: int) -> list[Call]:
    from sync.models import XeroApiCall

    return list(
        XeroApiCall.objects.filter(pk__gt=first_pk)
        .order_by("pk")
        .values_list("method", "endpoint", "status", "duration_ms")
    )


def fewest_calls(transactions: int) -> int:
    """The calls the job cannot do without: its writes, one link check, the settings reads."""
    return math.ceil(transactions / BATCH) + 1 + SETTINGS_READS


def floor_of(calls: int, window: float) -> float:
    """The least time `calls` calls take under Xero's limit: with L calls per rolling window
    W, call number k cannot start before floor((k - 1) / L) windows have passed."""
    return math.floor((max(1, calls) - 1) / MINUTE_LIMIT) * window


def sandbox_counts(control: Any, tenant: str, tag: str) -> Counter[str]:
    documents = control.call("GET", f"/_sandbox/organisations/{tenant}/invoices")
    return Counter(d["InvoiceNumber"] for d in documents if d["InvoiceNumber"].startswith(tag))


def report(
    label: str,
    run: Any,
    seconds: float,
    calls: list[Call],
    held: Counter[str],
    *,
    transactions: int,
    changed: int,
    window: float,
    targets: bool,
) -> None:
    from sync.syncing import runs
    from transactions.models import Transaction

    progress = runs.run_progress(run)
    writes = sum(1 for m, e, *_ in calls if m == "POST" and e.startswith(DOCUMENT_PATHS))
    link_checks = sum(
        1 for m, e, *_ in calls if m == "GET" and e.startswith("/api.xro/2.0/Contacts")
    )
    refused_429 = sum(1 for _, _, status, _ in calls if status == 429)
    duplicates = sum(n - 1 for n in held.values() if n > 1)
    fewest = fewest_calls(transactions)
    floor = floor_of(fewest, window)
    target = TARGET if window >= 60 else TARGET_SCALED
    most_writes = 1.05 * math.ceil(transactions / BATCH)
    most_checks = 1 + math.ceil(changed / 1000)
    synced_numbers = set(
        Transaction.objects.filter(
            pk__in=run.items.values("transaction_id"), sync_state="synced"
        ).values_list("number", flat=True)
    )
    failed_without_message = run.items.filter(state="failed", message="").count()
    lost = transactions - progress.synced - progress.failed

    def verdict(ok: bool) -> str:
        return ("ok" if ok else "MISSED") if targets else ""

    print(f"\n{label} (sync {run.pk}: {run.state})")
    print(
        f"  outcome          {progress.synced} synced, {progress.failed} failed, "
        f"{progress.refused} refused, {progress.left} left, {lost} lost  "
        f"{verdict(lost == 0 and failed_without_message == 0)}"
    )
    print(
        f"  API calls        {len(calls)} = {len(calls) / transactions:.4f} per transaction "
        f"({writes} writes, {link_checks} link checks, {len(calls) - writes - link_checks} other)"
    )
    print(
        f"  writes           {writes}, target at most {most_writes:.0f}  "
        f"{verdict(writes <= most_writes)}"
    )
    print(
        f"  link checks      {link_checks}, target at most {most_checks}  "
        f"{verdict(link_checks <= most_checks)}"
    )
    print(f"  429 responses    {refused_429}")
    once = all(held.get(n) == 1 for n in synced_numbers)
    print(
        f"  duplicates       {duplicates} in the sandbox; every synced transaction held once: "
        f"{once}  {'ok' if duplicates == 0 and once else 'MISSED'}"
    )
    multiple = seconds / floor if floor else float("inf")
    print(
        f"  run time         {seconds:.1f} s; the floor for the {fewest} calls the job needs "
        f"({math.ceil(transactions / BATCH)} writes, 1 link check, {SETTINGS_READS} settings "
        f"reads) at {MINUTE_LIMIT} per {window:g} s: {floor:.1f} s; {multiple:.2f}x the floor, "
        f"target {target:g}x  {verdict(multiple <= target)}"
    )


def omni_payments(connection: Any, invoices: int, payments: int) -> None:
    """Synced invoices (numbered PAY-) and `payments` payments of 1.00 spread over them."""
    from datetime import date
    from decimal import Decimal

    from contacts.models import Contact
    from transactions.models import Payment, Transaction

    omni = list(Contact.objects.order_by("pk"))
    sales_invoices([(omni[i % len(omni)], f"PAY-{i + 1:05d}") for i in range(invoices)])
    run, _ = drive(connection, "PAY")
    assert run.state == "done", run.detail
    paid = list(Transaction.objects.filter(number__startswith="PAY", sync_state="synced"))
    Payment.objects.bulk_create(
        Payment(
            transaction=paid[i % len(paid)],
            date=date.today(),
            amount=Decimal("1.00"),
            reference=f"Bench {i + 1}",
            sync_state="ready",
        )
        for i in range(payments)
    )


def drive_payments(connection: Any) -> tuple[Any, float]:
    """Upload every ready payment, to the end, as the worker would."""
    from sync.syncing.payments import payments_upload
    from transactions.models import Payment

    started = time.monotonic()
    run, _ = payments_upload(
        connection=connection, payments=Payment.objects.filter(sync_state="ready")
    )
    assert run is not None, "nothing to upload"
    return to_the_end(run, started)


def report_payments(
    run: Any, seconds: float, calls: list[Call], held: Counter[str], *, payments: int, window: float
) -> None:
    from sync.syncing import runs

    progress = runs.run_progress(run)
    writes = sum(1 for m, e, *_ in calls if m == "PUT" and e.startswith("/api.xro/2.0/Payments"))
    duplicates = sum(n - 1 for n in held.values() if n > 1)
    most_writes = 1.05 * math.ceil(payments / BATCH)
    fewest = fewest_calls(payments)
    floor = floor_of(fewest, window)
    target = TARGET if window >= 60 else TARGET_SCALED
    multiple = seconds / floor if floor else float("inf")

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    print(f"\npayments run (sync {run.pk}: {run.state})")
    print(
        f"  outcome          {progress.synced} synced, {progress.failed} failed, "
        f"{progress.refused} refused, {progress.left} left  {verdict(progress.synced == payments)}"
    )
    print(f"  API calls        {len(calls)} ({writes} writes, {len(calls) - writes} other)")
    print(
        f"  writes           {writes}, target at most {most_writes:.0f}  "
        f"{verdict(writes <= most_writes)}"
    )
    print(f"  429 responses    {sum(1 for _, _, status, _ in calls if status == 429)}")
    print(
        f"  duplicates       {duplicates} in the sandbox, {len(held)} payments held  "
        f"{verdict(duplicates == 0 and len(held) == payments)}"
    )
    print(
        f"  run time         {seconds:.1f} s; the floor for the {fewest} calls the job needs at "
        f"{MINUTE_LIMIT} per {window:g} s: {floor:.1f} s; {multiple:.2f}x the floor, target "
        f"{target:g}x  {verdict(multiple <= target)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=5000)
    parser.add_argument("--contacts", type=int, default=500)
    parser.add_argument("--scale", type=float, default=1.0, help="the minute is 60/scale s")
    parser.add_argument("--payments", type=int, default=5000)
    parser.add_argument("--paid-invoices", type=int, default=2000)
    parser.add_argument("--no-payments", action="store_true", help="skip the payments run")
    parser.add_argument("--no-faults", action="store_true", help="skip the run with faults")
    parser.add_argument("--database-url", default="", help="empty: a throwaway SQLite file")
    args = parser.parse_args()

    django_setup("bench-sync-", args.database_url)
    from django.conf import settings
    from django_tasks_db.models import DBTaskResult

    from sync.models import XeroApiCall
    from tests.plugins.sandbox import start_sandbox, stop_sandbox

    window = 60.0 / args.scale
    server = start_sandbox(None)  # state in memory: nothing to keep
    try:
        control, connection = sandbox_connect(server.url)
        tenant = str(connection.tenant_id)
        control.rate_limits(
            enabled=True, minute=MINUTE_LIMIT, scale=args.scale, reset_counters=True
        )
        settings.XERO_RATE_WINDOW_SECONDS = window
        settings.XERO_MINUTE_LIMIT = MINUTE_LIMIT
        changed = omni_data(control, connection, args.contacts, args.transactions, "BENCH")
        print(
            f"sandbox limits on: {MINUTE_LIMIT} calls per {window:g} s window (scale "
            f"{args.scale:g}); {args.transactions:,} transactions of {args.contacts} linked "
            "contacts"
        )
        # The first run of the connection pulls the contacts again, as after connecting.
        # Connecting queued a refresh of the mirror for a worker; none runs here, and a task
        # left waiting would have the run hand its turn back to it every TIME_SLICE.
        DBTaskResult.objects.all().delete()
        time.sleep(window)  # connecting's calls have left the window
        first = XeroApiCall.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        run, seconds = drive(connection, "BENCH")
        report(
            "clean run",
            run,
            seconds,
            calls_since(first),
            sandbox_counts(control, tenant, "BENCH"),
            transactions=args.transactions,
            changed=changed,
            window=window,
            targets=True,
        )
        if not args.no_payments:
            from sync.models import SyncSettings

            # Payments go on approved invoices, into the bank account.
            SyncSettings.objects.filter(connection=connection).update(
                document_status="AUTHORISED", payment_account_code="090"
            )
            omni_payments(connection, args.paid_invoices, args.payments)
            time.sleep(window)
            first = XeroApiCall.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            run, seconds = drive_payments(connection)
            made = control.call("GET", f"/_sandbox/organisations/{tenant}/payments")
            report_payments(
                run,
                seconds,
                calls_since(first),
                Counter(p["Reference"] for p in made if p["Reference"].startswith("Bench")),
                payments=args.payments,
                window=window,
            )
        if args.no_faults:
            return
        omni_data(control, connection, args.contacts, args.transactions, "FAULT")
        settings.XERO_TIMEOUT = 2.0
        # Three kinds, each a third of the 10%. The sandbox tries its rules in turn, each
        # on the calls the ones before it spared: the k-th (from 0) takes its third of
        # what is left.
        kinds: list[dict[str, Any]] = [
            {"status": 500},
            {"kind": "hang", "seconds": 3},
            {"kind": "drop_after_commit"},
        ]
        each = FAULT_SHARE / len(kinds)
        for k, fault in enumerate(kinds):
            control.fault(**fault, share=each / (1 - k * each), path="/api.xro/2.0/")
        time.sleep(window)
        first = XeroApiCall.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        run, seconds = drive(connection, "FAULT")
        control.clear_faults()
        calls = calls_since(first)
        failed_calls = sum(1 for _, _, status, _ in calls if status is None or status >= 500)
        report(
            f"with faults ({FAULT_SHARE:.0%} of calls asked to fail; {failed_calls} of "
            f"{len(calls)} did: {failed_calls / max(1, len(calls)):.1%})",
            run,
            seconds,
            calls,
            sandbox_counts(control, tenant, "FAULT"),
            transactions=args.transactions,
            changed=0,
            window=window,
            targets=False,
        )
    finally:
        stop_sandbox(server)


if __name__ == "__main__":
    main()
