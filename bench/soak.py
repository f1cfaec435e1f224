"""Soak the production shape: syncs and uploads going on for --minutes while Xero fails a
tenth of the calls, a task worker is killed every minute and PostgreSQL's connections are
cut once; then check that nothing was lost, doubled or left stuck.

It starts what `make serve` starts (bench/production.py: serve.py's preparation, gunicorn,
WORKERS task workers, the scheduler, the Xero sandbox with Xero's rate limits), each process
on its own so that one task worker can be killed, on free loopback ports and against its own
PostgreSQL database (postgres://postgres@127.0.0.1:5432/bench_soak, made afresh), with
XERO_TIMEOUT=5 s. It connects the sandbox's demo organisation and links 200 customers, then:

- the sandbox fails about 10% of the API calls (xero_sandbox/faults.py through its control
  API): a third answer 500, a third hang for 8 s (past the timeout), a third are dropped
  after Xero committed them (the answer lost);
- every 30 s, 500 new transactions of the linked customers are synced (`sync_start`, queued
  for the workers as the dashboard's Sync does), and every 30 s 10 new customers are
  uploaded (`contacts_upload`: the first batch here, the rest in the workers);
- every minute a task worker is killed with SIGKILL and started again: the one running a
  sync or an upload, if one is (its log's last task line says so), else the next in turn;
- half-way through, every PostgreSQL connection to the database is terminated
  (`pg_terminate_backend`), the web's, the workers', the scheduler's and the bench's own.

Then the faults stop and it waits (--drain minutes, by default a job's lease and two more:
a killed worker's job is taken over once its lease has run out) for every job to end, and
checks: every transaction synced exactly once in the sandbox (no document number twice) or
failed with its message; every uploaded contact created at most once; the links made before
and their audit rows intact, and every link made since audited; no job stuck (active with no
live worker: `sync.jobs.job_alive`); which processes died on their own. It prints the
counts, and the load average.

Usage:

    .venv/bin/python bench/soak.py [--minutes 10] [--drain 12] [--workers 2]
        [--database-url postgres://postgres@127.0.0.1:5432/bench_soak]
"""

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.production import Production, load_average  # noqa: E402

LINKED = 200
SYNC_EVERY, SYNC_SIZE = 30, 500
UPLOAD_EVERY, UPLOAD_SIZE = 30, 10
KILL_EVERY = 60
FAULTS = (
    {"status": 500},
    {"kind": "hang", "seconds": 8},
    {"kind": "drop_after_commit"},
)
FAULT_SHARE = 0.035  # each kind; together about 10% of the calls


def build(production: Production) -> tuple[Any, Any, list[Any]]:
    """The demo organisation connected, and LINKED customers linked to its contacts."""
    from bench.harness import sandbox_connect
    from contacts.models import Contact
    from sync.links.services import LinkWanted, contacts_link_many
    from sync.models import ContactLink, LinkMethod, XeroContact
    from tests.plugins.sandbox import DEMO_TENANT_ID, SandboxControl

    control = SandboxControl(production.sandbox_url)
    names = [f"Soak Customer {n:03d}" for n in range(1, LINKED + 1)]
    control.seed_contacts(DEMO_TENANT_ID, [{"Name": n} for n in names])
    control, connection = sandbox_connect(production.sandbox_url)
    mirrored = XeroContact.objects.filter(connection=connection, name__in=names)
    production.wait_until(lambda: mirrored.count() == LINKED, "the mirror's first pull")
    omni = Contact.objects.bulk_create(
        Contact(omni_id=600_000 + n, name=name, is_customer=True) for n, name in enumerate(names)
    )
    xero_ids = dict(mirrored.values_list("name", "contact_id"))
    refused = contacts_link_many(
        wanted=[LinkWanted(c, xero_ids[c.name], c.name) for c in omni],
        connection=connection,
        method=LinkMethod.EXISTING,
        user=None,
    )
    assert not refused, refused
    assert ContactLink.objects.filter(connection=connection).count() == LINKED
    return control, connection, omni


def new_transactions(customers: list[Any], round_: int) -> list[Any]:
    from bench.harness import sales_invoices

    return sales_invoices(
        [
            (customers[(round_ * SYNC_SIZE + n) % len(customers)], f"SOAK-{round_:03d}-{n:03d}")
            for n in range(SYNC_SIZE)
        ]
    )


def busy_worker(production: Production) -> str:
    """The task worker whose last task line says it is running a sync or an upload."""
    for name in production.processes:
        if not name.startswith("worker."):
            continue
        lines = (production.folder / f"{name}.log").read_text(errors="replace").splitlines()
        tasks = [line for line in lines if '"logger": "django.tasks"' in line]
        if tasks and "state=RUNNING" in tasks[-1] and "_continue" in tasks[-1]:
            return name
    return ""


