"""Measure many organisations syncing at once: 200 of them, on 1, 2 and 4 task workers.

Each organisation in a fresh Xero sandbox (its limits on, the minute scaled: --scale 60
makes it one second) gets one linked customer and 20 to 2,000 ready transactions in a
long-tailed mix (most organisations small, a few big; --share scales every count down to
keep the run short). For each worker count, new transactions are queued for every
organisation at once (one sync each) and `manage.py db_worker` processes run them on
PostgreSQL, as the Procfile runs them.

Per worker count it prints: the time to sync everything against the floor Xero's limits
allow (the busiest organisation's ceil(writes / 60) minutes, or the app's 10,000 a minute
across all, whichever binds); 429s received (target 0); duplicates in the sandbox (target
0); how long the small organisations' runs (50 transactions or fewer) took from their start
(target: each within 2 minutes) and from being queued; the throughput, and its scaling from
1 to 4 workers; the machine's load average.

Usage:

    .venv/bin/python bench/many_orgs.py [--orgs 200] [--share 0.1] [--scale 60]
        [--workers 1,2,4] [--database-url postgres://postgres@127.0.0.1:5432/bench_many_orgs]
"""

import argparse
import math
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import REDIRECT_URI, django_setup  # noqa: E402

BATCH = 50
MINUTE_LIMIT = 60
APP_MINUTE_LIMIT = 10_000
SMALL = 50
# django-tasks-db's worker polls an empty queue every second (its default, the Procfile's).
POLL_INTERVAL = 1.0
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/bench_many_orgs"


def sizes(orgs: int, share: float) -> list[int]:
    """A long-tailed mix of 20 to 2,000 transactions (the same every run), scaled by share."""
    pick = random.Random(7)
    full = [min(2000, round(20 / (1 - pick.random()) ** 1.1)) for _ in range(orgs)]
    return [n if n <= SMALL else max(SMALL + 1, round(n * share)) for n in full]


def database_ensure(url: str) -> None:
    """Create the bench's PostgreSQL database if it is missing."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    import psycopg

    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as db:
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            db.execute(f'CREATE DATABASE "{name}"')


def organisations_connect(control: Any, count: int) -> list[Any]:
    """`count` new organisations in the sandbox, granted in one consent and each connected
    through omni-xero's own connect code; their connections."""
    from django.conf import settings

    from sync.connections.services import connection_connect, consent_complete
    from tests.plugins.sandbox import pkce_pair

    control.register_redirect_uri(REDIRECT_URI)
    settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET = control.client_id, control.client_secret
    settings.XERO_LOGIN_URL = settings.XERO_IDENTITY_URL = settings.XERO_API_URL = control.url
    tenants = [
        control.create_organisation(name=f"Bench Org {i + 1:03d}", tier="STANDARD")["tenantId"]
        for i in range(count)
    ]
    verifier, challenge = pkce_pair()
    location = control.authorize(
        redirect_uri=REDIRECT_URI, code_challenge=challenge, tenant_ids=tenants
    )
    code = parse_qs(urlsplit(location).query)["code"][0]
    granted = consent_complete(code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)
    return [connection_connect(tokens=granted.tokens, tenant=t, user=None) for t in granted.tenants]


def customers_link(control: Any, connections: list[Any]) -> list[Any]:
    """One Omni customer per organisation, linked there, trading through its own branch
    (made in bulk: the bench's set-up is not what it measures)."""
    from contacts.models import Contact
    from sync.models import BranchOrganisation, ContactLink, LinkMethod

    customers = Contact.objects.bulk_create(
        Contact(omni_id=400_000 + i, name=f"Bench Customer {i + 1:03d}", is_customer=True)
        for i in range(len(connections))
    )
    xero_ids = [
        control.seed_contacts(str(connection.tenant_id), [{"Name": contact.name}])[0]
        for connection, contact in zip(connections, customers, strict=True)
    ]
    ContactLink.objects.bulk_create(
        ContactLink(
            contact=contact,
            connection=connection,
            xero_contact_id=xero_id,
            xero_name=contact.name,
            method=LinkMethod.EXISTING,
        )
        for contact, connection, xero_id in zip(customers, connections, xero_ids, strict=True)
    )
    BranchOrganisation.objects.bulk_create(
        BranchOrganisation(branch=f"B{i + 1:03d}", connection=connection)
        for i, connection in enumerate(connections)
    )
    return customers


