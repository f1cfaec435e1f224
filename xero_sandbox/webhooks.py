"""Webhooks, delivered as Xero delivers them.

A webhook is configured per app (client_id) through the control API: the URL to POST to and
the key to sign with. Xero sends an app the events of the organisations connected to it.
Events are found by watching the state rather than hooked into every write: each round,
every contact and document whose `UpdatedDateUTC` changed since the last round is an event
(CREATE the first time the sandbox sees it, UPDATE after), so API calls, the control API's
actions (archive, restore, merge, GDPR) and the web UI all produce them alike.

What Xero documents (https://developer.xero.com/documentation/guides/webhooks/overview/):
a POST of `{"events": [...], "firstEventSequence", "lastEventSequence", "entropy"}` with
`x-xero-signature` = base64(HMAC-SHA256(key, body)); the receiver answers 200 (and 401 to
a wrongly signed one); "intent to receive" requests, one signed right and one wrong, before
a webhook is enabled; failed deliveries retried with decreasing frequency for up to 24
hours, then the webhook is disabled; delivery at least once, in no promised order.
[sandbox] The batch size (100 events), the round length, the backoff (doubling from
`retry_seconds`) and `retry_window` are this sandbox's choices, scaled for tests; Xero
publishes none of them. `duplicates` (a share of events delivered twice) and `reorder`
(each batch shuffled) are faults on demand.
"""

import base64
import hashlib
import hmac
import json
import random
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from xero_sandbox.store import Store

BATCH = 100  # [sandbox] events in one delivery
CATEGORIES = (
    ("contacts", "CONTACT", "ContactID", "Contacts"),
    ("invoices", "INVOICE", "InvoiceID", "Invoices"),
    ("credit_notes", "CREDITNOTE", "CreditNoteID", "CreditNotes"),
)
TIMEOUT = 5.0  # Xero expects an answer within 5 seconds


