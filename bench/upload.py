"""Measure Upload: 500 Omni contacts created in Xero under Xero's rate limits, then again.

Runs against a fresh Xero sandbox with Xero's real limits (60 calls a minute, 5,000 a day)
and a throwaway SQLite database. The sandbox first gets 50 contacts of its own, 10 of which
share a name or an email address with an Omni contact: the duplicate guard must turn those
into "duplicate" rows and create nothing. `contacts_upload` sends the first batch of 50; the
bench then drives the rest as the worker's task would (`upload_job_run`, waiting out any
rate limit the job reports). Targets: at most one write per 50 contacts plus one mirror
refresh, no duplicate created in Xero, and a second upload of the same contacts sending
nothing (its linked contacts are skipped; the twins are checked again, which costs one
incremental mirror refresh and no write). --database-url names an existing database, which
the bench empties first.

Usage:

    .venv/bin/python bench/upload.py [--contacts 500] [--existing 50] [--shared 10]
        [--database-url postgres://postgres@127.0.0.1:5432/wt_bench]

Sample output (SQLite, 2 cores):

    sandbox rate limits on: 60 calls a minute, 5,000 a day, 5 at once
    500 Omni contacts; Xero has 50 of its own,
      10 of them sharing a name or email address with an Omni contact

    first upload (job 1: done)
      rows             490 done, 10 duplicate, 0 failed, 0 skipped
      writes            10  PUT or POST /Contacts, target at most 10  ok
      mirror refresh     1  GET /Contacts,  target at most 1   ok
      elapsed            4.1 s, 0 rate-limit waits; 11 calls at 60 a minute need 11 s: 0.37x that
      duplicates         0 made in Xero (same name), 0 (same email); 10 of 10 twins held back  ok

    second upload, nothing changed (job 2: done)
      rows               0 done, 10 duplicate, 0 failed, 490 skipped
      writes             0  PUT or POST /Contacts, target at most 0   ok
      mirror refresh     1  GET /Contacts,  target at most 1   ok
      elapsed            0.8 s, 0 rate-limit waits; 1 call at 60 a minute need 1 s: 0.78x that
"""

import argparse
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import django_setup, sandbox_connect  # noqa: E402

BATCH = 50
MINUTE_LIMIT = 60
PLACES = ["Kauri", "Tui", "Manuka", "Otago", "Raglan", "Nelson", "Taupo", "Moana", "Napier"]
TRADES = ["Cafe", "Books", "Cycles", "Florist", "Hardware", "Organics", "Cellars", "Freight"]


@dataclass
class Outcome:
    seconds: float
    rows: Counter[str]
    writes: int
    contact_reads: int
    other_calls: int
    waits: int

    @property
    def calls(self) -> int:
        return self.writes + self.contact_reads + self.other_calls


def omni_contacts(n: int) -> list[Any]:
    from contacts.models import Contact

    return Contact.objects.bulk_create(
        Contact(
            omni_id=200_000 + i,
            name=f"{PLACES[i % len(PLACES)]} {TRADES[i // len(PLACES) % len(TRADES)]} {i + 1}",
            first_name="Mere",
            last_name="Ngata",
            email=f"accounts{i + 1}@omni-bench.example.nz",
            account_number=f"C{i + 1:05d}",
            postal_line1=f"PO Box {100 + i}",
            postal_city="Auckland",
            postal_country="New Zealand",
            is_customer=True,
            is_supplier=i % 7 == 0,
        )
        for i in range(n)
    )


