"""The sandbox's whole state: one JSON-able dict, persisted to its own file.

Locks: `Store.lock` guards the registry (clients, tokens, connections, codes, idempotency,
the clock and the set of organisations) and is only ever held briefly; each organisation
has a readers-writer lock of its own (`reading`/`writing`), so a long query over one
organisation's contacts holds up neither the other organisations, nor the control API, nor
reads of the same organisation. Order: an organisation's lock first, then `Store.lock`.

Writes mark the state dirty; a background thread saves at most every `SAVE_DELAY` seconds
(temp file + rename, so a crash never leaves half a file). Debouncing is what keeps bulk
seeding of 10,000 contacts fast. The file carries `SCHEMA_VERSION`; a file of another
version, or one that cannot be read, is moved aside (`….old`) and the sandbox starts fresh.
"""

import copy
import json
import os
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from xero_sandbox import seed

SAVE_DELAY = 0.3
SCHEMA_VERSION = 2
DEFAULT_CLIENT_ID = "sandbox-app"
DEFAULT_CLIENT_SECRET = "sandbox-secret"
DEFAULT_CLIENT_NAME = "Sandbox app"
REGISTRY_TABLES = ("clients", "connections", "codes", "access_tokens", "refresh_tokens")


def fresh_state(now: float) -> dict[str, Any]:
    """The state right after a reset: the demo organisations, no clients yet."""
    state: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "clock_offset": 0.0,
        **{table: {} for table in REGISTRY_TABLES},
        "orgs": {},
        "idempotency": {},
    }
    for tenant_id, name, edition, day_limit in seed.DEMO_ORGANISATIONS:
        add_org(state, tenant_id, name, edition, day_limit, now)
    return state


def add_client(
    state: dict[str, Any],
    client_id: str,
    client_secret: str,
    *,
    name: str = "",
    tenant_id: str | None = None,
    scopes: list[str] | None = None,
    redirect_uris: list[str] | None = None,
) -> dict[str, Any]:
    """Register an app; with `tenant_id` it is a custom connection (client_credentials)."""
    client = {
        "client_id": client_id,
        "client_secret": client_secret,
        "name": name or client_id,
        "custom_tenant_id": tenant_id,
        "scopes": scopes
        or ["accounting.contacts", "accounting.transactions", "accounting.settings.read"],
        "redirect_uris": list(redirect_uris or []),
    }
    state["clients"][client_id] = client
    return client


def add_org(
    state: dict[str, Any],
    tenant_id: str,
    name: str,
    edition: str,
    day_limit: int,
    now: float,
) -> dict[str, Any]:
    org = {
        "organisation": seed.organisation(tenant_id, name, edition, now),
        "day_limit": day_limit,
        "accounts": seed.accounts(tenant_id, now),
        "tax_rates": seed.tax_rates(),
        "currencies": [
            seed.currency(code) for code in ["NZD", *seed.FOREIGN_CURRENCIES.get(tenant_id, [])]
        ],
        "tracking_categories": seed.tracking_categories(tenant_id),
        "contacts": {},
        "invoices": {},
        "credit_notes": {},
        "purchase_orders": {},
        "payments": {},
        "sequences": {"invoices": 0, "credit_notes": 0, "purchase_orders": 0},
    }
    state["orgs"][tenant_id] = org
    return org