def signature(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Hook:
    client_id: str
    url: str
    key: str
    round_seconds: float = 1.0
    retry_seconds: float = 1.0
    retry_window: float = 24 * 3600.0
    duplicates: float = 0.0
    reorder: bool = False
    status: str = "enabled"  # "enabled", "intent failed" or "disabled"
    pending: list[dict] = field(default_factory=list)
    sequence: int = 0
    delivered: int = 0  # events answered 200
    deliveries: int = 0  # POSTs answered 200
    failures: int = 0  # POSTs not answered 200
    failing_since: float | None = None
    next_try: float = 0.0
    backoff: float = 0.0
    last_status: int | None = None
    last_error: str = ""
    seen: dict[tuple[str, str], Any] = field(default_factory=dict)
    tenants: set[str] = field(default_factory=set)  # whose records are in `seen`

    def describe(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "url": self.url,
            "status": self.status,
            "pending": len(self.pending),
            "delivered": self.delivered,
            "deliveries": self.deliveries,
            "failures": self.failures,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "duplicates": self.duplicates,
            "reorder": self.reorder,
        }


class Webhooks:
    """The configured webhooks and the thread that finds and delivers their events."""

    def __init__(self, store: Store):
        self.store = store
        self.hooks: dict[str, Hook] = {}
        self.lock = threading.Lock()
        self._rounds = threading.Lock()  # one round at a time (the thread's, or a flush)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="webhooks")
        self._thread.start()

    # Configuration ------------------------------------------------------------------------
    def configure(self, hook: Hook, *, intent: bool) -> Hook:
        """Set an app's webhook; with `intent`, first check the receiver as Xero does."""
        self._snapshot(hook, self._tenants(hook.client_id))
        if intent and not self._intent_ok(hook):
            hook.status = "intent failed"
        with self.lock:
            self.hooks[hook.client_id] = hook
        self._wake.set()
        return hook

    def remove(self, client_id: str) -> bool:
        with self.lock:
            return self.hooks.pop(client_id, None) is not None

    def describe(self) -> list[dict[str, Any]]:
        with self.lock:
            return [hook.describe() for hook in self.hooks.values()]

    def reset(self) -> None:
        with self.lock:
            self.hooks.clear()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()

    def flush(self) -> None:
        """One round now (tests: no waiting for the thread's next round)."""
        self._round(force=True)

    # Finding events -----------------------------------------------------------------------
    def _tenants(self, client_id: str) -> list[str]:
        with self.store.lock:
            return sorted(
                {
                    c["tenantId"]
                    for c in self.store.state["connections"].values()
                    if c.get("client_id") == client_id and c.get("tenantId")
                }
            )

    def _snapshot(self, hook: Hook, tenants: list[str]) -> None:
        """What these organisations hold now is no event: an organisation connected to the
        app later starts from what it has then, as it does in Xero."""
        for tenant, _category, key, updated in self._records(tenants):
            hook.seen[(tenant, key)] = updated
        hook.tenants.update(tenants)

    def _records(self, tenants: list[str]):
        for tenant in tenants:
            with self.store.reading(tenant) as org:
                if org is None:
                    continue
                rows = [
                    (category, str(record.get(id_field) or record_id), record.get("UpdatedDateUTC"))
                    for table, category, id_field, _ in CATEGORIES
                    for record_id, record in org.get(table, {}).items()
                ]
            for category, record_id, updated in rows:
                yield tenant, category, f"{category}:{record_id}", updated

    def _new_events(self, hook: Hook) -> list[dict]:
        events = []
        tenants = self._tenants(hook.client_id)
        self._snapshot(hook, [t for t in tenants if t not in hook.tenants])
        for tenant, category, key, updated in self._records(tenants):
            before = hook.seen.get((tenant, key), _MISSING)
            if before == updated:
                continue
            hook.seen[(tenant, key)] = updated
            record_id = key.split(":", 1)[1]
            path = next(p for _, c, _, p in CATEGORIES if c == category)
            when = datetime.fromtimestamp(updated or self.store.now(), UTC)
            events.append(
                {
                    "resourceUrl": f"https://api.xero.com/api.xro/2.0/{path}/{record_id}",
                    "resourceId": record_id,
                    "eventDateUtc": when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
                    "eventType": "CREATE" if before is _MISSING else "UPDATE",
                    "eventCategory": category,
                    "tenantId": tenant,
                    "tenantType": "ORGANISATION",
                }
            )
        return events

    # Delivering ---------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            with self.lock:
                wait = min((h.round_seconds for h in self.hooks.values()), default=1.0)
            self._wake.wait(wait)
            self._wake.clear()
            try:
                self._round()
            except Exception as error:
                print(f"xero_sandbox webhooks: {error!r}", flush=True)

    def _round(self, *, force: bool = False) -> None:
        with self._rounds:
            self._round_locked(force=force)

    def _round_locked(self, *, force: bool) -> None:
        with self.lock:
            hooks = list(self.hooks.values())
        for hook in hooks:
            if hook.status != "enabled":
                continue
            hook.pending.extend(self._new_events(hook))
            now = time.monotonic()
            if hook.pending and (force or now >= hook.next_try):
                self._deliver(hook)

    def _deliver(self, hook: Hook) -> None:
        batch = hook.pending[:BATCH]
        sent = list(batch)
        if hook.reorder:
            random.shuffle(sent)
        if hook.duplicates:
            sent += [e for e in batch if random.random() < hook.duplicates]
        first = hook.sequence + 1
        body = json.dumps(
            {
                "events": sent,
                "firstEventSequence": first,
                "lastEventSequence": first + len(sent) - 1,
                "entropy": secrets.token_hex(10).upper(),
            }
        ).encode()
        status = self._post(hook, body, signature(hook.key, body))
        hook.last_status = status
        now = time.monotonic()
        if status == 200:
            del hook.pending[: len(batch)]
            hook.sequence += len(sent)
            hook.delivered += len(sent)
            hook.deliveries += 1
            hook.failing_since, hook.backoff, hook.next_try = None, 0.0, 0.0
            hook.last_error = ""
            return
        hook.failures += 1
        hook.failing_since = hook.failing_since or now
        hook.backoff = hook.backoff * 2 if hook.backoff else hook.retry_seconds
        hook.next_try = now + hook.backoff
        if now - hook.failing_since >= hook.retry_window:
            hook.status = "disabled"  # as Xero does after a day of failures

    def _post(self, hook: Hook, body: bytes, signed: str) -> int:
        request = urllib.request.Request(
            hook.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "x-xero-signature": signed},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return response.status
        except urllib.error.HTTPError as error:
            hook.last_error = f"HTTP {error.code}"
            return error.code
        except (OSError, ValueError) as error:
            hook.last_error = str(error)[:200]
            return 0

    def _intent_ok(self, hook: Hook) -> bool:
        """Xero's intent to receive: an empty batch signed right (200 expected) and one
        signed wrong (401 expected), each answered with an empty body."""
        body = json.dumps(
            {
                "events": [],
                "firstEventSequence": 0,
                "lastEventSequence": 0,
                "entropy": secrets.token_hex(10).upper(),
            }
        ).encode()
        right = self._post(hook, body, signature(hook.key, body))
        wrong = self._post(hook, body, signature(hook.key + "-not", body))
        hook.last_status = right
        if (right, wrong) != (200, 401):
            hook.last_error = f"intent to receive: answered {right} and {wrong}, not 200 and 401"
            return False
        return True


_MISSING = object()
