"""Measure every dashboard page: the Customers and Suppliers tabs with each filter and sort
order, each transaction subtab and state, Errors, Discrepancies, the live-changes poll,
suggestions, and a row's own Link and Unlink (from the click to the row swapped in).

Fills a throwaway database (SQLite unless --database-url) with a big Omni account at one of
two sizes: --size small, 10,000 contacts, 50,000 transactions with their lines, 3,000 links;
--size large, 50,000 contacts, 250,000 transactions, 50,000 links (a tenth invalid); a Xero
connection with as many mirrored Xero contacts as contacts, Xero's copy of every synced
transaction's document (one in twenty voided, paid or edited since) and a few upload rows.
Rows go in 5,000 at a time (about 4 minutes for the large size on a busy 2-core machine).
Then, signed in through Django's test client, it times each page in the server (p50 and p95
of --runs after two warm-ups, with the load average beside each page and each table) and
counts its queries. Targets: a page's p95 under 150 ms, a suggestion's under 50 ms, and a
query count that does not grow with the rows on the page (a search matching a few contacts
against one matching a full page; page 2 or 100 against the first). --database-url names an
existing database, which the bench empties first.

Usage:

    .venv/bin/python bench/dashboard.py [--size small|large] [--contacts N]
        [--transactions N] [--links N] [--runs 20]
        [--database-url postgres://postgres@127.0.0.1:5432/wt_bench]

The numbers of the last runs are in the commit that changed them.
"""

import argparse
import logging
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGE_TARGET_MS = 150.0
BATCH = 5_000  # rows a bulk insert sends at once: few round trips, memory bounded
SIZES = {  # contacts, transactions, links
    "small": (10_000, 50_000, 3_000),
    "large": (50_000, 250_000, 50_000),
}
SUGGEST_TARGET_MS = 50.0
NEAR = 0.75  # pages this close to their target also show their slowest query
CUSTOMERS = "/accounting/xero/sales/customers/"
SUPPLIERS = "/accounting/xero/purchases/suppliers/"
INVOICES = "/accounting/xero/sales/invoices/"

PLACES = [
    "Aroha", "Bayview", "Kauri", "Harbourside", "Pohutukawa", "Riverbend", "Southern Alps",
    "Tui", "Waitemata", "Coastal", "Manuka", "Ponsonby", "Otago", "Seaside", "Ruapehu",
    "Summit", "Greenlane", "Taupo", "Northshore", "Moana", "Queenstown", "Hillcrest",
    "Nelson", "Fernleaf", "Raglan", "Marlborough", "Coromandel", "Mt Eden", "Waikato",
    "Wellington", "Rotorua", "Napier", "Hamilton", "Dunedin", "Gisborne", "Kapiti",
    "Whanganui", "Tasman", "Canterbury", "Fiordland",
]  # fmt: skip
TRADES = [
    "Gift Store", "Cafe", "Outfitters", "Deli", "Pharmacy", "Garden Centre", "Sports",
    "Books", "Wine Bar", "Homewares", "Health Shop", "Paper Co", "Dairy", "Surf Shop",
    "Bakehouse", "Ski Hire", "Cycles", "Florist", "Trading Post", "Pet Supplies",
    "Fish Market", "Hardware", "Organics", "Cellars", "Crafts", "Music", "Farm Supplies",
    "Wool Co", "Packaging", "Freight",
]  # fmt: skip
SUFFIXES = ["Ltd", "Limited", "Co", "& Sons", "Group", ""]
FIRST_NAMES = ["Aroha", "James", "Mere", "Liam", "Olivia", "Tama", "Sophie", "Wiremu", "Emma"]
LAST_NAMES = ["Ngata", "Smith", "Wilson", "Tane", "Brown", "Smithers", "Parata", "King", "Rangi"]


# --- Filling the database ------------------------------------------------------------------------


@dataclass
class Filled:
    contacts: int
    customers: int
    suppliers: int
    transactions: int
    lines: int
    xero_contacts: int
    links: int
    invalid_links: int
    upload_rows: int
    documents: int
    seconds: float