class ReadWriteLock:
    """Many readers at once, or one writer (re-entrant for the writer's own thread).

    Readers do not queue behind a waiting writer: a cheap read must not wait for a long
    read just because a write arrived in between.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer: int | None = None
        self._depth = 0

    @contextmanager
    def reading(self) -> Iterator[None]:
        me = threading.get_ident()
        with self._cond:
            own = self._writer == me  # a read inside this thread's own write
            while not own and self._writer is not None:
                self._cond.wait()
            if not own:
                self._readers += 1
        try:
            yield
        finally:
            if not own:
                with self._cond:
                    self._readers -= 1
                    if not self._readers:
                        self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        me = threading.get_ident()
        with self._cond:
            if self._writer != me:
                while self._writer is not None or self._readers:
                    self._cond.wait()
                self._writer = me
            self._depth += 1
        try:
            yield
        finally:
            with self._cond:
                self._depth -= 1
                if not self._depth:
                    self._writer = None
                    self._cond.notify_all()


class Store:
    """State, its locks, the sandbox clock and the debounced writer.

    `prepare(state, now)` runs on a fresh or loaded state and after every reset: it
    registers the apps given at start and seeds what the command line asked for.
    """

    def __init__(self, path: Path | None, prepare: Callable[[dict, float], None] | None = None):
        self.path = path
        self._prepare = prepare or (lambda state, now: None)
        # What every form of the sandbox's pages carries (consent screen, web UI), checked on
        # POST so another site's page cannot submit them (CSRF); new in every process.
        self.form_token = secrets.token_urlsafe(32)
        self.lock = threading.RLock()
        self._org_locks: dict[str, ReadWriteLock] = {}
        self._no_org_lock = ReadWriteLock()
        self._org_locks_lock = threading.Lock()
        self._dirty = threading.Event()
        self._stopped = threading.Event()
        self.state = self._load() or fresh_state(time.time())
        self._prepare(self.state, self.now())
        self._writer = threading.Thread(target=self._write_loop, daemon=True, name="state-writer")
        self._writer.start()

    # Locks --------------------------------------------------------------------------------
    def org_lock(self, tenant_id: str) -> ReadWriteLock:
        """The organisation's lock; names no organisation has share one (no lock per typo)."""
        with self._org_locks_lock:
            if tenant_id not in self.state["orgs"]:
                return self._no_org_lock
            return self._org_locks.setdefault(tenant_id, ReadWriteLock())

    @contextmanager
    def reading(self, tenant_id: str) -> Iterator[dict | None]:
        """Read one organisation (None if there is none) while others may read it too."""
        lock = self.org_lock(tenant_id)
        with lock.reading():
            yield None if lock is self._no_org_lock else self.org(tenant_id)

    @contextmanager
    def writing(self, tenant_id: str) -> Iterator[dict | None]:
        """Change one organisation (None if there is none); nobody else reads it meanwhile."""
        lock = self.org_lock(tenant_id)
        with lock.writing():
            yield None if lock is self._no_org_lock else self.org(tenant_id)

    def orgs(self) -> list[tuple[str, dict]]:
        """The organisations as they are now (a copy of the list, safe to iterate)."""
        with self.lock:
            return list(self.state["orgs"].items())

    # The clock ----------------------------------------------------------------------
    def now(self) -> float:
        """Sandbox time: real time plus whatever tests moved the clock forward."""
        return time.time() + self.state["clock_offset"]

    def advance(self, seconds: float) -> float:
        with self.lock:
            self.state["clock_offset"] += seconds
            self.changed()
            return self.now()

    # Persistence --------------------------------------------------------------------
    def _load(self) -> dict[str, Any] | None:
        if not self.path or not self.path.exists() or self.path.stat().st_size == 0:
            return None
        try:
            with self.path.open(encoding="utf-8") as handle:
                state = json.load(handle)
            problem = _schema_problem(state)
        except (OSError, ValueError, RecursionError) as error:
            problem = f"cannot be read ({error})"
        if not problem:
            return state
        aside = self.path.with_name(self.path.name + ".old")
        os.replace(self.path, aside)
        sys.stderr.write(
            f"[sandbox] state file {self.path} {problem}: starting fresh; "
            f"the old file is kept as {aside}\n"
        )
        return None

    def changed(self) -> None:
        self._dirty.set()

    def reset(self) -> None:
        with self.lock:
            self.state = fresh_state(time.time())
            self._prepare(self.state, self.now())
            self.changed()

    def save_now(self) -> None:
        if not self.path:
            return
        text = self.dumps()
        temp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.tmp")
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, self.path)

    def dumps(self) -> str:
        """The state as JSON, each part read under its own lock (no lock held for long)."""
        with self.lock:
            self._dirty.clear()
            top = {k: copy.deepcopy(v) for k, v in self.state.items() if k != "orgs"}
            orgs = list(self.state["orgs"].items())
        parts = []
        for tenant_id, org in orgs:
            with self.org_lock(tenant_id).reading():
                parts.append(f"{json.dumps(tenant_id)}:{json.dumps(org, separators=(',', ':'))}")
        head = json.dumps(top, separators=(",", ":"))
        return head[:-1] + ',"orgs":{' + ",".join(parts) + "}}"

    def _write_loop(self) -> None:
        while not self._stopped.is_set():
            if self._dirty.wait(timeout=0.5):
                time.sleep(SAVE_DELAY)  # gather a burst of writes into one save
                self.save_now()

    def close(self) -> None:
        self._stopped.set()
        self.save_now()

    # Helpers ------------------------------------------------------------------------
    def org(self, tenant_id: str) -> dict[str, Any] | None:
        return self.state["orgs"].get(tenant_id)


def _schema_problem(state: Any) -> str:
    """Why a loaded state cannot be used, or "" when it can."""
    if not isinstance(state, dict):
        return "is not a sandbox state"
    version = state.get("schema")
    if version != SCHEMA_VERSION:
        return f"has schema version {version!r}, not {SCHEMA_VERSION}"
    missing = [
        k for k in (*REGISTRY_TABLES, "orgs", "idempotency") if not isinstance(state.get(k), dict)
    ]
    if missing or not isinstance(state.get("clock_offset"), (int, float)):
        return f"is damaged (missing {', '.join(missing) or 'clock_offset'})"
    return ""
