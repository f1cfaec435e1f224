"""Measure the Xero contact mirror: a full and an incremental pull of 10,000 contacts, and search.

Runs against a fresh Xero sandbox (Xero's real rate limits on) and a throwaway SQLite
database; prints API calls, seconds and search latency. Usage:

    .venv/bin/python bench/contact_mirror.py [--contacts 10000] [--database-url URL]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import django_setup, sandbox_connect  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=200, help="changed before the 2nd pull")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    folder = django_setup("bench-mirror-", args.database_url)

    from sync.links import mirror
    from sync.models import XeroApiCall, XeroContact
    from tests.plugins.sandbox import start_sandbox, stop_sandbox

    server = start_sandbox(folder / "sandbox.json")  # Xero's own limits: 60/min, 5,000/day
    try:
        control, connection = sandbox_connect(server.url)

        started = time.monotonic()
        ids = control.generate_contacts(control.demo_tenant_id, args.contacts - 1)
        # All seeded contacts share one UpdatedDateUTC. If-Modified-Since has whole seconds and
        # includes its mark, so the newest contact must not share that second with all the
        # others, or every incremental pull would fetch them again (real Xero data is spread).
        control.advance_clock(2)
        control.seed_contacts(control.demo_tenant_id, [{"Name": "Bench Last Contact"}])
        print(
            f"seeded {len(ids) + 1:,} contacts in the sandbox in {time.monotonic() - started:.1f} s"
        )

        def pull(label: str, full: bool) -> None:
            calls_before = XeroApiCall.objects.count()
            started = time.monotonic()
            result = mirror.xero_contacts_refresh(connection=connection, full=full)
            seconds = time.monotonic() - started
            calls = XeroApiCall.objects.count() - calls_before
            print(
                f"{label:<12} {result.received:>6,} contacts  {calls:>2} API call(s)  "
                f"{seconds:6.2f} s"
            )

        pull("full pull", full=True)
        control.advance_clock(2)
        half = args.changes // 2
        control.seed_contacts(
            control.demo_tenant_id, [{"Name": f"Bench New Contact {n}"} for n in range(half)]
        )
        for contact_id in ids[:half]:
            control.archive(contact_id)
        pull("incremental", full=False)
        print(f"mirror holds {XeroContact.objects.filter(connection=connection).count():,} rows")

        names = list(
            XeroContact.objects.values_list("name", flat=True)[:: max(1, args.contacts // 50)]
        )
        terms = [n.split()[0][:5] for n in names] + ["ltd", "@", "zzz-no-match", "C10", "0"]
        timings = []
        for term in terms * 4:
            started = time.perf_counter()
            list(XeroContact.objects.filter(connection=connection).ranked_search(term)[:20])
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(
            f"search over {XeroContact.objects.count():,} mirrored contacts ({len(timings)} "
            f"searches, first 20 matches): median {statistics.median(timings):.1f} ms, "
            f"p95 {p95:.1f} ms, max {timings[-1]:.1f} ms; no Xero call"
        )
    finally:
        stop_sandbox(server)


if __name__ == "__main__":
    main()