def _name(rng: random.Random, n: int) -> tuple[str, str, str]:
    """A company name (place, trade, suffix), and the place and trade it was made of."""
    place, trade = PLACES[n % len(PLACES)], rng.choice(TRADES)
    return f"{place} {trade} {rng.choice(SUFFIXES)}".strip(), place, trade


def fill(*, contacts: int, transactions: int, links: int, seed: int = 11) -> Filled:
    from django.db import connections, transaction
    from django.utils import timezone

    from contacts.models import Contact
    from sync.models import XeroConnection

    started = time.monotonic()
    rng = random.Random(seed)
    with transaction.atomic():
        omni = Contact.objects.bulk_create(
            (_omni_contact(rng, n) for n in range(contacts)), batch_size=1000
        )
        txns, lines = _fill_transactions(rng, omni, transactions)
        connection = XeroConnection.objects.create(
            organisation_name="Bench Wholesale Ltd",
            tenant_id=uuid.uuid4(),
            contacts_refreshed_at=timezone.now(),
            minute_remaining=59,
            day_remaining=4_900,
        )
        xero_contacts, invalid = _fill_links(rng, connection, omni, links, contacts)
        upload_rows = _fill_uploads(connection)
        documents = _fill_documents(rng, connection)
    # A database in use has planner statistics; a freshly filled one has none until
    # autovacuum comes by, and PostgreSQL then plans every join for a handful of rows.
    with connections["default"].cursor() as cursor:
        # VACUUM too on PostgreSQL: its index-only scans need the visibility map it writes.
        cursor.execute(
            "VACUUM ANALYZE" if connections["default"].vendor == "postgresql" else "ANALYZE"
        )
    return Filled(
        contacts=len(omni),
        customers=sum(c.is_customer for c in omni),
        suppliers=sum(c.is_supplier for c in omni),
        transactions=txns,
        lines=lines,
        xero_contacts=xero_contacts,
        links=links,
        invalid_links=invalid,
        upload_rows=upload_rows,
        documents=documents,
        seconds=time.monotonic() - started,
    )


def _omni_contact(rng: random.Random, n: int) -> Any:
    from contacts.models import Contact

    name, _, _ = _name(rng, n)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    role = rng.random()  # three in four customers, one in five suppliers, the rest both
    return Contact(
        omni_id=100_000 + n,
        name=name,
        first_name=first,
        last_name=last,
        email=f"{first.lower()}.{n}@{re.sub(r'[^a-z]', '', name.lower())[:16]}.example.nz",
        phone=f"09 {rng.randint(200, 999)} {rng.randint(1000, 9999)}",
        account_number=f"{'C' if role < 0.75 else 'S'}{n:06d}",
        tax_number=f"{rng.randint(10, 139)}-{rng.randint(100, 999)}-{rng.randint(100, 999)}",
        postal_line1=f"PO Box {rng.randint(100, 9999)}",
        postal_city="Auckland",
        postal_country="New Zealand",
        is_customer=role < 0.75 or role >= 0.95,
        is_supplier=role >= 0.75,
    )


