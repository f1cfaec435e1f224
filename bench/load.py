"""Load the production shape: accountants browsing the dashboard while a 5,000-transaction
sync runs in the task workers.

It starts what `make serve` starts (bench/production.py: serve.py's preparation, gunicorn
with WEB_CONCURRENCY workers, WORKERS task workers, the scheduler, the Xero sandbox with
Xero's rate limits) on free loopback ports, against its own PostgreSQL database
(postgres://postgres@127.0.0.1:5432/bench_load, dropped and made again each run), then
builds the data through the ORM: the demo data, 500 customers linked to Xero contacts with
5,000 transactions ready to sync, and per accountant a user of its own (group Accountants),
a shop with a transaction ready and a free Xero contact to link it to.

The load comes from this process, over HTTP (requests, one pooled session and one thread
per accountant): each accountant logs in through the login form and then, for --seconds,
does one thing after another with a think time of 2 to 8 s (uniform, 5 s on average)
between them, as a person reading the page would: the Customers or Suppliers tab, a
transaction subtab, a search, the next page, a filter, or its own shop's link (searched
for, its row's Xero search typed, Link posted, and Unlink the next time). Forms carry their
CSRF token, htmx requests the HX-Request header, and the open page polls what its
`hx-trigger="every 2s"` elements ask for (its live changes, the sync's progress) every 2 s
meanwhile, as the browser does. When the load starts, a sync of the 5,000 transactions is
queued for the workers (`sync_start`, as the dashboard's Sync does); the bench waits for its
end after the load.

It prints per kind of request its count, requests per second, p50/p95/p99 and errors (a
status of 400 or more, or no answer), the sync's time against its floor (the fewest calls
the job needs at 60 a minute: bench/sync_throughput.py's `fewest_calls` and `floor_of`;
5,000 transactions need ceil(5000/50) = 100 writes), and the load average. Targets: p95 under 300
ms, no errors, the sync within 1.15x its floor.

--readers N --no-think: instead, N readers who each fetch the dashboard (the Customers tab)
again as soon as it answered, during the same sync. Targets: p95 under 300 ms and at least
60 requests per second.

Usage:

    .venv/bin/python bench/load.py [--seconds 60] [--accountants 50] [--transactions 5000]
        [--readers 20 --no-think] [--web-concurrency N] [--workers 2]
        [--database-url postgres://postgres@127.0.0.1:5432/bench_load]
"""

import argparse
import html
import itertools
import logging
import math
import os
import random
import re
import statistics
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.production import Production, load_average  # noqa: E402

PASSWORD = "bench-load-Kauri-42"
LINKED = 500
BATCH = 50
P95_TARGET_MS = 300.0
READERS_RPS_TARGET = 60.0
THINK = (2.0, 8.0)
POLL_EVERY = 2.0
BASE = "/accounting/xero"
SUBTABS = [
    "sales/invoices",
    "sales/credit-notes",
    "purchases/orders",
    "purchases/bills",
    "purchases/credit-notes",
]
SEARCHES = ["Sync Customer 1", "cafe", "Ltd", "Load Shop", "zzz", "Sports", "a"]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
POLL = re.compile(r'<div id="([a-z-]+)"[^>]*hx-get="([^"]+)" hx-trigger="every 2s"')
NEXT_PAGE = re.compile(r'<a href="(\?[^"]*page=\d+)">Next')
HTMX = {"HX-Request": "true"}
FILTER = re.compile(r'<a href="(\?filter=[^"]+)"')


# --- Data ----------------------------------------------------------------------------------


@dataclass
class Built:
    connection: Any
    logins: list[str]
    shops: list[tuple[int, str, str]]  # per accountant: its shop's pk and name, a Xero contact