def cut_connections(database_url: str) -> int:
    """Terminate every other connection to the database: how many were cut."""
    from django.db import connection as ours

    name = ours.settings_dict["NAME"]
    with psycopg.connect(database_url, autocommit=True) as db:
        cut = db.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchone()
    ours.close()  # the bench's own was cut too
    return int(cut[0]) if cut else 0


def soak(production: Production, connection: Any, customers: list[Any], minutes: float) -> dict:
    from django.db import close_old_connections

    from contacts.models import Contact
    from sync.syncing import runs
    from sync.uploads.services import contacts_upload

    done = Counter[str]()
    started = time.monotonic()
    until = started + minutes * 60
    next_sync = next_upload = started
    next_kill = started + KILL_EVERY
    cut_at = started + minutes * 30
    killed = 0
    while (now := time.monotonic()) < until:
        production.check()
        close_old_connections()
        try:
            if now >= next_sync:
                txns = new_transactions(customers, done["syncs"])
                runs.sync_start(connection=connection, transactions=txns)
                done["syncs"] += 1
                next_sync = now + SYNC_EVERY
            if now >= next_upload:
                round_ = done["uploads"]
                fresh = Contact.objects.bulk_create(
                    Contact(
                        omni_id=700_000 + round_ * UPLOAD_SIZE + n,
                        name=f"Soak Upload {round_:03d}-{n:02d}",
                        is_customer=True,
                    )
                    for n in range(UPLOAD_SIZE)
                )
                next_upload = now + UPLOAD_EVERY
                done["uploads"] += 1
                contacts_upload(connection=connection, contacts=fresh, user=None)
        except Exception as error:  # the bench's own request failed (a fault, the cut)
            done[f"bench's own call failed: {type(error).__name__}"] += 1
            from django.db import connection as ours

            ours.close()
        if now >= next_kill:
            name = busy_worker(production) or f"worker.{killed % production.workers + 1}"
            production.kill(name)
            killed += 1
            next_kill = now + KILL_EVERY
            print(f"  {(now - started) / 60:4.1f} min: killed {name} (SIGKILL), started again")
        if cut_at and now >= cut_at:
            cut = cut_connections(production.database_url)
            print(f"  {(now - started) / 60:4.1f} min: cut {cut} PostgreSQL connections")
            done["connections cut"] = cut
            cut_at = 0
        time.sleep(1)
    done["workers killed"] = killed
    return dict(done)


def active_jobs() -> dict[str, int]:
    from sync import jobs

    return {
        kind: model._default_manager.filter(state__in=jobs.ACTIVE).count()
        for kind, model in jobs.registered_models().items()
    }


def drain(production: Production, minutes: float) -> float:
    """Wait for every job to end; the minutes it took."""
    from django.db import close_old_connections

    started = time.monotonic()
    deadline = started + minutes * 60
    shown = 0.0
    while time.monotonic() < deadline:
        production.check()
        close_old_connections()
        active = {kind: n for kind, n in active_jobs().items() if n}
        if not active:
            break
        if time.monotonic() - shown > 60:
            print(f"  draining, still active: {active}")
            shown = time.monotonic()
        time.sleep(2)
    return (time.monotonic() - started) / 60