def _fill_transactions(rng: random.Random, omni: list[Any], count: int) -> tuple[int, int]:
    from sync.demo import PREFIXES
    from transactions.models import LineItem, SyncState, Transaction, TransactionType
    from transactions.taxes import TaxType

    sales = [TransactionType.SALES_INVOICE] * 5 + [TransactionType.SALES_CREDIT_NOTE]
    purchases = [TransactionType.SUPPLIER_INVOICE] * 3 + [
        TransactionType.PURCHASE_ORDER,
        TransactionType.SUPPLIER_CREDIT_NOTE,
    ]
    numbers = dict.fromkeys(TransactionType, 0)
    # Most contacts have something to sync; about a third have nothing at all.
    active = [c for c in omni if rng.random() < 0.65] or omni
    total_lines = 0
    for start in range(0, count, BATCH):
        txns: list[Transaction] = []
        pending: list[list[LineItem]] = []
        for _ in range(min(BATCH, count - start)):
            contact = rng.choice(active)
            kind = rng.choice(sales if contact.is_customer else purchases)
            numbers[kind] += 1
            day = date.today() - timedelta(days=rng.randint(0, 365))
            # ready, synced, failed, refused, skipped
            state = rng.choices(list(SyncState), weights=[66, 20, 6, 6, 2])[0]
            txns.append(
                Transaction(
                    contact=contact,
                    type=kind,
                    number=f"{PREFIXES[kind]}{numbers[kind]:06d}",
                    reference=f"Omni order {rng.randint(10_000, 99_999)}",
                    date=day,
                    due_date=day + timedelta(days=20),
                    sync_state=state,
                    xero_id=uuid.uuid4() if state == SyncState.SYNCED else None,
                    last_error="Xero refused it: account code 999 is not valid."
                    if state == SyncState.FAILED
                    else "",
                )
            )
            tax = TaxType.OUTPUT2 if contact.is_customer else TaxType.INPUT2
            pending.append(
                [
                    LineItem(
                        position=p,
                        description=f"Item {rng.randint(1, 400)}",
                        quantity=Decimal(rng.randint(1, 12)),
                        unit_price=Decimal(rng.randint(100, 50_000)) / 100,
                        account_code="200" if contact.is_customer else "310",
                        tax_type=tax,
                    )
                    for p in range(rng.randint(1, 3))
                ]
            )
        Transaction.objects.bulk_create(txns, batch_size=BATCH)
        for txn, lines in zip(txns, pending, strict=True):
            for line in lines:
                line.transaction = txn
        total_lines += len(
            LineItem.objects.bulk_create(
                (line for lines in pending for line in lines), batch_size=BATCH
            )
        )
    return count, total_lines


def _fill_links(
    rng: random.Random, connection: Any, omni: list[Any], links: int, mirrored: int
) -> tuple[int, int]:
    """Mirrored Xero contacts (the linked ones named as in Omni, the rest other people and
    companies) and the links; a tenth of the links point at an archived Xero contact."""
    from sync.models import ContactLink, InvalidReason, LinkMethod, LinkStatus, XeroContact

    linked = rng.sample(omni, min(links, len(omni)))
    rows, link_rows, invalid = [], [], 0
    for n, contact in enumerate(linked):
        bad = n % 10 == 0
        invalid += bad
        xero_id = uuid.uuid4()
        rows.append(
            XeroContact(
                connection=connection,
                contact_id=xero_id,
                name=contact.name,
                email=contact.email,
                account_number=contact.account_number,
                status=XeroContact.Status.ARCHIVED if bad else XeroContact.Status.ACTIVE,
                is_customer=contact.is_customer,
                is_supplier=contact.is_supplier,
            )
        )
        link_rows.append(
            ContactLink(
                contact=contact,
                connection=connection,
                xero_contact_id=xero_id,
                xero_name=contact.name,
                method=LinkMethod.EXISTING,
                status=LinkStatus.INVALID if bad else LinkStatus.VALID,
                invalid_reason=InvalidReason.ARCHIVED if bad else "",
                # One in five has changed in Omni since it was linked.
                uploaded_fingerprint="" if n % 5 == 1 else contact.details_fingerprint,
            )
        )
    for n in range(max(0, mirrored - len(rows))):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        name = f"{first} {last}" if n % 3 == 0 else f"{_name(rng, n)[0]} ({last})"
        rows.append(
            XeroContact(
                connection=connection,
                contact_id=uuid.uuid4(),
                name=name,
                first_name=first,
                last_name=last,
                email=f"{first.lower()}.{last.lower()}{n}@example.com",
                contact_number=f"X{n:06d}",
                status=XeroContact.Status.ARCHIVED if n % 25 == 0 else XeroContact.Status.ACTIVE,
                is_customer=n % 4 != 0,
                is_supplier=n % 4 == 0,
            )
        )
    XeroContact.objects.bulk_create(rows, batch_size=1000)
    ContactLink.objects.bulk_create(link_rows, batch_size=1000)
    return len(rows), invalid