def build(production: Production, accountants: int, transactions: int) -> Built:
    """The sync's organisation and the accountants' users, contacts and Xero contacts."""

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from bench.harness import sales_invoices, sandbox_connect
    from contacts.models import Contact
    from sync.models import ContactLink, LinkMethod, XeroContact
    from sync.roles import ACCOUNTANTS
    from tests.plugins.sandbox import DEMO_TENANT_ID, SandboxControl

    started = time.monotonic()
    control = SandboxControl(production.sandbox_url)
    linked_names = [f"Sync Customer {n:03d}" for n in range(1, LINKED + 1)]
    target_names = [f"Load Target {n:02d}" for n in range(1, accountants + 1)]
    ids = control.seed_contacts(DEMO_TENANT_ID, [{"Name": n} for n in linked_names + target_names])
    # Connecting queues a pull of the mirror for the workers, the seeded contacts with it.
    control, connection = sandbox_connect(production.sandbox_url)
    assert str(connection.tenant_id) == DEMO_TENANT_ID, connection.tenant_id
    mirrored = XeroContact.objects.filter(connection=connection, name__in=target_names)
    production.wait_until(lambda: mirrored.count() == accountants, "the mirror's first pull")

    omni = Contact.objects.bulk_create(
        Contact(omni_id=400_000 + n, name=name, is_customer=True)
        for n, name in enumerate(linked_names)
    )
    ContactLink.objects.bulk_create(
        ContactLink(
            contact=c,
            connection=connection,
            xero_contact_id=xero_id,
            xero_name=c.name,
            method=LinkMethod.EXISTING,
            uploaded_fingerprint=c.details_fingerprint,
        )
        for c, xero_id in zip(omni, ids[:LINKED], strict=True)
    )
    shops = Contact.objects.bulk_create(
        Contact(omni_id=500_000 + n, name=f"Load Shop {n:02d}", is_customer=True)
        for n in range(1, accountants + 1)
    )
    rows = [(omni[n % LINKED], f"LOAD-{n + 1:05d}") for n in range(transactions)]
    rows += [(shop, f"SHOP-{n + 1:02d}") for n, shop in enumerate(shops)]
    sales_invoices(rows)
    User = get_user_model()
    hashed = make_password(PASSWORD)
    names = [f"load{n:02d}" for n in range(1, accountants + 1)]
    users = User.objects.bulk_create(User(username=name, password=hashed) for name in names)
    Group.objects.get(name=ACCOUNTANTS).user_set.add(*users)
    targets = dict(
        XeroContact.objects.filter(connection=connection, name__in=target_names).values_list(
            "name", "contact_id"
        )
    )
    print(
        f"built in {time.monotonic() - started:.1f} s: {LINKED} linked customers with "
        f"{transactions:,} ready transactions, {accountants} accountants each with a shop "
        f"and a free Xero contact"
    )
    return Built(
        connection=connection,
        logins=names,
        shops=[
            (shop.pk, shop.name, str(targets[t]))
            for shop, t in zip(shops, target_names, strict=True)
        ],
    )


# --- The load ------------------------------------------------------------------------------


@dataclass
class Stats:
    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, ms: float, error: str = "") -> None:
        with self.lock:
            self.timings[kind].append(ms)
            if error:
                self.errors[kind].append(error)


class Browser:
    """One person's browser: a session of its own, the page it has open and its polls."""

    def __init__(self, site: str, stats: Stats):
        self.site, self.stats = site, stats
        self.http = requests.Session()
        self.page = ""  # the open page's HTML
        self.url = ""
        self.polls: dict[str, str] = {}  # element id: the URL it polls

    def request(self, kind: str, method: str, url: str, **kwargs: Any) -> requests.Response | None:
        started = time.perf_counter()
        try:
            answer = self.http.request(method, self.site + url, timeout=30, **kwargs)
        except requests.RequestException as error:
            self.stats.add(kind, (time.perf_counter() - started) * 1000, type(error).__name__)
            return None
        ms = (time.perf_counter() - started) * 1000
        refused = f"{answer.status_code} {url}" if answer.status_code >= 400 else ""
        self.stats.add(kind, ms, refused)
        return None if refused else answer

    def login(self, username: str) -> None:
        answer = self.request("login", "GET", "/login/")
        assert answer is not None
        token = CSRF.search(answer.text)
        assert token, "no CSRF token on the login page"
        form = {"csrfmiddlewaretoken": token.group(1), "username": username, "password": PASSWORD}
        answer = self.request(
            "login", "POST", "/login/", data=form, headers=self.referer("/login/")
        )
        assert answer is not None and "/login/" not in answer.url, f"{username} did not log in"

    def referer(self, url: str = "") -> dict[str, str]:
        return {"Referer": self.site + (url or self.url)}

    def open(self, kind: str, url: str) -> None:
        """A full page, as a click or a typed address: its polls replace the last page's."""
        answer = self.request(kind, "GET", url)
        if answer is None:
            return
        self.page, self.url = answer.text, url
        self.polls = {element: html.unescape(poll) for element, poll in POLL.findall(self.page)}

    def htmx(self, kind: str, method: str, url: str, **kwargs: Any) -> requests.Response | None:
        headers = {"HX-Request": "true", "HX-Current-URL": self.site + self.url}
        token = CSRF.search(self.page)
        if method == "POST" and token:
            headers["X-CSRFToken"] = token.group(1)
        return self.request(kind, method, url, headers={**headers, **self.referer()}, **kwargs)

    def poll(self) -> None:
        for element, url in list(self.polls.items()):
            answer = self.htmx("poll", "GET", url)
            if answer is None or answer.status_code == 204:
                continue
            # The answer swaps the element: its next poll (a later cursor), or none.
            again = POLL.search(answer.text)
            if again and again.group(1) == element:
                self.polls[element] = html.unescape(again.group(2))
            elif f'id="{element}"' in answer.text:
                del self.polls[element]


