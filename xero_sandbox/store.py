"""The sandbox's whole state: one JSON-able dict behind one lock, persisted to its own file.

Writes mark the state dirty; a background thread saves at most every `SAVE_DELAY` seconds
(temp file + rename, so a crash never leaves half a file). Debouncing is what keeps bulk
seeding of 10,000 contacts fast.
"""

import copy
import json
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from xero_sandbox import seed

SAVE_DELAY = 0.3
DEFAULT_CLIENT_ID = "omni-xero-demo"
DEFAULT_CLIENT_SECRET = "sandbox-secret"


def fresh_state(client_id: str, client_secret: str, now: float) -> dict[str, Any]:
    """The state right after a reset: demo organisations and the default client only."""
    state: dict[str, Any] = {
        "clock_offset": 0.0,
        "clients": {},
        "orgs": {},
        "connections": {},
        "codes": {},
        "access_tokens": {},
        "refresh_tokens": {},
        "idempotency": {},
    }
    add_client(state, client_id, client_secret, name="omni-xero (sandbox)")
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
        "redirect_uris": redirect_uris or [],
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
        "contacts": {},
        "invoices": {},
        "credit_notes": {},
        "purchase_orders": {},
        "sequences": {"invoices": 0, "credit_notes": 0, "purchase_orders": 0},
    }
    state["orgs"][tenant_id] = org
    return org


class Store:
    """State, its lock, the sandbox clock and the debounced writer."""

    def __init__(self, path: Path | None, client_id: str, client_secret: str):
        self.path = path
        self.client_id, self.client_secret = client_id, client_secret
        self.lock = threading.RLock()
        self._dirty = threading.Event()
        self._stopped = threading.Event()
        self.state = self._load() or fresh_state(client_id, client_secret, time.time())
        # The command-line client always exists, even in an old state file.
        if client_id not in self.state["clients"]:
            add_client(self.state, client_id, client_secret, name="omni-xero (sandbox)")
        self.state["clients"][client_id]["client_secret"] = client_secret
        self._writer = threading.Thread(target=self._write_loop, daemon=True, name="state-writer")
        self._writer.start()

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
        with self.path.open(encoding="utf-8") as handle:
            return json.load(handle)

    def changed(self) -> None:
        self._dirty.set()

    def reset(self) -> None:
        with self.lock:
            self.state = fresh_state(self.client_id, self.client_secret, time.time())
            self.changed()

    def save_now(self) -> None:
        if not self.path:
            return
        with self.lock:
            self._dirty.clear()
            text = json.dumps(self.state, separators=(",", ":"))
        temp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.tmp")
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, self.path)

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

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.state)