def _fill_uploads(connection: Any) -> int:
    """A recent upload whose rows show on the first page of customers."""
    from sync.models import ContactLink, SyncContact, UploadJob, UploadRow

    job = UploadJob.objects.create(connection=connection, state=UploadJob.State.DONE)
    linked = ContactLink.objects.filter(connection=connection).values("contact_id")
    first = list(SyncContact.objects.customers().exclude(pk__in=linked).order_by("name", "pk")[:12])
    states = [UploadRow.State.DONE, UploadRow.State.DUPLICATE, UploadRow.State.FAILED]
    UploadRow.objects.bulk_create(
        UploadRow(
            job=job,
            connection=connection,
            contact=contact,
            kind=UploadRow.Kind.CREATE,
            state=states[n % 3],
            message="" if n % 3 == 0 else "Xero already has a contact with this name.",
            suggested_xero_contact_id=uuid.uuid4() if n % 3 == 1 else None,
            suggested_name=contact.name if n % 3 == 1 else "",
        )
        for n, contact in enumerate(first)
    )
    return len(first)


def _fill_documents(rng: random.Random, connection: Any) -> int:
    """Xero's copy of every synced transaction's document: one in twenty voided, paid or
    edited since (what Discrepancies lists), the rest agreeing with Omni."""
    from decimal import Decimal

    from sync.models import MirroredDocument
    from transactions.models import SyncState, Transaction

    synced = (
        Transaction.objects.filter(sync_state=SyncState.SYNCED)
        .with_total()
        .values_list("xero_id", "number", "omni_total")  # type: ignore[misc]
    )
    made = 0
    batch: list[MirroredDocument] = []
    for xero_id, number, total in list(synced):
        roll = rng.random()
        status = "VOIDED" if roll < 0.01 else "PAID" if roll < 0.03 else "AUTHORISED"
        batch.append(
            MirroredDocument(
                connection=connection,
                document_id=xero_id,
                kind="invoice",
                number=number,
                status=status,
                total=total + (Decimal("1.00") if 0.03 <= roll < 0.05 else 0),
                amount_paid=total if status == "PAID" else 0,
            )
        )
        if len(batch) == BATCH:
            made += len(MirroredDocument.objects.bulk_create(batch))
            batch = []
    return made + len(MirroredDocument.objects.bulk_create(batch))


# --- Measuring ------------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    url: str
    status: int
    rows: int
    queries: int
    p50_ms: float
    p95_ms: float
    load: float  # the 1-minute load average when it was measured
    target_ms: float
    slowest_sql: str
    slowest_ms: float

    @property
    def met(self) -> bool:
        # 204: the live poll's answer when nothing changed, as it should be.
        return self.status in (200, 204) and self.p95_ms < self.target_ms


def p95(timings: list[float]) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


ROW = re.compile(
    rb'<tr id="(?:contact|transaction|discrepancy)-\d+"|role="option"'
    rb'|<section class="panel problem" id="problems-'
)