class Accountant(Browser):
    def __init__(self, site: str, stats: Stats, shop: tuple[int, str, str], rng: random.Random):
        super().__init__(site, stats)
        self.shop, self.name, self.xero_id = shop
        self.rng = rng
        self.linked = False

    def act(self) -> None:
        rng = self.rng
        choice = rng.random()
        customers = f"{BASE}/sales/customers/"
        if choice < 0.25:
            self.open("customers", customers)
        elif choice < 0.35:
            self.open("suppliers", f"{BASE}/purchases/suppliers/")
        elif choice < 0.55:
            self.open("transactions", f"{BASE}/{rng.choice(SUBTABS)}/")
        elif choice < 0.65:
            term = rng.choice(SEARCHES).replace(" ", "+")
            self.open("search", f"{customers}?q={term}")
        elif choice < 0.72:
            found = NEXT_PAGE.search(self.page)
            path = self.url.split("?")[0] or customers
            self.open("page", path + html.unescape(found.group(1)) if found else customers)
        elif choice < 0.80:
            filters = FILTER.findall(self.page)
            path = self.url.split("?")[0] or customers
            self.open("filter", path + html.unescape(rng.choice(filters)) if filters else customers)
        else:
            self.link_or_unlink()

    def link_or_unlink(self) -> None:
        """Its shop's row: searched for, then linked from its Search column, or unlinked."""
        customers = f"{BASE}/sales/customers/"
        here = f"{customers}?q={self.name.replace(' ', '+')}"
        self.open("search", here)
        if not self.linked:
            search = f"{BASE}/sales/contacts/{self.shop}/xero-search/?q=Load+Target"
            self.htmx("xero-search", "GET", search)
            answer = self.htmx(
                "link",
                "POST",
                f"{BASE}/sales/contacts/{self.shop}/link/",
                data={"xero_contact_id": self.xero_id, "next": here},
            )
        else:
            answer = self.htmx(
                "unlink", "POST", f"{BASE}/sales/contacts/{self.shop}/unlink/", data={"next": here}
            )
        if answer is not None:
            self.linked = not self.linked

    def run(self, until: float) -> None:
        next_poll = time.monotonic() + POLL_EVERY
        while time.monotonic() < until:
            self.act()
            wake = time.monotonic() + self.rng.uniform(*THINK)
            while (now := time.monotonic()) < min(wake, until):
                if now >= next_poll:
                    self.poll()
                    next_poll = now + POLL_EVERY
                time.sleep(max(0.0, min(wake, until, next_poll) - time.monotonic()))


class Reader(Browser):
    def run(self, until: float) -> None:
        while time.monotonic() < until:
            self.request("dashboard", "GET", f"{BASE}/sales/customers/")


# --- Measuring -----------------------------------------------------------------------------


def percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def report(stats: Stats, seconds: float, *, rps_target: float | None) -> bool:
    print(f"\n{'request':<14}{'count':>7}{'req/s':>8}{'p50':>9}{'p95':>9}{'p99':>9}{'errors':>8}")
    met = True
    everything: list[float] = []
    for kind in sorted(stats.timings):
        timings = stats.timings[kind]
        everything += timings
        errors = len(stats.errors[kind])
        p95 = percentile(timings, 95)
        ok = p95 < P95_TARGET_MS and errors == 0
        met &= ok or kind == "login"
        print(
            f"{kind:<14}{len(timings):>7}{len(timings) / seconds:>8.1f}"
            f"{percentile(timings, 50):>7.0f}ms{p95:>7.0f}ms{percentile(timings, 99):>7.0f}ms"
            f"{errors:>8}  {'ok' if ok else 'MISSED'}"
        )
    total_errors = sum(len(e) for k, e in stats.errors.items() if k != "login")
    rps = sum(len(t) for k, t in stats.timings.items() if k != "login") / seconds
    p95 = percentile([t for k, ts in stats.timings.items() if k != "login" for t in ts], 95)
    rps_ok = rps_target is None or rps >= rps_target
    print(
        f"{'all (no login)':<14}{'':>7}{rps:>8.1f}{'':>9}{p95:>7.0f}ms{'':>9}{total_errors:>8}  "
        f"target p95 < {P95_TARGET_MS:.0f} ms, no errors"
        + (
            f", at least {rps_target:.0f} req/s  {'ok' if rps_ok else 'MISSED'}"
            if rps_target
            else ""
        )
    )
    for kind, refusals in stats.errors.items():
        if refusals:
            print(f"  {kind} errors, the first: {refusals[:3]}")
    return met and rps_ok and total_errors == 0


