"""Measure Xero's webhooks end to end: how soon an open page shows a link gone bad, and the
Xero calls a burst of changed contacts costs.

Starts a fresh Xero sandbox (Xero's own rate limits), omni-xero over HTTP (its WSGI app in
a threaded server in this process, on a throwaway SQLite database unless --database-url),
and a task worker (`manage.py db_worker`, as the Procfile runs it); registers omni-xero's
webhook endpoint with the sandbox (intent to receive checked, deliveries every second as
the sandbox's default), and links --contacts Omni contacts to Xero contacts.

(a) Latency: --repeat times, archive a linked contact on the sandbox, then restore it, and
poll the dashboard's changes endpoint as an open page does (every 2 s, from a random phase,
as an accountant's session, with the row in it) until it answers that row invalid (then
valid again). Target: p95 under 5 s, the page's polling included (5 minutes before
webhooks: the next mirror refresh, then a reload).

(b) Calls: archive every linked contact at once and count the Xero API calls the worker
makes until every link is invalid. Target: at most ceil(N / 50) + 1 (contacts are fetched
50 IDs a call).

Usage:

    .venv/bin/python bench/webhooks.py [--contacts 1000] [--repeat 20] [--interval 2]
        [--database-url postgres://postgres@127.0.0.1:5432/wt_bench]

Exit status 1 when a target is missed.
"""

import argparse
import html
import logging
import math
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import django_setup, sandbox_connect  # noqa: E402

KEY = "bench-webhook-key"
IDS_PER_CALL = 50
TARGET_P95 = 5.0
GIVE_UP = 60.0  # seconds one change may take before the bench says it never showed