def measure(
    client: Any, label: str, url: str, target_ms: float, runs: int, **headers: str
) -> Result:
    """The median time the server takes to answer `url`, after a warm-up, and its queries
    (counted on a run of their own: capturing them slows every query down)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        response = client.get(url, headers=headers)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, headers=headers)
    slowest = max(captured.captured_queries, key=lambda q: float(q["time"]), default=None)
    return Result(
        label=label,
        url=url,
        status=response.status_code,
        rows=len(ROW.findall(response.content)),
        queries=len(captured),
        p50_ms=statistics.median(timings),
        p95_ms=p95(timings),
        load=os.getloadavg()[0],
        target_ms=target_ms,
        slowest_sql=slowest["sql"] if slowest else "",
        slowest_ms=float(slowest["time"]) * 1000 if slowest else 0.0,
    )


def row_actions(
    client: Any, tab: str, url: str, runs: int
) -> tuple[list[Result], list[tuple[str, Result, Result]]]:
    """The time from a click on a row's own Link (from the Search column) or Unlink (once
    confirmed) to the row that is swapped in: the action's request and the row it redirects
    htmx to, both in the server. Each Link is undone by the Unlink after it, so every run
    does the same work. Queries are counted for a contact on the first page and for one on
    the last: they must be the same."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sync.models import ContactLink, SyncContact, XeroContact

    linked = ContactLink.objects.values("contact_id")
    unlinked = SyncContact.objects.for_tab(tab).exclude(pk__in=linked).order_by("name", "pk")
    first, last = unlinked.first(), unlinked.last()
    assert first is not None and last is not None
    free = (
        XeroContact.objects.filter(status=XeroContact.Status.ACTIVE)
        .exclude(contact_id__in=ContactLink.objects.values("xero_contact_id"))
        .order_by("name")
        .values_list("contact_id", flat=True)
    )
    xero_ids = [str(xero_id) for xero_id in free[:2]]
    htmx = {"HX-Request": "true"}

    def link(contact: Any, xero_id: str) -> Any:
        return client.post(
            f"/accounting/xero/{tab}/contacts/{contact.pk}/link/",
            {"xero_contact_id": xero_id, "next": url},
            headers=htmx,
            follow=True,
        )

    def unlink(contact: Any) -> Any:
        return client.post(
            f"/accounting/xero/{tab}/contacts/{contact.pk}/unlink/",
            {"next": url},
            headers=htmx,
            follow=True,
        )

    for _ in range(2):
        link(first, xero_ids[0])
        unlink(first)
    linking, unlinking = [], []
    for _ in range(runs):
        started = time.perf_counter()
        linked_row = link(first, xero_ids[0])
        middle = time.perf_counter()
        unlinked_row = unlink(first)
        linking.append((middle - started) * 1000)
        unlinking.append((time.perf_counter() - middle) * 1000)
    assert b"badge ok" in linked_row.content or b"badge changed" in linked_row.content
    assert b"No linked contact" in unlinked_row.content

    counted: dict[tuple[str, int], tuple[Any, int]] = {}
    for contact, xero_id in ((first, xero_ids[0]), (last, xero_ids[1])):
        for action in ("link", "unlink"):
            with CaptureQueriesContext(connection) as captured:
                response = link(contact, xero_id) if action == "link" else unlink(contact)
            counted[(action, contact.pk)] = (response, len(captured))

    def result(label: str, action: str, contact: Any, timings: list[float]) -> Result:
        response, queries = counted[(action, contact.pk)]
        return Result(
            label=label,
            url=response.request["PATH_INFO"],
            status=response.status_code,
            rows=len(ROW.findall(response.content)),
            queries=queries,
            p50_ms=statistics.median(timings) if timings else 0.0,
            p95_ms=p95(timings) if timings else 0.0,
            load=os.getloadavg()[0],
            target_ms=PAGE_TARGET_MS,
            slowest_sql="",
            slowest_ms=0.0,
        )

    slug = url.rstrip("/").rsplit("/", 1)[-1]
    timed = [
        result(f"{slug}: Link one row", "link", first, linking),
        result(f"{slug}: Unlink one row", "unlink", first, unlinking),
    ]
    flat = [
        (
            f"{slug}, {action}",
            result("", action, first, [0.0]),
            result("", action, last, [0.0]),
        )
        for action in ("link", "unlink")
    ]
    return timed, flat


def search_terms(tab: str) -> tuple[str, str]:
    """A search that matches a full page of the tab's contacts, and one that matches a few."""
    from contacts.models import Contact

    names = list(Contact.objects.for_tab(tab).values_list("name", flat=True))
    combos = [f"{place} {trade}" for place in PLACES for trade in TRADES]
    counts = {term: sum(term in name for name in names) for term in combos}
    few = min(combos, key=lambda term: (counts[term] == 0, abs(counts[term] - 5)))
    return "Ltd", few