def sync_report(run: Any, started_pk: int) -> None:
    from datetime import timedelta

    from bench.sync_throughput import DOCUMENT_PATHS, calls_since, fewest_calls, floor_of
    from sync.models import XeroApiCall
    from sync.syncing.runs import run_progress

    run.refresh_from_db()
    calls = calls_since(started_pk)
    writes = sum(1 for m, e, *_ in calls if m == "POST" and e.startswith(DOCUMENT_PATHS))
    floor = floor_of(fewest_calls(run.items.count()), 60.0)
    timed = list(
        XeroApiCall.objects.filter(pk__gt=started_pk)
        .order_by("pk")
        .values_list("at", "duration_ms")
    )
    # Between one call's answer and the next call: over 5 s is waiting for Xero's minute,
    # the rest is the worker's own work (reading, building, recording the batches).
    gaps = [
        (later - timedelta(milliseconds=ms) - earlier).total_seconds()
        for (earlier, _), (later, ms) in itertools.pairwise(timed)
    ]
    waited = sum(g for g in gaps if g > 5)
    worked = sum(g for g in gaps if 0 < g <= 5)
    in_calls = sum(ms for _, ms in timed) / 1000
    progress = run_progress(run)
    if run.finished_at is None:
        print(f"\nsync {run.pk}: {run.state} after the wait, {progress.left} left  MISSED")
        return
    seconds = (run.finished_at - run.created_at).total_seconds()
    multiple = seconds / floor if floor else math.inf
    print(
        f"\nsync {run.pk} ({run.state}): {progress.synced} synced, {progress.failed} failed, "
        f"{progress.refused} refused in {seconds:.1f} s; {len(calls)} Xero calls "
        f"({writes} writes); the floor Xero's 60 calls a minute force on the fewest calls "
        f"the job needs {floor:.1f} s: {multiple:.2f}x  "
        f"{'ok' if multiple <= 1.15 and progress.synced == run.items.count() else 'MISSED'}"
    )
    print(
        f"  of which {in_calls:.1f} s in Xero's calls, {waited:.1f} s waiting for Xero's "
        f"minute, {worked:.1f} s between calls in the worker"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--accountants", type=int, default=50)
    parser.add_argument("--transactions", type=int, default=5000)
    parser.add_argument("--readers", type=int, default=0, help="N readers instead")
    parser.add_argument("--no-think", action="store_true", help="readers: no think time")
    parser.add_argument("--web-concurrency", default="", help="gunicorn workers: serve.py's")
    parser.add_argument("--workers", type=int, default=2, help="task workers")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_load")
    args = parser.parse_args()
    if args.readers and not args.no_think:
        parser.error("--readers goes with --no-think")
    people = args.readers or args.accountants
    settings = {"WEB_CONCURRENCY": args.web_concurrency} if args.web_concurrency else {}
    production = Production(args.database_url, workers=args.workers, **settings)
    try:
        production.start()
        built = build(production, max(people, args.accountants), args.transactions)
        measure(production, built, args, people)
    finally:
        production.stop()


def measure(production: Production, built: Built, args: argparse.Namespace, people: int) -> None:
    from django.utils import timezone

    from sync.models import XeroApiCall
    from sync.syncing import runs
    from transactions.models import Transaction

    stats = Stats()
    browsers: list[Accountant | Reader] = []
    for n in range(people):
        if args.readers:
            browsers.append(Reader(production.url, stats))
        else:
            browsers.append(Accountant(production.url, stats, built.shops[n], random.Random(n)))
        browsers[-1].login(built.logins[n])
    # The sync starts with Xero's minute free of connecting's calls.
    last = XeroApiCall.objects.order_by("-pk").first()
    if last is not None:
        time.sleep(max(0.0, 61 - (timezone.now() - last.at).total_seconds()))
    first_pk = last.pk if last is not None else 0
    run = runs.sync_start(
        connection=built.connection,
        transactions=Transaction.objects.ready_to_sync().filter(number__startswith="LOAD-"),
    )
    assert run is not None
    stats = Stats()  # the logins are not the load
    for browser in browsers:
        browser.stats = stats
    think = "no think time" if args.no_think else f"think {THINK[0]:g}-{THINK[1]:g} s"
    print(
        f"{people} {'readers' if args.readers else 'accountants'} for {args.seconds:g} s "
        f"({think}) while sync {run.pk} sends {args.transactions:,} transactions; "
        f"{load_average()}"
    )
    cpu_before, own_before = production.cpu_seconds(), os.times()
    started = time.monotonic()
    until = started + args.seconds
    threads = [threading.Thread(target=b.run, args=(until,), daemon=True) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    print(f"after the load: {load_average()}")
    own = os.times()
    used = {
        name: seconds - cpu_before.get(name, 0.0)
        for name, seconds in production.cpu_seconds().items()
    }
    used["the load (this bench)"] = own.user + own.system - own_before.user - own_before.system
    print(
        "CPU seconds used during the load, of "
        f"{elapsed * (os.cpu_count() or 1):.0f} the machine had: "
        + ", ".join(f"{name} {seconds:.1f}" for name, seconds in used.items())
    )
    report(stats, elapsed, rps_target=READERS_RPS_TARGET if args.readers else None)
    deadline = time.monotonic() + 600
    run.refresh_from_db()
    while run.is_active and time.monotonic() < deadline:
        production.check()
        time.sleep(1)
        run.refresh_from_db()
    sync_report(run, first_pk)
    print(f"at the end: {load_average()}; processes that died: {production.exits or 'none'}")
    profile(built, browsers)


def profile(built: Built, browsers: list[Any]) -> None:
    """Each kind of page once more, in this process (Django's test client, as
    bench/dashboard.py measures), with the load and the sync over: its view, its queries,
    the time in the server and the slowest query."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import resolve

    from bench.dashboard import measure

    logging.disable(logging.INFO)  # django-axes says so on every force_login
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(get_user_model().objects.get(username=built.logins[0]))
    customers = f"{BASE}/sales/customers/"
    polls = [url for b in browsers for url in b.polls.values()][:1]
    shop = built.shops[0][0]
    pages = [
        ("customers", f"{customers}?q=", {}),
        ("suppliers", f"{BASE}/purchases/suppliers/?q=", {}),
        ("transactions", f"{BASE}/sales/invoices/?q=", {}),
        ("search", f"{customers}?q=cafe", {}),
        ("page", f"{customers}?q=&page=2", {}),
        ("xero-search", f"{BASE}/sales/contacts/{shop}/xero-search/?q=Load+Target", HTMX),
        *(("poll", url, HTMX) for url in polls),
    ]
    print()
    print("the pages alone, after the load (in this process; p50 of 5 after 2 warm-ups)")
    print(f"{'request':<14}{'view':<42}{'status':>6}{'queries':>8}{'median':>9}  slowest query")
    for label, url, headers in pages:
        view = resolve(url.split("?")[0]).func
        result = measure(client, label, url, P95_TARGET_MS, 5, **headers)
        print(
            f"{label:<14}{view.__module__ + '.' + view.__name__:<42}{result.status:>6}"
            f"{result.queries:>8}{result.p50_ms:>7.0f}ms  {result.slowest_ms:.0f} ms: "
            f"{result.slowest_sql[:70]}"
        )


if __name__ == "__main__":
    main()
