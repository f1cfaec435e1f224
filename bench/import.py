"""Measure importing a Xero contacts export of 10,000 rows: time and peak memory.

A throwaway database (SQLite unless --database-url) gets an Omni account of 5,000 contacts
and a Xero connection whose mirror holds 10,000 Xero contacts. The export (CSV, or XLSX with
--xlsx) holds 10,000 rows in Xero's layout: half of them existing Omni contacts (by account
number), half new; 6,000 name exactly one Xero contact (linked), 500 name two (to review),
the rest none. It is started, previewed and confirmed as the dashboard does, timed step by
step. Peak memory is the process's largest resident size (what the operating system
counts; --trace adds Python's own peak allocation, which slows the import). Targets: under
30 s and 300 MB.

Usage:

    .venv/bin/python bench/import.py [--rows 10000] [--xlsx] [--database-url postgres://...]
"""

import argparse
import csv
import importlib
import io
import resource
import sys
import time
import tracemalloc
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 30.0
TARGET_MB = 300.0


def export_rows(rows: int) -> list[dict[str, str]]:
    """The Xero export: row n is Omni contact n when n is even (found by account number)."""
    return [
        {
            "*ContactName": f"Bench Trading {n} Ltd",
            "AccountNumber": f"B{n:06d}" if n % 2 == 0 else "",
            "EmailAddress": f"accounts{n}@bench{n}.example.nz",
            "FirstName": "Mere",
            "LastName": "Ngata",
            "POAddressLine1": f"PO Box {n}",
            "POCity": "Auckland",
            "POPostalCode": "1010",
            "POCountry": "New Zealand",
            "SAAddressLine1": f"{n} Queen Street",
            "SACity": "Auckland",
            "PhoneNumber": "09 555 0101",
            "TaxNumber": f"{100 + n % 900}-{n:06d}",
            "Website": "https://example.nz",
            "SkypeName": "",
        }
        for n in range(rows)
    ]


def make_file(rows: list[dict[str, str]], xlsx: bool) -> bytes:
    header = list(rows[0])
    if xlsx:
        import openpyxl

        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet("Contacts")
        sheet.append(header)
        for row in rows:
            sheet.append([row[c] for c in header])
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue()
    text = io.StringIO()
    writer = csv.DictWriter(text, header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode("utf-8-sig")


def fill(rows: int) -> object:
    from django.db import transaction
    from django.utils import timezone

    from contacts.models import Contact
    from sync.models import XeroConnection, XeroContact

    with transaction.atomic():
        Contact.objects.bulk_create(
            (
                Contact(name=f"Bench Trading {n}", account_number=f"B{n:06d}", is_customer=True)
                for n in range(0, rows, 2)
            ),
            batch_size=1000,
        )
        connection = XeroConnection.objects.create(
            organisation_name="Bench Wholesale Ltd",
            tenant_id=uuid.uuid4(),
            contacts_refreshed_at=timezone.now(),
        )
        linked, ambiguous = int(rows * 0.6), int(rows * 0.05)
        mirror = [
            XeroContact(
                connection=connection, contact_id=uuid.uuid4(), name=f"Bench Trading {n} Ltd"
            )
            for n in range(linked + ambiguous)
        ]
        mirror += [  # namesakes: these rows are for review
            XeroContact(
                connection=connection, contact_id=uuid.uuid4(), name=f"Bench Trading {n} Ltd"
            )
            for n in range(linked, linked + ambiguous)
        ]
        mirror += [
            XeroContact(connection=connection, contact_id=uuid.uuid4(), name=f"Elsewhere {n} Ltd")
            for n in range(rows - len(mirror))
        ]
        XeroContact.objects.bulk_create(mirror, batch_size=1000)
    return connection


def run(args: argparse.Namespace) -> None:
    from django.contrib.auth.models import User
    from django.db import connection as db

    from contacts.models import Contact
    from sync.imports import services as imports
    from sync.models import ContactLink, XeroContact

    connection = fill(args.rows)
    user = User.objects.create_user("bench-accountant")
    data = make_file(export_rows(args.rows), args.xlsx)
    kind = "XLSX" if args.xlsx else "CSV"
    print(
        f"{db.vendor}: {Contact.objects.count():,} Omni contacts, "
        f"{XeroContact.objects.count():,} mirrored Xero contacts; "
        f"a {kind} export of {args.rows:,} rows ({len(data) / 2**20:.1f} MB)"
    )
    if args.trace:
        tracemalloc.start()
    steps = []
    started = time.monotonic()
    begun = imports.contacts_import_start(
        user=user,
        connection=connection,  # type: ignore[arg-type]
        file_name=f"contacts.{kind.lower()}",
        data=data,
        customers=True,
        suppliers=False,
    )
    steps.append(("upload (read and check)", time.monotonic() - started))
    mark = time.monotonic()
    preview = imports.contacts_import_preview(token=begun.token, user=user)
    steps.append(("preview", time.monotonic() - mark))
    mark = time.monotonic()
    done = imports.contacts_import_confirm(token=begun.token, user=user)
    steps.append(("confirm (write and link)", time.monotonic() - mark))
    total = time.monotonic() - started
    _, python_peak = tracemalloc.get_traced_memory() if args.trace else (0, 0)
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for label, seconds in steps:
        print(f"  {label:<26} {seconds:6.1f} s")
    print(
        f"preview: {len(preview.new):,} new, {len(preview.updates):,} updates, "
        f"{preview.linking:,} to link; imported: {done.created_count:,} new, "
        f"{done.updated_count:,} updated, {done.linked_count:,} linked "
        f"({ContactLink.objects.filter(method='import').count():,} links), "
        f"{done.review_count:,} to review"
    )
    print(
        f"total {total:.1f} s (target < {TARGET_SECONDS:.0f} s) "
        f"{'ok' if total < TARGET_SECONDS else 'MISSED'}; "
        f"peak memory {rss_mb:.0f} MB resident (target < {TARGET_MB:.0f} MB) "
        f"{'ok' if rss_mb < TARGET_MB else 'MISSED'}"
        + (f"; Python allocated {python_peak / 2**20:.0f} MB at most" if args.trace else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--xlsx", action="store_true", help="an XLSX export instead of CSV")
    parser.add_argument("--database-url", default="", help="empty: a throwaway SQLite file")
    parser.add_argument(
        "--trace", action="store_true", help="also Python's peak allocation (tracemalloc; slower)"
    )
    args = parser.parse_args()
    dashboard = importlib.import_module("bench.dashboard")  # its account and set-up

    dashboard.setup_database(args.database_url, "bench-import-")
    run(args)


if __name__ == "__main__":
    main()