def invoice_terms() -> tuple[str, str]:
    from transactions.models import Transaction, TransactionType

    invoices = Transaction.objects.of_type(TransactionType.SALES_INVOICE)
    number = invoices.order_by("number").values_list("number", flat=True).first() or "INV"
    return PLACES[0], number[:-1]  # the first ten invoice numbers share all but the last digit


def counted() -> Filled:
    """What a database filled by an earlier run holds (--reuse)."""
    from contacts.models import Contact
    from sync.models import ContactLink, MirroredDocument, UploadRow, XeroContact
    from transactions.models import LineItem, Transaction

    return Filled(
        contacts=Contact.objects.count(),
        customers=Contact.objects.customers().count(),
        suppliers=Contact.objects.suppliers().count(),
        transactions=Transaction.objects.count(),
        lines=LineItem.objects.count(),
        xero_contacts=XeroContact.objects.count(),
        links=ContactLink.objects.count(),
        invalid_links=ContactLink.objects.invalid().count(),
        upload_rows=UploadRow.objects.count(),
        documents=MirroredDocument.objects.count(),
        seconds=0.0,
    )


def contact_pages(tab: str, url: str, slug: str) -> list[tuple[str, str]]:
    """Every page of a contacts subtab a user can ask for: its first page, each link filter
    (of every contact), each sort order (of those ready to sync), two searches (one matching
    a full page, one a few) and the pages deep in the list."""
    from sync.models import SyncContactQuerySet

    many, few = search_terms(tab)
    pages = [("first page", url), ("all, page 2", f"{url}?show=all&page=2")]
    pages += [
        (f"all, {name or 'any link'}", f"{url}?show=all&linked={name}")
        for name in SyncContactQuerySet.LINK_FILTERS
    ]
    pages += [
        (f"sort {d}{key}", f"{url}?sort={d}{key}")
        for key in SyncContactQuerySet.SORTS
        for d in ("", "-")
    ]
    pages += [
        (f"search {many!r}", f"{url}?q={many.replace(' ', '+')}"),
        (f"search {few!r}", f"{url}?q={few.replace(' ', '+')}"),
        ("page 100", f"{url}?page=100"),
    ]
    return [(f"{slug}: {label}", u) for label, u in pages]


def transaction_pages() -> list[tuple[str, str]]:
    """Every transaction subtab and payments subtab: its first page, each state, a search,
    page 100."""
    from sync.dashboard.tabs import TABS
    from transactions.models import PaymentState, SyncState

    many, few = invoice_terms()
    pages = []
    for tab, (_, subtabs) in TABS.items():
        for sub in subtabs[1:]:
            base = f"/accounting/xero/{tab}/{sub.slug}/"
            slug = f"{tab} {sub.slug}"
            states = PaymentState.values if sub.payments else SyncState.values
            pages += [(f"{slug}: first page", base), (f"{slug}: page 100", f"{base}?page=100")]
            pages += [(f"{slug}: {state}", f"{base}?state={state}") for state in states]
            pages += [(f"{slug}: search {many!r}", f"{base}?q={many}")]
            if sub.slug == "invoices":
                pages += [(f"{slug}: search {few!r}", f"{base}?q={few}")]
    return pages


ADMIN_PAGES = [
    ("errors: first page", "/accounting/xero/errors/"),
    ("errors: page 2", "/accounting/xero/errors/?page=2"),
    ("errors: page 100", "/accounting/xero/errors/?page=100"),
    ("discrepancies: first page", "/accounting/xero/discrepancies/"),
    ("discrepancies: page 2", "/accounting/xero/discrepancies/?page=2"),
    ("discrepancies: resolved too", "/accounting/xero/discrepancies/?resolved=1"),
]