def check(
    control: Any, connection: Any, links_before: dict[int, str], events_before: int, since: Any
) -> bool:
    """Every promise kept: print the counts, and whether all held."""
    from django.db.models import Q
    from django_tasks_db.models import DBTaskResult

    from sync import jobs
    from sync.models import ContactLink, LinkEvent, SyncItem, UploadRow, XeroApiCall
    from transactions.models import SyncState, Transaction

    tenant = str(connection.tenant_id)
    ok = True

    def line(label: str, text: str, held: bool | None = None) -> None:
        nonlocal ok
        ok &= held is not False
        verdict = "" if held is None else ("  ok" if held else "  MISSED")
        print(f"  {label:<22}{text}{verdict}")

    print("\nchecks")
    held = Counter(
        d["InvoiceNumber"]
        for d in control.call("GET", f"/_sandbox/organisations/{tenant}/invoices")
        if d["InvoiceNumber"].startswith("SOAK-")
    )
    soaked = Transaction.objects.filter(number__startswith="SOAK-")
    states = Counter(soaked.values_list("sync_state", flat=True))
    synced = set(soaked.filter(sync_state=SyncState.SYNCED).values_list("number", flat=True))
    failed_items = SyncItem.objects.filter(
        transaction__number__startswith="SOAK-", state=SyncItem.State.FAILED
    )
    failed = set(failed_items.exclude(message="").values_list("transaction__number", flat=True))
    silent = failed_items.filter(message="").count()
    twice = sum(n - 1 for n in held.values() if n > 1)
    once = sum(1 for n in synced if held.get(n) == 1)
    unmarked = sum(1 for n in held if n not in synced)
    lost = [
        number
        for number in soaked.values_list("number", flat=True)
        if not (number in synced and held.get(number) == 1) and number not in failed
    ]
    calls = XeroApiCall.objects.filter(at__gte=since)
    failing = calls.filter(Q(status__isnull=True) | Q(status__gte=500)).count()
    line("Xero calls", f"{calls.count()} while soaking, {failing} failed (500, timeout, drop)")
    line("transactions", f"{soaked.count()}: {dict(states)}")
    line("in Xero", f"{len(held)} numbers, {twice} held twice or more", twice == 0)
    line("synced exactly once", f"{once} of {len(synced)} synced", once == len(synced))
    line("in Xero, not synced", f"{unmarked}", unmarked == 0)
    line(
        "failed with a message", f"{len(failed - synced)}; {silent} failed without one", silent == 0
    )
    line("neither (lost)", f"{len(lost)} {lost[:5]}", not lost)

    contacts = control.call("GET", f"/_sandbox/organisations/{tenant}/contacts")
    names = Counter(c["Name"] for c in contacts if c["Name"].startswith("Soak Upload"))
    rows = UploadRow.objects.filter(contact__name__startswith="Soak Upload")
    row_states = Counter(rows.values_list("state", flat=True))
    pending = rows.filter(state__in=UploadRow.PENDING).count()
    silent_rows = rows.filter(state=UploadRow.State.FAILED, message="").count()
    doubled = sum(n - 1 for n in names.values() if n > 1)
    line("uploads", f"{rows.count()} rows: {dict(row_states)}")
    line("uploaded contacts", f"{len(names)} in Xero, {doubled} created twice", doubled == 0)
    line(
        "upload rows",
        f"{pending} still pending, {silent_rows} failed silently",
        not (pending or silent_rows),
    )

    links = dict(
        ContactLink.objects.filter(connection=connection).values_list(
            "contact_id", "xero_contact_id"
        )
    )
    kept = sum(1 for pk, xero_id in links_before.items() if str(links.get(pk)) == xero_id)
    line("links made before", f"{kept} of {len(links_before)} intact", kept == len(links_before))
    audited = set(LinkEvent.objects.values_list("contact_id", flat=True))
    unaudited = [pk for pk in links if pk not in audited]
    events = LinkEvent.objects.count()
    line(
        "audit",
        f"{events} link events ({events_before} before); {len(unaudited)} links without one",
        events >= events_before and not unaudited,
    )

    stuck = 0
    for kind, model in jobs.registered_models().items():
        counts = Counter(model._default_manager.values_list("state", flat=True))
        dead = [
            job.pk
            for job in model._default_manager.filter(state__in=jobs.ACTIVE)
            if not jobs.job_alive(job)
        ]
        stuck += len(dead)
        line(f"jobs: {kind}", f"{dict(counts)}; stuck {dead}", not dead)
    tasks = Counter(DBTaskResult.objects.values_list("status", flat=True))
    line("tasks", f"{dict(tasks)} (a killed worker's task stays RUNNING; its job is resumed)")
    return ok and not stuck


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--drain", type=float, default=0, help="0: a job's lease + 2 minutes")
    parser.add_argument("--workers", type=int, default=2, help="task workers")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_soak")
    args = parser.parse_args()
    production = Production(args.database_url, workers=args.workers, XERO_TIMEOUT="5")
    try:
        production.start()
        from django.utils import timezone

        from sync.models import ContactLink, LinkEvent, SyncRun

        control, connection, customers = build(production)
        links_before = {
            pk: str(xero_id)
            for pk, xero_id in ContactLink.objects.values_list("contact_id", "xero_contact_id")
        }
        events_before = LinkEvent.objects.count()
        since = timezone.now()
        for fault in FAULTS:
            control.fault(**fault, share=FAULT_SHARE, path="/api.xro/2.0/")
        print(
            f"soak for {args.minutes:g} min: 10% of Xero calls failing, a worker killed every "
            f"{KILL_EVERY} s, the database's connections cut once; {load_average()}"
        )
        done = soak(production, connection, customers, args.minutes)
        control.clear_faults()
        print(f"done: {done}; {load_average()}")
        lease = SyncRun.LEASE.total_seconds() / 60
        took = drain(production, args.drain or lease + 2)
        print(f"drained in {took:.1f} min; {load_average()}")
        held = check(control, connection, links_before, events_before, since)
        died = production.exits
        print(f"  {'processes that died':<22}{died or 'none'}{'  ok' if not died else '  MISSED'}")
        print(f"\n{'every check held' if held and not died else 'SOME CHECKS MISSED'}")
    finally:
        production.stop()


if __name__ == "__main__":
    main()