def serve() -> tuple[str, Any]:
    """omni-xero's WSGI app over HTTP on a free port, in threads: (its URL, the server)."""
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    settings.SECURE_SSL_REDIRECT = False  # plain HTTP here; the endpoint is exempt anyway
    # No collectstatic: the manifest storage of DEBUG off would refuse every {% static %}.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet)
    server.set_app(WSGIHandler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def worker(sandbox_url: str) -> subprocess.Popen:
    """`manage.py db_worker` on the same database, pointed at the sandbox."""
    env = {
        **os.environ,
        "XERO_USE_SANDBOX": "true",
        "XERO_SANDBOX_URL": sandbox_url,
        "XERO_WEBHOOK_KEY": KEY,
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class OpenPage:
    """A customers subtab as an accountant's browser keeps it open: its poller's address
    (with the cursor it last got) and the row it shows."""

    def __init__(self, url: str, session: str, contact_pk: int):
        self.url, self.cookie, self.row = url, f"sessionid={session}", contact_pk
        page = self._get(f"{url}/accounting/xero/sales/customers/?show=all")[1]
        found = re.search(r'id="live-updates" hidden hx-get="([^"]+)"', page)
        assert found, "the page has no poller"
        self.poller = html.unescape(found.group(1))
        self.poll_ms: list[float] = []  # server time of the polls that found nothing

    def _get(self, url: str, **headers: str) -> tuple[int, str]:
        request = urllib.request.Request(url, headers={"Cookie": self.cookie, **headers})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()

    def poll(self) -> str:
        """One poll: the row as it came back, or "" when nothing changed."""
        query = urlencode({"row": self.row, "next": "/accounting/xero/sales/customers/"})
        started = time.perf_counter()
        status, body = self._get(f"{self.url}{self.poller}&{query}", **{"HX-Request": "true"})
        if status == 204:
            self.poll_ms.append((time.perf_counter() - started) * 1000)
            return ""
        found = re.search(r'id="live-updates" hidden hx-get="([^"]+)"', body)
        assert found, body[:500]
        self.poller = html.unescape(found.group(1))
        row = re.search(rf'<tr id="contact-{self.row}".*?</tr>', body, re.S)
        return row.group(0) if row else ""


def until_shown(page: OpenPage, interval: float, started: float, invalid: bool) -> float:
    """Poll every `interval` from a random phase, as a page opened at any time would, until
    the row shows the link invalid (or valid again); seconds since `started`."""
    time.sleep(random.uniform(0, interval))
    while True:
        row = page.poll()
        if row and (("Archived in Xero" in row) == invalid):
            return time.perf_counter() - started
        if time.perf_counter() - started > GIVE_UP:
            return math.inf
        time.sleep(interval)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def linked_contacts(control: Any, connection: Any, n: int) -> list[tuple[Any, str]]:
    """`n` Xero contacts in the sandbox, mirrored, each linked to an Omni customer."""
    from contacts.models import Contact
    from sync.links import mirror
    from sync.models import ContactLink, LinkMethod
    from tests.factories import ContactFactory

    tenant = str(connection.tenant_id)
    xero_ids = control.seed_contacts(
        tenant, [{"Name": f"Bench Customer {i:04} Ltd"} for i in range(n)]
    )
    mirror.xero_contacts_refresh(connection=connection)
    pairs = [
        (cast(Contact, ContactFactory(name=f"Bench Customer {i:04}")), xero_id)
        for i, xero_id in enumerate(xero_ids)
    ]
    ContactLink.objects.bulk_create(
        ContactLink(
            contact=contact,
            connection=connection,
            xero_contact_id=xero_id,
            xero_name=f"{contact.name} Ltd",
            method=LinkMethod.EXISTING,
        )
        for contact, xero_id in pairs
    )
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1000, help="linked, then changed at once")
    parser.add_argument("--repeat", type=int, default=20, help="archive/restore rounds")
    parser.add_argument("--interval", type=float, default=2.0, help="the page's polling, s")
    parser.add_argument("--database-url", default="", help="empty: a throwaway SQLite file")
    args = parser.parse_args()

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, no collectstatic
    folder = django_setup("bench-webhooks-", args.database_url)
    for noisy in ("axes", "django.request"):  # logins, and the wrongly signed intent checks
        logging.getLogger(noisy).setLevel(logging.ERROR)
    os.environ["XERO_WEBHOOK_KEY"] = KEY
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from sync.models import ContactLink, WebhookEvent, XeroApiCall
    from sync.roles import ACCOUNTANTS
    from tests.plugins.sandbox import start_sandbox, stop_sandbox

    settings.XERO_WEBHOOK_KEY = KEY
    sandbox = start_sandbox(folder / "sandbox.json")  # Xero's own limits: 60/min, 5,000/day
    processes: list[subprocess.Popen] = []
    missed = False
    try:
        control, connection = sandbox_connect(sandbox.url)
        url, _server = serve()
        processes.append(worker(sandbox.url))
        hook = control.webhook(url=f"{url}/webhooks/xero", key=KEY, intent=True)
        assert hook["status"] == "enabled", hook  # the endpoint passed intent to receive
        pairs = linked_contacts(control, connection, args.contacts)
        accountant = User.objects.create_user("bench-accountant")
        accountant.groups.add(Group.objects.get(name=ACCOUNTANTS))
        client = Client()
        client.force_login(accountant)
        watched, watched_xero = pairs[0]
        page = OpenPage(url, client.cookies["sessionid"].value, watched.pk)
        limits = control.call("GET", "/_sandbox/rate-limits")
        print(
            f"sandbox rate limits {'on' if limits['enabled'] else 'OFF'}: {limits['minute']} "
            f"calls a minute; webhooks every {hook.get('round_seconds', 1)} s; worker: "
            f"db_worker; {args.contacts:,} linked contacts; {os.cpu_count()} CPUs, load "
            f"average {os.getloadavg()[0]:.1f}"
        )

        # (a) An archive, then a restore, each until the open page's poll shows it.
        seconds: dict[str, list[float]] = {"archive": [], "restore": []}
        for _ in range(args.repeat):
            for action, invalid in (("archive", True), ("restore", False)):
                started = time.perf_counter()
                getattr(control, action)(watched_xero)
                seconds[action].append(until_shown(page, args.interval, started, invalid))
        every = seconds["archive"] + seconds["restore"]
        p50, p95 = statistics.median(every), percentile(every, 0.95)
        verdict = "ok" if p95 < TARGET_P95 else "MISSED"
        missed |= verdict != "ok"
        print(
            "\n(a) a change in the sandbox -> its row shown on the open page, polled every "
            f"{args.interval:g} s"
        )
        for action, values in seconds.items():
            print(
                f"  {action:<8} {len(values):>3}: p50 {statistics.median(values):.2f} s, "
                f"p95 {percentile(values, 0.95):.2f} s, worst {max(values):.2f} s"
            )
        print(
            f"  all      {len(every):>3}: p50 {p50:.2f} s, p95 {p95:.2f} s, "
            f"target p95 < {TARGET_P95:g} s  {verdict}"
        )
        if page.poll_ms:
            print(
                "  a poll that finds nothing (204): median "
                f"{statistics.median(page.poll_ms):.1f} ms, "
                f"p95 {percentile(page.poll_ms, 0.95):.1f} ms over {len(page.poll_ms)} polls"
            )

        # (b) Every linked contact archived at once.
        time.sleep(2)  # the last restore's delivery and processing settle
        calls_before = XeroApiCall.objects.count()
        events_before = WebhookEvent.objects.count()
        started = time.perf_counter()
        for _, xero_id in pairs:
            control.archive(xero_id)
        changed_at = time.perf_counter() - started
        links = ContactLink.objects.filter(connection=connection)
        while links.filter(invalid_reason="archived").count() < len(pairs):
            if time.perf_counter() - started > 10 * GIVE_UP:
                break
            time.sleep(0.5)
        elapsed = time.perf_counter() - started
        archived = links.filter(invalid_reason="archived").count()
        calls = XeroApiCall.objects.count() - calls_before
        target = math.ceil(len(pairs) / IDS_PER_CALL) + 1
        verdict = "ok" if calls <= target and archived == len(pairs) else "MISSED"
        missed |= verdict != "ok"
        print(f"\n(b) {len(pairs):,} linked contacts archived at once (in {changed_at:.1f} s)")
        print(
            f"  {WebhookEvent.objects.count() - events_before:,} events stored, {archived:,} links "
            f"invalid after {elapsed:.1f} s"
        )
        print(
            f"  Xero API calls {calls:>4}, target at most {target} "
            f"(ceil({len(pairs)}/{IDS_PER_CALL}) + 1)  {verdict}"
        )
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
        stop_sandbox(sandbox)
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