def run(args: argparse.Namespace) -> None:
    from django.contrib.auth.models import Group, User
    from django.db import connection as db
    from django.test import Client

    from sync.dashboard.tabs import live_cursor
    from sync.models import ContactLink, SyncContact
    from sync.roles import ACCOUNTANTS

    contacts, transactions, links = SIZES[args.size]
    filled = (
        counted()
        if args.reuse
        else fill(
            contacts=args.contacts or contacts,
            transactions=args.transactions or transactions,
            links=args.links or links,
        )
    )
    print(
        f"filled {db.vendor} in {filled.seconds:.1f} s: {filled.contacts:,} contacts "
        f"({filled.customers:,} customers, {filled.suppliers:,} suppliers),\n"
        f"  {filled.transactions:,} transactions ({filled.lines:,} lines), "
        f"{filled.xero_contacts:,} mirrored Xero contacts,\n"
        f"  {filled.links:,} links ({filled.invalid_links:,} invalid), "
        f"{filled.upload_rows} upload rows, {filled.documents:,} Xero documents\n"
        f"{os.cpu_count()} CPUs; p50 and p95 of {args.runs} runs after 2 warm-ups, the load "
        "average beside each page (other work slows every page)"
    )
    User.objects.filter(username="bench-accountant").delete()
    accountant = User.objects.create_user("bench-accountant", is_superuser=True)
    accountant.groups.add(Group.objects.get(name=ACCOUNTANTS))
    client = Client()
    client.force_login(accountant)
    htmx = {"HX-Request": "true"}
    linked = ContactLink.objects.values("contact_id")

    def timed(pages: list[tuple[str, str]]) -> list[Result]:
        return [measure(client, label, u, PAGE_TARGET_MS, args.runs) for label, u in pages]

    tables: dict[str, list[Result]] = {}
    flat_checks: list[tuple[str, Result, Result]] = []
    for tab, url, slug in (
        ("sales", CUSTOMERS, "customers"),
        ("purchases", SUPPLIERS, "suppliers"),
    ):
        tab_results = timed(contact_pages(tab, url, slug))
        unlinked = SyncContact.objects.for_tab(tab).exclude(pk__in=linked).order_by("pk").first()
        if unlinked is not None:
            suggest = f"/accounting/xero/{tab}/contacts/{unlinked.pk}/xero-search/?q=smi"
            label = f"{slug}: suggestion 'smi'"
            tab_results.append(
                measure(client, label, suggest, SUGGEST_TARGET_MS, args.runs, **htmx)
            )
        by_label = {r.label.split(": ", 1)[1]: r for r in tab_results}
        few, many = (r for k, r in by_label.items() if k.startswith("search"))
        flat_checks.append((f"{slug}, search", many, few))
        tables[slug.capitalize()] = tab_results
    tables["Transaction subtabs"] = timed(transaction_pages())
    invoices = {r.label: r for r in tables["Transaction subtabs"] if "invoices: search" in r.label}
    if len(invoices) == 2:
        many_r, few_r = invoices.values()
        flat_checks.append(("invoices, search", few_r, many_r))
    cursor = live_cursor()
    live = f"/accounting/xero/sales/customers/changes/?event={cursor.event}&since={cursor.since}"
    poll = measure(client, "live changes: poll", live, PAGE_TARGET_MS, args.runs, **htmx)
    tables["Admin and the live poll"] = [*timed(ADMIN_PAGES), poll]
    admin = {r.label: r for r in tables["Admin and the live poll"]}
    flat_checks.append(("errors, pages", admin["errors: page 100"], admin["errors: first page"]))
    flat_checks.append(
        ("discrepancies", admin["discrepancies: page 2"], admin["discrepancies: first page"])
    )

    row_checks: list[tuple[str, Result, Result]] = []
    if SyncContact.objects.customers().exclude(pk__in=linked).count() >= 2:
        # (At the large size every contact is linked: no row to Link.)
        tables["Row actions"], row_checks = row_actions(client, "sales", CUSTOMERS, args.runs)
    report(tables, flat_checks, row_checks)


