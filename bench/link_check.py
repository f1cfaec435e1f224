"""Measure the link check: 5 changed Xero contacts among 50,000 links, and a full check.

Fills a throwaway database (SQLite unless --database-url, which it empties first) with
50,000 Omni contacts, each linked to a Xero contact of the mirror, and checks every link once.
Then, --runs times, changes 5 Xero contacts as a refresh's page would bring them (archived,
or restored when archived before: the mirror's input, `contacts_mirrored`), and times the
check that follows (`links_check`, what every refresh, Check links and each sync runs after
the Xero call): p50/p95, its queries and the links it judged. Each changed contact is then
set back an hour, as if the next check came at the scheduler's next round (5 minutes on),
past the check's overlap. Peak memory (tracemalloc) is measured on a run of its own, and for
a full check (`full=True`, every link in chunks). Target: the check of 5 changed contacts
under 50 ms, with a query count and memory that do not grow with the links. Usage:

    .venv/bin/python bench/link_check.py [--links 50000] [--changed 5] [--runs 30]
        [--database-url postgres://postgres@127.0.0.1:5432/wt_linkcheck_bench]
"""

import argparse
import math
import os
import random
import statistics
import sys
import time
import tracemalloc
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import django_setup  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=50_000)
    parser.add_argument("--changed", type=int, default=5, help="Xero contacts changed a run")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    django_setup("bench-linkcheck-", args.database_url)

    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from contacts.models import Contact
    from sync import xero
    from sync.links import health, mirror
    from sync.models import ContactLink, LinkMethod, XeroConnection, XeroContact

    rng = random.Random(19)
    started = time.monotonic()
    connection = XeroConnection.objects.create(
        organisation_name="Bench Wholesale Ltd",
        tenant_id=uuid.uuid4(),
        contacts_refreshed_at=timezone.now(),
    )
    omni = Contact.objects.bulk_create(
        (
            Contact(omni_id=100_000 + n, name=f"Bench Contact {n}", is_customer=True)
            for n in range(args.links)
        ),
        batch_size=1000,
    )
    xero_ids = [uuid.uuid4() for _ in omni]
    XeroContact.objects.bulk_create(
        (
            XeroContact(connection=connection, contact_id=x, name=c.name)
            for c, x in zip(omni, xero_ids, strict=True)
        ),
        batch_size=1000,
    )
    ContactLink.objects.bulk_create(
        (
            ContactLink(
                contact=c,
                connection=connection,
                xero_contact_id=x,
                xero_name=c.name,
                method=LinkMethod.EXISTING,
            )
            for c, x in zip(omni, xero_ids, strict=True)
        ),
        batch_size=1000,
    )
    fill = time.monotonic() - started

    def aged() -> None:
        """As the next round of the scheduler sees it: mirrored well before the last check."""
        XeroContact.objects.filter(connection=connection).update(
            mirrored_at=timezone.now() - timedelta(hours=1)
        )

    started = time.perf_counter()
    with CaptureQueriesContext(db) as full_queries:
        full = health.links_check(connection=connection, full=True)
    full_seconds = time.perf_counter() - started
    tracemalloc.start()  # on a run of its own: tracing slows every allocation
    health.links_check(connection=connection, full=True)
    full_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    aged()
    if db.vendor == "postgresql":
        # As autovacuum would by the next round on a database in use: the fill, the two full
        # checks and the ageing left every link and mirror row with dead copies, and the
        # mirror's index on mirrored_at with entries for the fill's minute, which each
        # check's "stored since the last check" would otherwise step over.
        with db.cursor() as cursor:
            for table in ("sync_xerocontact", "sync_contactlink", "sync_xeroconnection"):
                cursor.execute(f"VACUUM ANALYZE {table}")

    archived: set[uuid.UUID] = set()

    def change() -> list[uuid.UUID]:
        """Archive (or restore) --changed Xero contacts, as a refresh's page brings them."""
        picked = rng.sample(xero_ids, args.changed)
        page = []
        for x in picked:
            restore = x in archived
            (archived.discard if restore else archived.add)(x)
            page.append(
                xero.XeroContactData(
                    contact_id=x,
                    name=f"Bench Contact {xero_ids.index(x)}",
                    status="ACTIVE" if restore else "ARCHIVED",
                    updated_in_xero=timezone.now(),
                )
            )
        mirror.contacts_mirrored(connection=connection, contacts=page)
        return picked

    timings, queries, judged, changes = [], [], [], []
    for _ in range(args.runs):
        picked = change()
        started = time.perf_counter()
        with CaptureQueriesContext(db) as captured:
            result = health.links_check(connection=connection)
        timings.append((time.perf_counter() - started) * 1000)
        queries.append(len(captured))
        judged.append(result.checked)
        changes.append(result.invalidated + result.revalidated)
        XeroContact.objects.filter(connection=connection, contact_id__in=picked).update(
            mirrored_at=timezone.now() - timedelta(hours=1)
        )

    change()
    tracemalloc.start()
    health.links_check(connection=connection)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    vendor = db.vendor
    load = os.getloadavg()[0]
    print(
        f"filled {vendor} in {fill:.1f} s: {args.links:,} links to {args.links:,} mirrored "
        f"Xero contacts; {os.cpu_count()} CPUs, load average {load:.1f}"
    )
    print(
        f"full check:        {full.checked:>6,} links judged  {len(full_queries):>4} queries  "
        f"{full_seconds * 1000:8.0f} ms  peak {full_peak / 1e6:5.1f} MB  (chunks of "
        f"{health.CHUNK})"
    )
    print(
        f"{args.changed} changed contacts: {statistics.median(judged):>6.0f} links judged  "
        f"{statistics.median(queries):>4.0f} queries  p50 {statistics.median(timings):5.1f} ms  "
        f"p95 {percentile(timings, 0.95):5.1f} ms  max {max(timings):5.1f} ms  "
        f"peak {peak / 1e6:5.2f} MB  over {args.runs} runs  target < 50 ms "
        f"{'ok' if percentile(timings, 0.95) < 50 else 'MISSED'}"
    )
    print(
        f"verdicts changed per run: {min(changes)} to {max(changes)} (each changed contact's "
        f"link: archived → invalid, restored → valid); queries per run "
        f"{min(queries)} to {max(queries)}; load average now {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