def transactions_add(customers: list[Any], counts: list[int], tag: str) -> None:
    """Each organisation's ready invoices, on the Omni branch mapped to it, in one bulk
    insert for all of them."""
    from bench.harness import sales_invoices

    rows, branches = [], []
    for i, (customer, count) in enumerate(zip(customers, counts, strict=True)):
        rows += [(customer, f"{tag}-{i + 1:03d}-{k + 1:04d}") for k in range(count)]
        branches += [f"B{i + 1:03d}"] * count
    sales_invoices(rows, branch=branches)


def workers_start(count: int, control_url: str, window: float) -> list[subprocess.Popen]:
    """`count` task workers, as the Procfile runs them, polling the queue as often against
    the scaled minute as the Procfile's do against Xero's; back once each has run a task
    (a booting worker is not what the rounds measure)."""
    from django_tasks_db.models import DBTaskResult

    from sync.models import Heartbeat
    from sync.monitoring.heartbeats import worker_beat_request

    env = {
        **os.environ,
        "XERO_USE_SANDBOX": "true",
        "XERO_SANDBOX_URL": control_url,
        "XERO_RATE_WINDOW_SECONDS": str(window),
        "XERO_MINUTE_LIMIT": str(MINUTE_LIMIT),
        "LOG_LEVEL": "WARNING",
    }
    interval = max(0.05, POLL_INTERVAL * window / 60)
    command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"]
    processes = [
        subprocess.Popen(
            [*command, "--interval", f"{interval:g}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    pids = {str(p.pid) for p in processes}
    deadline = time.monotonic() + 120
    while pids - {
        p.rsplit(":", 1)[-1] for p in Heartbeat.objects.values_list("process", flat=True)
    }:
        if time.monotonic() > deadline:
            workers_stop(processes)
            raise RuntimeError("the workers did not start in 2 minutes")
        worker_beat_request()  # whichever worker is up runs one and says so
        time.sleep(0.2)
    # Their beats' results go once every worker is idle (a row deleted under a running task
    # would make its worker fail).
    while DBTaskResult.objects.exclude(status__in=["SUCCESSFUL", "FAILED"]).exists():
        time.sleep(0.05)
    DBTaskResult.objects.all().delete()
    return processes


def workers_stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def round_run(
    control: Any, connections: list[Any], customers: list[Any], counts: list[int], workers: int
) -> dict[str, Any]:
    """Queue one sync per organisation, run them on `workers` workers; what came of it."""
    from django.db import transaction
    from django.db.models import Max
    from django_tasks_db.models import DBTaskResult

    from sync.models import SyncRun, XeroApiCall
    from sync.syncing import runs
    from transactions.models import Transaction

    tag = f"W{workers}"
    transactions_add(customers, counts, tag)
    DBTaskResult.objects.all().delete()
    first_call = XeroApiCall.objects.aggregate(last=Max("pk"))["last"] or 0
    window = float(control.call("GET", "/_sandbox/rate-limits")["scale"])
    window = 60.0 / window
    processes = workers_start(workers, control.url, window)
    time.sleep(window)  # earlier calls have left the window
    started = time.time()
    queued = {}
    with transaction.atomic():  # every organisation's sync queued at once
        for i, connection in enumerate(connections):
            run = runs.sync_start(
                connection=connection,
                transactions=Transaction.objects.ready_to_sync().filter(branch=f"B{i + 1:03d}"),
            )
            assert run is not None
            queued[run.pk] = counts[i]
    try:
        while SyncRun.objects.filter(pk__in=queued, state__in=["queued", "running", "waiting"]):
            time.sleep(0.1)
            if time.time() - started > 1800:
                raise RuntimeError("runs did not finish in 30 minutes")
        seconds = time.time() - started
        load = os.getloadavg()
    finally:
        workers_stop(processes)
    finished = {r.pk: r for r in SyncRun.objects.filter(pk__in=queued).select_related("connection")}
    calls = XeroApiCall.objects.filter(pk__gt=first_call)
    duplicates = 0
    for connection in connections:
        found = control.call("GET", f"/_sandbox/organisations/{connection.tenant_id}/invoices")
        held = Counter(d["InvoiceNumber"] for d in found if d["InvoiceNumber"].startswith(tag))
        duplicates += sum(n - 1 for n in held.values() if n > 1)
    small = [
        (r.started_at, r.finished_at)
        for pk, r in finished.items()
        if queued[pk] <= SMALL and r.started_at and r.finished_at
    ]
    own = [(end - start).total_seconds() for start, end in small]
    waited = [end.timestamp() - started for _, end in small]
    synced = Transaction.objects.filter(number__startswith=tag, sync_state="synced").count()
    return {
        "workers": workers,
        "seconds": seconds,
        "states": Counter(r.state for r in finished.values()),
        "synced": synced,
        "transactions": sum(counts),
        "calls": calls.count(),
        "429s": calls.filter(status=429).count(),
        "duplicates": duplicates,
        "small_own_max": max(own, default=0.0),
        "small_within": sum(1 for s in own if s <= 2 * window),
        "small": len(small),
        "small_done_max": max(waited, default=0.0),
        "load": load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=200)
    parser.add_argument(
        "--share", type=float, default=0.1, help="scale the counts above 50 down to this share"
    )
    parser.add_argument("--scale", type=float, default=60.0, help="the minute is 60/scale s")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    args = parser.parse_args()

    database_ensure(args.database_url)
    django_setup("bench-many-orgs-", args.database_url)
    from django.conf import settings
    from django_tasks_db.models import DBTaskResult

    from tests.plugins.sandbox import SandboxControl, start_sandbox, stop_sandbox

    window = 60.0 / args.scale
    counts = sizes(args.orgs, args.share)
    busiest = max(math.ceil(n / BATCH) for n in counts)
    writes = sum(math.ceil(n / BATCH) for n in counts)
    floor = max(math.ceil(busiest / MINUTE_LIMIT), math.ceil(writes / APP_MINUTE_LIMIT)) * window
    server = start_sandbox(None)  # state in memory: nothing to keep
    try:
        control = SandboxControl(server.url)
        settings.XERO_RATE_WINDOW_SECONDS, settings.XERO_MINUTE_LIMIT = window, MINUTE_LIMIT
        control.rate_limits(enabled=True, minute=MINUTE_LIMIT, scale=args.scale)
        connections = organisations_connect(control, args.orgs)
        customers = customers_link(control, connections)
        DBTaskResult.objects.all().delete()  # connecting's mirror refreshes: the runs do them
        print(
            f"{args.orgs} organisations, {sum(counts):,} transactions a round (smallest "
            f"{min(counts)}, median {sorted(counts)[len(counts) // 2]}, largest {max(counts)}; "
            f"{sum(1 for n in counts if n <= SMALL)} of {SMALL} or fewer); limits on, "
            f"{MINUTE_LIMIT} calls per {window:g} s minute; PostgreSQL; {os.cpu_count()} CPUs"
        )
        print(
            f"floor: {floor:g} s (busiest organisation {busiest} writes; {writes:,} writes "
            f"in all against the app's {APP_MINUTE_LIMIT:,} a minute)\n"
        )
        results = []
        for workers in (int(w) for w in args.workers.split(",")):
            result = round_run(control, connections, customers, counts, workers)
            results.append(result)
            r = result
            print(
                f"{workers} worker(s): {r['seconds']:.1f} s = {r['seconds'] / floor:.1f}x the "
                f"floor; {r['synced']:,}/{r['transactions']:,} synced "
                f"({r['transactions'] / r['seconds']:.0f}/s), runs {dict(r['states'])}; "
                f"{r['calls']:,} calls, 429s {r['429s']}, duplicates {r['duplicates']}"
            )
            print(
                f"  small organisations: {r['small_within']}/{r['small']} done within "
                f"{2 * window:g} s (2 minutes) of their start, longest {r['small_own_max']:.2f} s;"
                f" all done {r['small_done_max']:.1f} s after being queued"
            )
            print(f"  load average {' '.join(f'{x:.2f}' for x in r['load'])}")
        rates = {r["workers"]: r["transactions"] / r["seconds"] for r in results}
        if 1 in rates and 4 in rates:
            print(f"\nthroughput 1 -> 4 workers: {rates[4] / rates[1]:.2f}x")
    finally:
        stop_sandbox(server)


if __name__ == "__main__":
    main()
