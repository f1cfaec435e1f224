"""Measure match suggestions for a page of 50 unlinked contacts over a mirror of 10,000 Xero
contacts: time and queries, alone and as part of the subtab page that shows them.

It fills the same big account as bench/dashboard.py (throwaway SQLite unless
--database-url), then times `sync.links.suggestions.suggestions_for` on pages of 50 unlinked
customers and suppliers (median of --runs), counting its queries and the candidates it
scored. Target: under 50 ms a page, in a number of queries that does not grow with the rows.

Usage:

    .venv/bin/python bench/suggestions.py [--contacts 10000] [--runs 15]
"""

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MS = 50.0


def run(args: argparse.Namespace) -> None:
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    dashboard = importlib.import_module("bench.dashboard")  # its account and set-up
    from sync.links import suggestions as matching
    from sync.models import SyncContact, XeroConnection

    filled = dashboard.fill(contacts=args.contacts, transactions=args.contacts, links=args.links)
    connection = XeroConnection.objects.get()
    print(
        f"{db.vendor}: {filled.contacts:,} contacts, {filled.xero_contacts:,} mirrored Xero "
        f"contacts, {filled.links:,} links; median of {args.runs} runs"
    )
    for tab in ("sales", "purchases"):
        unlinked = SyncContact.objects.for_tab(tab).unlinked(connection).order_by("name", "pk")
        for offset in (0, unlinked.count() // 2):
            contacts = list(unlinked[offset : offset + 50])
            times = []
            for _ in range(args.runs + 2):
                started = time.perf_counter()
                found = matching.suggestions_for(connection=connection, contacts=contacts)
                times.append((time.perf_counter() - started) * 1000)
            with CaptureQueriesContext(db) as queries:
                matching.suggestions_for(connection=connection, contacts=contacts)
            median = statistics.median(times[2:])
            with_any = sum(1 for pk in found if found[pk])
            unambiguous = sum(1 for s in found.values() if any(x.unambiguous for x in s))
            print(
                f"  {tab:<9} rows {offset:>5}-{offset + len(contacts):<5} "
                f"{len(queries)} queries, {with_any:>2} with suggestions "
                f"({unambiguous} unambiguous): {median:6.1f} ms  (target < {TARGET_MS:.0f} ms) "
                f"{'ok' if median < TARGET_MS else 'MISSED'}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--links", type=int, default=3_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database-url", default="", help="empty: a throwaway SQLite file")
    args = parser.parse_args()
    dashboard = importlib.import_module("bench.dashboard")  # its account and set-up

    dashboard.setup_database(args.database_url, "bench-suggestions-")
    run(args)


if __name__ == "__main__":
    main()