def existing_contacts(omni: list[Any], existing: int, shared: int) -> list[dict[str, str]]:
    """Xero's own contacts: `shared` of them match an Omni contact, half by name (with
    another email address), half by email address (under another name)."""
    step = max(1, len(omni) // max(1, shared))
    twins = omni[::step][:shared]
    bodies = []
    for n, contact in enumerate(twins):
        if n % 2 == 0:
            bodies.append({"Name": contact.name, "EmailAddress": f"office{n}@elsewhere.example"})
        else:
            bodies.append({"Name": f"Accounts Dept {n}", "EmailAddress": contact.email})
    bodies += [
        {"Name": f"Xero Only Customer {n}", "EmailAddress": f"xero{n}@example.com"}
        for n in range(existing - len(bodies))
    ]
    return bodies


def upload(connection: Any, contacts: list[Any]) -> tuple[Any, Outcome]:
    """One upload of the contacts, driven to its end; what it cost."""
    from django.contrib.auth.models import AnonymousUser
    from django.utils import timezone

    from sync.models import UploadJob, XeroApiCall
    from sync.uploads.services import contacts_upload, upload_job_run

    last_call = XeroApiCall.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    started = time.monotonic()
    waits = 0
    # No one signed in: the job has no creator, as with user=None (which Actor's type omits).
    job = contacts_upload(connection=connection, contacts=contacts, user=AnonymousUser())
    while job.state not in (UploadJob.State.DONE, UploadJob.State.STOPPED):
        if job.state == UploadJob.State.WAITING and job.resume_at is not None:
            waits += 1
            time.sleep(max(0.0, (job.resume_at - timezone.now()).total_seconds()))
        job = upload_job_run(job=job)
    seconds = time.monotonic() - started
    calls = list(XeroApiCall.objects.filter(pk__gt=last_call).values_list("method", "endpoint"))

    writes = sum(1 for m, e in calls if m in ("POST", "PUT") and _to_contacts(e))
    reads = sum(1 for m, e in calls if m == "GET" and _to_contacts(e))
    return job, Outcome(
        seconds=seconds,
        rows=Counter(job.rows.values_list("state", flat=True)),
        writes=writes,
        contact_reads=reads,
        other_calls=len(calls) - writes - reads,
        waits=waits,
    )


def _to_contacts(endpoint: str) -> bool:
    return endpoint.split("?")[0].endswith("/api.xro/2.0/Contacts")


def sandbox_duplicates(control: Any, tenant: str) -> tuple[int, int]:
    """Active contacts in the sandbox that share a name, and that share an email address."""
    contacts = [
        c
        for c in control.call("GET", f"/_sandbox/organisations/{tenant}/contacts")
        if c.get("ContactStatus", "ACTIVE") == "ACTIVE"
    ]
    names = Counter(" ".join(c["Name"].casefold().split()) for c in contacts)
    emails = Counter(
        c["EmailAddress"].strip().casefold() for c in contacts if c.get("EmailAddress")
    )
    return (
        sum(n - 1 for n in names.values() if n > 1),
        sum(n - 1 for n in emails.values() if n > 1),
    )


def report(label: str, outcome: Outcome, contacts: int, *, first: bool) -> None:
    rows = outcome.rows
    most = math.ceil(contacts / BATCH) if first else 0
    # The least time the calls take at Xero's sustained rate (a burst within one minute's
    # allowance can beat it: the limit is a count per rolling minute).
    sustained = outcome.calls * 60 / MINUTE_LIMIT
    left = rows["queued"] + rows["sending"]
    print(f"\n{label}")
    print(
        f"  rows            {rows['done']:>4} done, {rows['duplicate']} duplicate, "
        f"{rows['failed']} failed, {rows['skipped']} skipped" + (f", {left} left" if left else "")
    )
    print(
        f"  writes          {outcome.writes:>4}  PUT or POST /Contacts, target at most {most:<2}  "
        f"{'ok' if outcome.writes <= most else 'MISSED'}"
    )
    print(
        f"  mirror refresh  {outcome.contact_reads:>4}  GET /Contacts,  target at most 1   "
        f"{'ok' if outcome.contact_reads <= 1 else 'MISSED'}"
    )
    if outcome.other_calls:
        print(f"  other calls     {outcome.other_calls:>4}")
    print(
        f"  elapsed         {outcome.seconds:>6.1f} s, {outcome.waits} rate-limit waits; "
        f"{outcome.calls} call{'s' if outcome.calls != 1 else ''} at {MINUTE_LIMIT} a minute "
        f"need {sustained:.0f} s: {outcome.seconds / sustained if sustained else 0:.2f}x that"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=500)
    parser.add_argument("--existing", type=int, default=50, help="contacts Xero has already")
    parser.add_argument("--shared", type=int, default=10, help="of those, twins of Omni's")
    parser.add_argument("--database-url", default="", help="empty: a throwaway SQLite file")
    args = parser.parse_args()

    folder = django_setup("bench-upload-", args.database_url)

    from sync.models import UploadRow
    from tests.plugins.sandbox import start_sandbox, stop_sandbox

    server = start_sandbox(folder / "sandbox.json")  # Xero's own limits: 60/min, 5,000/day
    try:
        control, connection = sandbox_connect(server.url)
        limits = control.call("GET", "/_sandbox/rate-limits")
        tenant = str(connection.tenant_id)

        omni = omni_contacts(args.contacts)
        bodies = existing_contacts(omni, args.existing, args.shared)
        control.seed_contacts(tenant, bodies)
        twins = {b["Name"] for b in bodies} | {b["EmailAddress"] for b in bodies}
        expected = {c.pk for c in omni if c.name in twins or c.email in twins}
        names_before, emails_before = sandbox_duplicates(control, tenant)
        day = limits["day"] or next(
            o["day_limit"]
            for o in control.call("GET", "/_sandbox/organisations")
            if o["tenantId"] == tenant
        )
        on = "on" if limits["enabled"] else "OFF"
        print(
            f"sandbox rate limits {on}: {limits['minute']} calls a minute, {day:,} a day, "
            f"{limits['concurrent']} at once\n"
            f"{len(omni)} Omni contacts; Xero has {len(bodies)} of its own,\n"
            f"  {len(expected)} of them sharing a name or email address with an Omni contact"
        )

        job, first = upload(connection, omni)
        report(f"first upload (job {job.pk}: {job.state})", first, len(omni), first=True)
        guarded = set(
            job.rows.filter(state=UploadRow.State.DUPLICATE).values_list("contact_id", flat=True)
        )
        names_after, emails_after = sandbox_duplicates(control, tenant)
        made = (names_after - names_before, emails_after - emails_before)
        verdict = "ok" if made == (0, 0) and guarded == expected else "MISSED"
        print(
            f"  duplicates      {made[0]:>4} made in Xero (same name), {made[1]} (same email); "
            f"{len(guarded & expected)} of {len(expected)} twins held back  {verdict}"
        )

        job, second = upload(connection, omni)
        report(
            f"second upload, nothing changed (job {job.pk}: {job.state})",
            second,
            len(omni),
            first=False,
        )
    finally:
        stop_sandbox(server)


if __name__ == "__main__":
    main()
