"""The control API (`/_sandbox/…`, JSON, no auth) and the Xero-side web UI (`/`, `/ui/…`).

Both act on the state directly: nothing here counts against rate limits or needs a token.
xero_sandbox/README.md documents every route.
"""

import json
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from xero_sandbox import contacts, documents, pages, seed, store
from xero_sandbox.common import Ctx
from xero_sandbox.faults import Faults
from xero_sandbox.limits import RateLimiter
from xero_sandbox.store import Store
from xero_sandbox.web import Handler, Request, Response, Router

TABLES = {
    "invoices": "invoices",
    "creditnotes": "credit_notes",
    "purchaseorders": "purchase_orders",
}


def _json(payload: Any, status: int = 200) -> Response:
    return Response.json(status, payload)


def _error(message: str, status: int = 400) -> Response:
    return _json({"error": message}, status)


def _body(req: Request) -> dict:
    try:
        payload = req.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {"items": payload}


class Control:
    def __init__(self, store: Store, limiter: RateLimiter, faults: Faults):
        self.store, self.limiter, self.faults = store, limiter, faults
        self.router = Router[Handler]()
        add = self.router.add
        add("POST", "/_sandbox/reset", self.reset)
        add("GET", "/_sandbox/state", self.summary)
        add("GET", "/_sandbox/organisations", self.organisations)
        add("POST", "/_sandbox/organisations", self.create_organisation)
        add("POST", "/_sandbox/organisations/{tenant}", self.update_organisation)
        add("GET", "/_sandbox/organisations/{tenant}/contacts", self.list_contacts)
        add("POST", "/_sandbox/organisations/{tenant}/contacts", self.seed_contacts)
        add("GET", "/_sandbox/organisations/{tenant}/{table}", self.list_documents)
        add("GET", "/_sandbox/contacts/{contact}", self.get_contact)
        for action in ("archive", "restore", "merge", "gdpr"):
            add("POST", f"/_sandbox/contacts/{{contact}}/{action}", self._action(action))
        add("POST", "/_sandbox/clients", self.create_client)
        add("GET", "/_sandbox/connections", self.connections)
        add("POST", "/_sandbox/faults", self.add_fault)
        add("GET", "/_sandbox/faults", lambda req: _json({"faults": self.faults.describe()}))
        add("DELETE", "/_sandbox/faults", self.clear_faults)
        add("GET", "/_sandbox/rate-limits", lambda req: _json(self.limiter.describe()))
        add("POST", "/_sandbox/rate-limits", self.rate_limits)
        add("POST", "/_sandbox/clock", self.clock)
        add("GET", "/_sandbox/clock", lambda req: _json({"now": self.store.now()}))
        add("POST", "/_sandbox/tokens/expire", self.expire_tokens)
        add("POST", "/_sandbox/save", self.save)
        # The web UI: plain forms posting here and redirecting back to /.
        add("GET", "/", self.home)
        add("POST", "/ui/reset", self.ui_reset)
        for action in ("archive", "restore", "merge", "gdpr"):
            add("POST", f"/ui/contacts/{{contact}}/{action}", self._ui_action(action))

    def handle(self, req: Request) -> Response:
        handler, params, known = self.router.match(req.method, req.path)
        if handler is None:
            return _error("method not allowed", 405) if known else _error("no such route", 404)
        req.params = params
        return handler(req)

    # State --------------------------------------------------------------------------------
    def reset(self, req: Request) -> Response:
        self.store.reset()
        self.limiter.clear()
        self.faults.clear()
        return self.summary(req)

    def summary(self, req: Request) -> Response:
        with self.store.lock:
            orgs = {
                tid: {
                    "name": org["organisation"]["Name"],
                    "day_limit": org["day_limit"],
                    "contacts": len(org["contacts"]),
                    "invoices": len(org["invoices"]),
                    "credit_notes": len(org["credit_notes"]),
                    "purchase_orders": len(org["purchase_orders"]),
                }
                for tid, org in self.store.state["orgs"].items()
            }
            return _json(
                {
                    "now": self.store.now(),
                    "clock_offset": self.store.state["clock_offset"],
                    "organisations": orgs,
                    "clients": sorted(self.store.state["clients"]),
                    "connections": len(self.store.state["connections"]),
                    "rate_limits": self.limiter.describe(),
                    "faults": self.faults.describe(),
                }
            )

    def save(self, req: Request) -> Response:
        self.store.save_now()
        return _json({"saved": True})

    # Organisations ------------------------------------------------------------------------
    def organisations(self, req: Request) -> Response:
        with self.store.lock:
            rows = [
                {
                    "tenantId": tid,
                    "name": org["organisation"]["Name"],
                    "edition": org["organisation"]["Class"],
                    "day_limit": org["day_limit"],
                }
                for tid, org in self.store.state["orgs"].items()
            ]
        return _json(rows)

    def create_organisation(self, req: Request) -> Response:
        body = _body(req)
        tier = str(body.get("tier", "STANDARD")).upper()
        day_limit = int(body.get("day_limit") or (1000 if tier == "STARTER" else 5000))
        tenant_id = str(body.get("tenantId") or uuid.uuid4()).lower()
        with self.store.lock:
            store.add_org(
                self.store.state,
                tenant_id,
                body.get("name") or "Sandbox Organisation",
                tier,
                day_limit,
                self.store.now(),
            )
            self.store.changed()
        return _json({"tenantId": tenant_id, "day_limit": day_limit}, 201)

    def update_organisation(self, req: Request) -> Response:
        body = _body(req)
        with self.store.lock:
            org = self.store.org(req.params["tenant"].lower())
            if org is None:
                return _error("unknown organisation", 404)
            if "day_limit" in body:
                org["day_limit"] = int(body["day_limit"])
            if body.get("name"):
                org["organisation"]["Name"] = org["organisation"]["LegalName"] = body["name"]
            self.store.changed()
            return _json({"tenantId": req.params["tenant"], "day_limit": org["day_limit"]})

    def create_client(self, req: Request) -> Response:
        """Register another app; with `tenantId` it is a custom connection."""
        body = _body(req)
        client_id = body.get("client_id") or uuid.uuid4().hex.upper()
        secret = body.get("client_secret") or uuid.uuid4().hex
        tenant_id = body.get("tenantId")
        with self.store.lock:
            if tenant_id and self.store.org(tenant_id.lower()) is None:
                return _error("unknown organisation", 404)
            client = store.add_client(
                self.store.state,
                client_id,
                secret,
                name=body.get("name", ""),
                tenant_id=tenant_id.lower() if tenant_id else None,
                scopes=body.get("scopes"),
                redirect_uris=body.get("redirect_uris"),
            )
            self.store.changed()
        return _json(client, 201)

    def connections(self, req: Request) -> Response:
        with self.store.lock:
            return _json(list(self.store.state["connections"].values()))

    # Contacts and documents ------------------------------------------------------------------
    def _org(self, req: Request) -> dict | None:
        return self.store.org(req.params["tenant"].lower())

    def list_contacts(self, req: Request) -> Response:
        with self.store.lock:
            org = self._org(req)
            if org is None:
                return _error("unknown organisation", 404)
            return _json([contacts.render(c, merged_to=True) for c in org["contacts"].values()])

    def seed_contacts(self, req: Request) -> Response:
        """Bulk seed: a list of contact bodies, or `{"generate": N}` realistic ones."""
        body = _body(req)
        bodies = body.get("contacts") or body.get("items") or []
        if body.get("generate"):
            bodies = seed.generated_contacts(int(body["generate"]), int(body.get("seed", 7)))
        with self.store.lock:
            org = self._org(req)
            if org is None:
                return _error("unknown organisation", 404)
            created, rejected = contacts.seed(org, bodies, self.store.now())
            self.store.changed()
            ids = [c["ContactID"] for c in created]
        return _json({"created": len(ids), "ContactIDs": ids, "rejected": rejected}, 201)

    def list_documents(self, req: Request) -> Response:
        table = TABLES.get(req.params["table"].lower())
        if table is None:
            return _error("no such table", 404)
        kind = documents.KINDS[req.params["table"].lower()]
        with self.store.lock:
            org = self._org(req)
            if org is None:
                return _error("unknown organisation", 404)
            ctx = Ctx(self.store, req, req.params["tenant"], org, self.store.now(), "")
            rows = [documents.render(ctx, kind, d, with_lines=True) for d in org[table].values()]
        return _json(rows)

    def get_contact(self, req: Request) -> Response:
        with self.store.lock:
            try:
                _, contact = contacts.locate(self.store.state, req.params["contact"])
            except contacts.ActionError as error:
                return _error(str(error), 404)
            return _json(contacts.render(contact, merged_to=True))

    def _apply(self, action: str, contact_id: str, body: dict) -> dict:
        with self.store.lock:
            now = self.store.now()
            state = self.store.state
            if action == "merge":
                result = contacts.merge(state, contact_id, str(body.get("into", "")), now)
            else:
                result = getattr(contacts, action)(state, contact_id, now)
            self.store.changed()
            return contacts.render(result, merged_to=True)

    def _action(self, action: str) -> Callable[[Request], Response]:
        def handler(req: Request) -> Response:
            try:
                return _json(self._apply(action, req.params["contact"], _body(req)))
            except contacts.ActionError as error:
                return _error(str(error), 409)

        return handler

    # Faults, limits, clock, tokens ---------------------------------------------------------
    def add_fault(self, req: Request) -> Response:
        try:
            fault = self.faults.add(_body(req))
        except (TypeError, ValueError) as error:
            return _error(str(error))
        return _json(fault.describe(), 201)

    def clear_faults(self, req: Request) -> Response:
        self.faults.clear()
        return _json({"faults": []})

    def rate_limits(self, req: Request) -> Response:
        body = _body(req)
        settings: dict[str, Any] = {}
        for name in ("minute", "concurrent", "app_minute"):
            if name in body:
                settings[name] = int(body[name])
        if "day" in body:
            settings["day_override"] = int(body["day"]) if body["day"] is not None else None
        if "enabled" in body:
            settings["enabled"] = bool(body["enabled"])
        if "scale" in body:
            settings["scale"] = float(body["scale"])
        if body.get("reset_counters"):
            self.limiter.clear()
        return _json(self.limiter.configure(**settings))

    def clock(self, req: Request) -> Response:
        seconds = float(_body(req).get("advance", 0))
        if seconds < 0:
            return _error("the sandbox clock only moves forward")
        return _json({"now": self.store.advance(seconds)})

    def expire_tokens(self, req: Request) -> Response:
        """Expire or revoke tokens for tests: `{"refresh_token": …, "revoke": true}` or
        `{"access_token": …}`; with no token named, every access token expires."""
        body = _body(req)
        with self.store.lock:
            state, now = self.store.state, self.store.now()
            refresh = state["refresh_tokens"].get(body.get("refresh_token", ""))
            if refresh:
                refresh["revoked" if body.get("revoke", True) else "expires_at"] = (
                    True if body.get("revoke", True) else now - 1
                )
            access = state["access_tokens"].get(body.get("access_token", ""))
            if access:
                access["expires_at"] = now - 1
            if not body.get("refresh_token") and not body.get("access_token"):
                for record in state["access_tokens"].values():
                    record["expires_at"] = min(record["expires_at"], now - 1)
            self.store.changed()
        return _json({"expired": True})

    # The web UI ------------------------------------------------------------------------------
    def home(self, req: Request) -> Response:
        with self.store.lock:
            return Response.html(pages.home_page(self.store.state["orgs"], req.arg("message")))

    def ui_reset(self, req: Request) -> Response:
        self.reset(req)
        return Response.redirect("/?message=" + quote("Sandbox reset"))

    def _ui_action(self, action: str) -> Callable[[Request], Response]:
        def handler(req: Request) -> Response:
            form = {k: v[-1] for k, v in req.form().items()}
            try:
                contact = self._apply(action, req.params["contact"], form)
                message = f"{contact['Name']}: {contact['ContactStatus']}"
            except contacts.ActionError as error:
                message = str(error)
            return Response.redirect("/?message=" + quote(message))

        return handler


def dumps_pretty(payload: Any) -> str:
    return json.dumps(payload, indent=2)
