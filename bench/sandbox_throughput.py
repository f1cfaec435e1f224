"""Requests per second the Xero sandbox serves to the real SDK on this machine.

Measures contact search (`GET /Contacts?searchTerm=…&page=1` over 10,000 contacts, the
search the app's linking uses) through the SDK and over plain keep-alive HTTP, and a
50-invoice batch create (`PUT /Invoices`) through the SDK. The sandbox must never be the
bottleneck of a sync: it must serve at least 200 searches a second (exit status 1 if not).

    .venv/bin/python bench/sandbox_throughput.py [--contacts 10000] [--seconds 5]
"""

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import urllib3
from xero_python.accounting import Contact, Invoice, Invoices, LineItem

from tests.plugins.sandbox import SandboxControl, make_sdk, start_sandbox, stop_sandbox
from xero_sandbox import seed

SEARCH_FLOOR = 200


def run_for(seconds: float, threads: int, call) -> float:
    """Calls per second made by `threads` workers, each with its own SDK client."""
    counts = [0] * threads
    deadline = time.perf_counter() + seconds

    def work(slot: int) -> None:
        client = call.make_client()
        while time.perf_counter() < deadline:
            call(client, counts[slot])
            counts[slot] += 1

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.perf_counter() - started)


class Search:
    """The linking search: a name or number fragment that finds a contact or two."""

    def __init__(self, control: SandboxControl, terms: list[str]):
        self.control, self.terms = control, terms

    def make_client(self):
        return make_sdk(self.control, self.control.issue_token(), self.control.demo_tenant_id)

    def __call__(self, sdk, n: int) -> None:
        term = self.terms[n % len(self.terms)]
        sdk.accounting.get_contacts(sdk.tenant_id, search_term=term, page=1, page_size=100)


class RawSearch(Search):
    """The same search over plain keep-alive HTTP: the sandbox's own ceiling, no SDK cost."""

    def make_client(self):
        token = self.control.issue_token()["access_token"]
        headers = {
            "Authorization": f"Bearer {token}",
            "xero-tenant-id": self.control.demo_tenant_id,
            "Accept": "application/json",  # as the SDK sends; without it Xero answers XML
        }
        return urllib3.PoolManager(headers=headers)

    def __call__(self, pool, n: int) -> None:
        term = self.terms[n % len(self.terms)]
        url = f"{self.control.url}/api.xro/2.0/Contacts"
        response = pool.request("GET", url, fields={"searchTerm": term, "page": "1"})
        assert response.status == 200, response.status


class InvoiceBatch:
    def __init__(self, control: SandboxControl, contact_ids: list[str]):
        self.control, self.contact_ids = control, contact_ids

    def make_client(self):
        return make_sdk(self.control, self.control.issue_token(), self.control.demo_tenant_id)

    def __call__(self, sdk, n: int) -> None:
        line = LineItem(description="Widget", quantity=3, unit_amount=12.5, account_code="200")
        invoices = [
            Invoice(
                type="ACCREC",
                contact=Contact(contact_id=self.contact_ids[(n * 50 + i) % len(self.contact_ids)]),
                line_items=[line],
            )
            for i in range(50)
        ]
        sdk.accounting.create_invoices(sdk.tenant_id, Invoices(invoices=invoices))


def _search_terms(count: int) -> list[str]:
    """Fragments of the generated contacts' names and numbers (the same seed the sandbox uses)."""
    bodies = seed.generated_contacts(count)
    picks = bodies[:: max(1, count // 300)]
    return [b["Name"].split()[0] + " " + b["Name"].split()[1] for b in picks[::3]] + [
        b["ContactNumber"] for b in picks
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="sandbox-bench-")) / "state.json"
    server = start_sandbox(state, "--rate-limits", "off")
    try:
        control = SandboxControl(server.url)
        started = time.perf_counter()
        ids = control.generate_contacts(control.demo_tenant_id, args.contacts)
        seeded = time.perf_counter() - started
        print(f"seeded {len(ids)} contacts in {seeded:.2f} s (control API)")
        terms = _search_terms(args.contacts)
        search = {n: run_for(args.seconds, n, Search(control, terms)) for n in (1, 4)}
        for threads, rate in search.items():
            print(f"contact search via the SDK, {threads} client(s): {rate:7.1f} requests/s")
        raw = {n: run_for(args.seconds, n, RawSearch(control, terms)) for n in (1, 4)}
        for threads, rate in raw.items():
            print(f"contact search, plain HTTP, {threads} client(s): {rate:7.1f} requests/s")
        batch = run_for(args.seconds, 1, InvoiceBatch(control, ids))
        invoices = batch * 50
        print(f"50-invoice batch create, 1 client: {batch:7.1f} requests/s ({invoices:.0f} inv/s)")
    finally:
        stop_sandbox(server)
    # The floor is on the sandbox's own capacity; the SDK numbers include the client's
    # deserialisation, which runs in this process and competes with the server for CPU.
    if max(raw.values()) < SEARCH_FLOOR:
        print(f"FAIL: contact search below {SEARCH_FLOOR} requests/s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