def report(
    tables: dict[str, list[Result]],
    flat_checks: list[tuple[str, Result, Result]],
    row_checks: list[tuple[str, Result, Result]],
) -> None:
    results = [r for rows in tables.values() for r in rows]
    width = max(len(r.label) for r in results)
    for title, rows in tables.items():
        loads = [r.load for r in rows]
        print(f"\n{title} (load average {min(loads):.1f}-{max(loads):.1f})")
        print(f"{'page':<{width}}  status rows queries  slowest      p50      p95  load  target")
        for r in rows:
            print(
                f"{r.label:<{width}}  {r.status:>6} {r.rows:>4} {r.queries:>7}  "
                f"{r.slowest_ms:>4.0f} ms  {r.p50_ms:>5.1f} ms {r.p95_ms:>5.1f} ms  "
                f"{r.load:>4.1f}  < {r.target_ms:>3.0f} ms  {'ok' if r.met else 'MISSED'}"
            )
    print("(slowest: the page's slowest query, on a run of its own; target: p95)")
    print("\nqueries against the rows on the page (must not grow):")
    for label, small, big in flat_checks:
        print(
            f"  {label:<19}  {small.rows:>3} rows: {small.queries:>2} queries, "
            f"{big.rows:>3} rows: {big.queries:>2} queries  "
            f"{'ok' if big.queries <= small.queries else 'MISSED: grows with the rows'}"
        )
    print("\nqueries of a row action, for a contact on the first page and one on the last")
    print("(the row alone comes back: must not grow with the page or the database):")
    for label, first, last in row_checks:
        print(
            f"  {label:<19}  first page: {first.queries:>2} queries, last page: "
            f"{last.queries:>2} queries, {last.rows} row back  "
            f"{'ok' if first.queries == last.queries and last.rows == 1 else 'MISSED'}"
        )
    near = [
        r for r in results if r.status == 200 and r.slowest_sql and r.p95_ms >= NEAR * r.target_ms
    ]
    if near:
        print(f"\nslowest query of the pages at {NEAR:.0%} of their target or over:")
        for r in near:
            sql = re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", " ".join(r.slowest_sql.split()))
            print(f"  {r.label} ({r.slowest_ms:.1f} of {r.p95_ms:.1f} ms): {sql[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size", choices=SIZES, default="small", help="contacts/transactions/links"
    )
    parser.add_argument("--contacts", type=int, default=0, help="instead of the size's")
    parser.add_argument("--transactions", type=int, default=0, help="instead of the size's")
    parser.add_argument("--links", type=int, default=0, help="instead of the size's")
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each page")
    parser.add_argument("--database-url", default="", help="empty: a throwaway SQLite file")
    parser.add_argument(
        "--reuse", action="store_true", help="measure what --database-url holds (filled before)"
    )
    args = parser.parse_args()
    setup_database(args.database_url, "bench-dashboard-", keep=args.reuse)
    run(args)


def setup_database(database_url: str, prefix: str, *, keep: bool = False) -> Path:
    """Django on a migrated throwaway database (SQLite in a new folder, or database_url
    emptied), with production settings but for static files; returns the folder."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["VAR_DIR"] = str(folder)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omni_xero.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("XERO_USE_SANDBOX", "true")  # no call to Xero is made
    # Production settings (DEBUG off), but the test client speaks plain HTTP to "testserver".
    os.environ.update(ALLOWED_HOSTS="testserver", SECURE_SSL_REDIRECT="false")
    (folder / "static").mkdir()  # STATIC_ROOT, which whitenoise looks for
    import django

    django.setup()
    logging.disable(logging.INFO)  # django-axes says so on every force_login
    from django.conf import settings
    from django.core.management import call_command

    # No collectstatic: the manifest storage of DEBUG off would refuse every {% static %}.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("migrate", verbosity=0)
    if database_url and not keep:
        call_command("flush", interactive=False, verbosity=0)  # groups come back (post_migrate)
    return folder


if __name__ == "__main__":
    main()
