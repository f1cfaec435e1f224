"""The control API (`/_sandbox/…`, JSON, no auth) and the Xero-side web UI (`/`, `/ui/…`).

Both act on the state directly: nothing here counts against rate limits or needs a token.
Every value a body gives is checked (type and range) and a bad one is a 400 naming it.
xero_sandbox/README.md documents every route.
"""

import json
import math
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from xero_sandbox import contacts, documents, pages, payments, seed, store
from xero_sandbox.common import Ctx
from xero_sandbox.faults import KINDS, Faults
from xero_sandbox.limits import RateLimiter
from xero_sandbox.store import Store
from xero_sandbox.web import Handler, Request, RequestLog, Response, Router
from xero_sandbox.webhooks import Hook, Webhooks

TABLES = {
    "invoices": "invoices",
    "creditnotes": "credit_notes",
    "purchaseorders": "purchase_orders",
}
TIERS = ("DEMO", "STARTER", "STANDARD", "PREMIUM")
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
BIG = 1_000_000_000
MAX_GENERATE = 100_000
# The clock stops well short of year 9999, the last datetime can render: tokens, windows
# and `UpdatedDateUTC` all add to it.
CLOCK_LIMIT = datetime(9000, 1, 1, tzinfo=UTC).timestamp()
UI_PAGE_SIZE = 50
CLIENT_FIELDS = ("client_id", "client_secret", "name", "scopes", "redirect_uris", "tenantId")
FAULT_FIELDS = ("kind", "status", "count", "share", "seconds", "path", "method", "retry_after")
WEBHOOK_FIELDS = (
    "client_id",
    "url",
    "key",
    "intent",
    "round_seconds",
    "retry_seconds",
    "retry_window",
    "duplicates",
    "reorder",
)
LIMIT_FIELDS = ("enabled", "minute", "day", "concurrent", "app_minute", "scale", "reset_counters")


class BadValue(ValueError):
    """A control-API value of the wrong type or out of range (a 400 naming it)."""


def _json(payload: Any, status: int = 200) -> Response:
    return Response.json(status, payload)


def _error(message: str, status: int = 400) -> Response:
    return _json({"error": message}, status)


def _body(req: Request, *fields: str) -> dict:
    """The JSON object a route takes, holding only these fields (a typo is a 400 too)."""
    try:
        payload = req.json()
    except ValueError as error:
        raise BadValue(f"the body is not JSON: {error}") from error
    if payload is None:
        return {}
    if isinstance(payload, list) and "items" in fields:
        return {"items": payload}
    if not isinstance(payload, dict):
        raise BadValue("the body must be a JSON object")
    unknown = sorted(set(payload) - set(fields))
    if unknown:
        expected = ", ".join(f for f in fields if f != "items") or "none"
        raise BadValue(f"unknown field {_shown(unknown[0])} (this route takes: {expected})")
    return payload


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) or math.isfinite(value) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(
    body: dict, name: str, low: float, high: float, *, whole: bool = True, default: Any = None
) -> Any:
    """A number in [low, high]: JSON numbers only (no strings, booleans, NaN or infinity)."""
    value = body.get(name, default)
    is_int = isinstance(value, int) and not isinstance(value, bool)
    is_real = is_int or (isinstance(value, float) and math.isfinite(value))
    if not (is_int if whole else is_real) or not low <= value <= high:
        kind = "a whole number" if whole else "a number"
        raise BadValue(f"{name} must be {kind} from {low:g} to {high:g}, not {_shown(value)}")
    return value


def _text(body: dict, name: str, default: str = "", *, longest: int = 255) -> str:
    value = body.get(name, default)
    if value is None:
        value = default
    if not isinstance(value, str) or len(value) > longest:
        raise BadValue(f"{name} must be text of at most {longest} characters, not {_shown(value)}")
    return value


def _flag(body: dict, name: str, default: bool = False) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise BadValue(f"{name} must be true or false, not {_shown(value)}")
    return value


def _texts(body: dict, name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise BadValue(f"{name} must be a list of text, not {_shown(value)}")
    return value


def _redirect_uri(value: Any) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadValue(f"a redirect URI must be an absolute http(s) URL, not {_shown(value)}")
    return value


def _tenant(value: Any, name: str = "tenantId") -> str:
    if not isinstance(value, str) or not GUID.match(value):
        raise BadValue(f"{name} must be a GUID, not {_shown(value)}")
    return value.lower()


class Control:
    def __init__(
        self,
        store: Store,
        limiter: RateLimiter,
        faults: Faults,
        requests: RequestLog | None = None,
        webhooks: Webhooks | None = None,
    ):
        self.store, self.limiter, self.faults = store, limiter, faults
        self.webhooks = webhooks or Webhooks(store)
        self.requests = requests or RequestLog()
        self.csrf_token = store.form_token
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
        add("POST", "/_sandbox/clients/{client}/redirect-uris", self.add_redirect_uri)
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
        add("GET", "/_sandbox/webhooks", lambda req: _json({"webhooks": self.webhooks.describe()}))
        add("POST", "/_sandbox/webhooks", self.configure_webhook)
        add("POST", "/_sandbox/webhooks/flush", self.flush_webhooks)
        add("DELETE", "/_sandbox/webhooks/{client}", self.remove_webhook)
        # The web UI: plain forms posting here and redirecting back to /.
        add("GET", "/", self.home)
        add("GET", "/ui/requests", self.requests_page)
        add("POST", "/ui/reset", self.ui_reset)
        for action in ("archive", "restore", "merge", "gdpr"):
            add("POST", f"/ui/contacts/{{contact}}/{action}", self._ui_action(action))
        add("POST", "/ui/invoices/{invoice}/pay", self.ui_pay)

    def handle(self, req: Request) -> Response:
        handler, params, known = self.router.match(req.method, req.path)
        if handler is None:
            return _error("method not allowed", 405) if known else _error("no such route", 404)
        req.params = params
        if req.method == "POST" and req.path.lower().startswith("/ui/"):
            refused = pages.forged_form(req, self.csrf_token)
            if refused:
                return refused
        try:
            return handler(req)
        except BadValue as error:
            return _error(str(error))

    # State --------------------------------------------------------------------------------
    def reset(self, req: Request) -> Response:
        self.store.reset()
        self.limiter.clear()
        self.faults.clear()
        self.requests.clear()
        self.webhooks.reset()
        return self.summary(req)

    def summary(self, req: Request) -> Response:
        orgs = {
            tid: {
                "name": org["organisation"]["Name"],
                "day_limit": org["day_limit"],
                # Sizes only: len() needs no organisation lock.
                "contacts": len(org["contacts"]),
                "invoices": len(org["invoices"]),
                "credit_notes": len(org["credit_notes"]),
                "purchase_orders": len(org["purchase_orders"]),
            }
            for tid, org in self.store.orgs()
        }
        with self.store.lock:
            registry = {
                "clock_offset": self.store.state["clock_offset"],
                "clients": sorted(self.store.state["clients"]),
                "connections": len(self.store.state["connections"]),
            }
        return _json(
            {
                "now": self.store.now(),
                **registry,
                "organisations": orgs,
                "rate_limits": self.limiter.describe(),
                "in_flight": self.limiter.in_flight(),
                "faults": self.faults.describe(),
            }
        )

    def save(self, req: Request) -> Response:
        self.store.save_now()
        return _json({"saved": True})

    # Organisations ------------------------------------------------------------------------
    def organisations(self, req: Request) -> Response:
        rows = [
            {
                "tenantId": tid,
                "name": org["organisation"]["Name"],
                "edition": org["organisation"]["Class"],
                "day_limit": org["day_limit"],
            }
            for tid, org in self.store.orgs()
        ]
        return _json(rows)

    def create_organisation(self, req: Request) -> Response:
        body = _body(req, "name", "tier", "day_limit", "tenantId")
        tier = _text(body, "tier", "STANDARD").upper()
        if tier not in TIERS:
            raise BadValue(f"tier must be one of {', '.join(TIERS)}, not {_shown(tier)}")
        day_limit = 1000 if tier == "STARTER" else 5000
        if body.get("day_limit") is not None:
            day_limit = _number(body, "day_limit", 1, BIG)
        name = _text(body, "name").strip() or "Sandbox Organisation"
        tenant_id = _tenant(body["tenantId"]) if body.get("tenantId") else str(uuid.uuid4())
        with self.store.lock:
            if self.store.org(tenant_id) is not None:
                return _error("an organisation with this tenantId exists", 409)
            store.add_org(self.store.state, tenant_id, name, tier, day_limit, self.store.now())
            self.store.changed()
        return _json({"tenantId": tenant_id, "day_limit": day_limit}, 201)

    def update_organisation(self, req: Request) -> Response:
        body = _body(req, "day_limit", "name")
        day_limit = _number(body, "day_limit", 1, BIG) if "day_limit" in body else None
        name = _text(body, "name").strip()
        with self.store.writing(req.params["tenant"].lower()) as org:
            if org is None:
                return _error("unknown organisation", 404)
            if day_limit is not None:
                org["day_limit"] = day_limit
            if name:
                org["organisation"]["Name"] = org["organisation"]["LegalName"] = name
            self.store.changed()
            return _json({"tenantId": req.params["tenant"], "day_limit": org["day_limit"]})

    def create_client(self, req: Request) -> Response:
        """Register another app; with `tenantId` it is a custom connection."""
        body = _body(req, *CLIENT_FIELDS)
        client_id = _text(body, "client_id") or uuid.uuid4().hex.upper()
        secret = _text(body, "client_secret") or uuid.uuid4().hex
        name = _text(body, "name")
        scopes = _texts(body, "scopes")
        redirect_uris = [_redirect_uri(u) for u in _texts(body, "redirect_uris") or []]
        tenant_id = _tenant(body["tenantId"]) if body.get("tenantId") else None
        with self.store.lock:
            if tenant_id and self.store.org(tenant_id) is None:
                return _error("unknown organisation", 404)
            client = store.add_client(
                self.store.state,
                client_id,
                secret,
                name=name,
                tenant_id=tenant_id,
                scopes=scopes,
                redirect_uris=redirect_uris,
            )
            self.store.changed()
            return _json(dict(client), 201)

    def add_redirect_uri(self, req: Request) -> Response:
        """Register one more redirect URI for an app (the consent screen accepts only those)."""
        uri = _redirect_uri(_body(req, "redirect_uri").get("redirect_uri"))
        with self.store.lock:
            client = self.store.state["clients"].get(req.params["client"])
            if client is None:
                return _error("unknown client", 404)
            if uri not in client["redirect_uris"]:
                client["redirect_uris"].append(uri)
                self.store.changed()
            return _json(
                {"client_id": client["client_id"], "redirect_uris": client["redirect_uris"]}
            )

    def connections(self, req: Request) -> Response:
        with self.store.lock:
            return _json(list(self.store.state["connections"].values()))

    # Contacts and documents ------------------------------------------------------------------
    def list_contacts(self, req: Request) -> Response:
        with self.store.reading(req.params["tenant"].lower()) as org:
            if org is None:
                return _error("unknown organisation", 404)
            return _json([contacts.render(c, merged_to=True) for c in org["contacts"].values()])

    def seed_contacts(self, req: Request) -> Response:
        """Bulk seed: a list of contact bodies, or `{"generate": N}` realistic ones."""
        body = _body(req, "contacts", "items", "generate", "seed")
        bodies = body.get("contacts") or body.get("items") or []
        if not isinstance(bodies, list) or not all(isinstance(b, dict) for b in bodies):
            raise BadValue("contacts must be a list of contact objects")
        if "generate" in body:
            count = _number(body, "generate", 1, MAX_GENERATE)
            bodies = seed.generated_contacts(count, _number(body, "seed", 0, BIG, default=7))
        with self.store.writing(req.params["tenant"].lower()) as org:
            if org is None:
                return _error("unknown organisation", 404)
            created, rejected = contacts.seed(org, bodies, self.store.now())
            self.store.changed()
            ids = [c["ContactID"] for c in created]
        return _json({"created": len(ids), "ContactIDs": ids, "rejected": rejected}, 201)

    def list_documents(self, req: Request) -> Response:
        if req.params["table"].lower() == "payments":
            return self.list_payments(req)
        table = TABLES.get(req.params["table"].lower())
        if table is None:
            return _error("no such table", 404)
        kind = documents.KINDS[req.params["table"].lower()]
        with self.store.reading(req.params["tenant"].lower()) as org:
            if org is None:
                return _error("unknown organisation", 404)
            ctx = Ctx(self.store, req, req.params["tenant"], org, self.store.now(), "")
            rows = [documents.render(ctx, kind, d, with_lines=True) for d in org[table].values()]
        return _json(rows)

    def list_payments(self, req: Request) -> Response:
        """An organisation's payments as GET /Payments shows them, oldest first."""
        with self.store.reading(req.params["tenant"].lower()) as org:
            if org is None:
                return _error("unknown organisation", 404)
            ctx = Ctx(self.store, req, req.params["tenant"], org, self.store.now(), "")
            rows = [
                {**payments.render(ctx, p), "InvoiceID": p["InvoiceID"]}
                for p in org.get("payments", {}).values()
            ]
        return _json(rows)

    def _owner(self, contact_id: str) -> str | None:
        """The tenant whose organisation holds this contact."""
        for tenant_id, org in self.store.orgs():
            if contact_id.lower() in org["contacts"]:
                return tenant_id
        return None

    @contextmanager
    def _contact_org(self, contact_id: str, *, write: bool) -> Iterator[dict]:
        """The one organisation holding the contact, locked, as a state the actions take."""
        tenant_id = self._owner(contact_id) or ""
        access = self.store.writing if write else self.store.reading
        with access(tenant_id) as org:
            yield {"orgs": {tenant_id: org} if org else {}}

    def get_contact(self, req: Request) -> Response:
        with self._contact_org(req.params["contact"], write=False) as state:
            try:
                _, contact = contacts.locate(state, req.params["contact"])
            except contacts.ActionError as error:
                return _error(str(error), 404)
            return _json(contacts.render(contact, merged_to=True))

    def _apply(self, action: str, contact_id: str, body: dict) -> dict:
        with self._contact_org(contact_id, write=True) as state:
            now = self.store.now()
            if action == "merge":
                into = _text(body, "into").strip()
                result = contacts.merge(state, contact_id, _survivor(state, into), now)
            else:
                result = getattr(contacts, action)(state, contact_id, now)
            self.store.changed()
            return contacts.render(result, merged_to=True)

    def _action(self, action: str) -> Callable[[Request], Response]:
        def handler(req: Request) -> Response:
            body = _body(req, *(["into"] if action == "merge" else []))
            try:
                return _json(self._apply(action, req.params["contact"], body))
            except contacts.ActionError as error:
                return _error(str(error), 409)

        return handler

    # Faults, limits, clock, tokens ---------------------------------------------------------
    def add_fault(self, req: Request) -> Response:
        body = _body(req, *FAULT_FIELDS)
        kind = _text(body, "kind", "status")
        if kind not in KINDS:
            raise BadValue(f"kind must be one of {', '.join(KINDS)}")
        spec: dict[str, Any] = {
            "kind": kind,
            "status": _number(body, "status", 100, 599, default=500),
            "seconds": _number(body, "seconds", 0, 3600, whole=False, default=30),
            "path": _text(body, "path", longest=2000),
            "method": _text(body, "method", longest=10).upper(),
            "retry_after": _number(body, "retry_after", 0, 86_400, default=1),
        }
        if body.get("share") is not None:
            spec["share"] = _number(body, "share", 0, 1, whole=False)
        elif "count" in body and body["count"] is None:
            spec["count"] = None  # until cleared
        else:
            spec["count"] = _number(body, "count", 1, BIG, default=1)
        return _json(self.faults.add(spec).describe(), 201)

    # Webhooks ------------------------------------------------------------------------------
    def configure_webhook(self, req: Request) -> Response:
        body = _body(req, *WEBHOOK_FIELDS)
        url = _text(body, "url", longest=2000)
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise BadValue(f"url must be an http(s) URL, not {_shown(url)}")
        key = _text(body, "key", longest=500)
        if not key:
            raise BadValue("key must be the webhook key to sign with")
        hook = Hook(
            client_id=_text(body, "client_id", longest=200)
            or next(iter(self.store.state["clients"]), ""),
            url=url,
            key=key,
            round_seconds=_number(body, "round_seconds", 0.05, 3600, whole=False, default=1.0),
            retry_seconds=_number(body, "retry_seconds", 0.01, 3600, whole=False, default=1.0),
            retry_window=_number(body, "retry_window", 0.1, 86_400, whole=False, default=86_400),
            duplicates=_number(body, "duplicates", 0, 1, whole=False, default=0),
            reorder=_flag(body, "reorder"),
        )
        configured = self.webhooks.configure(hook, intent=_flag(body, "intent"))
        return _json(configured.describe(), 201)

    def flush_webhooks(self, req: Request) -> Response:
        self.webhooks.flush()
        return _json({"webhooks": self.webhooks.describe()})

    def remove_webhook(self, req: Request) -> Response:
        if not self.webhooks.remove(req.params["client"]):
            return _error("no webhook for that app", 404)
        return _json({"removed": req.params["client"]})

    def clear_faults(self, req: Request) -> Response:
        self.faults.clear()
        return _json({"faults": []})

    def rate_limits(self, req: Request) -> Response:
        body = _body(req, *LIMIT_FIELDS)
        settings: dict[str, Any] = {}
        for name in ("minute", "concurrent", "app_minute"):
            if name in body:
                settings[name] = _number(body, name, 1, BIG)
        if "day" in body:
            settings["day_override"] = (
                _number(body, "day", 1, BIG) if body["day"] is not None else None
            )
        if "enabled" in body:
            settings["enabled"] = _flag(body, "enabled")
        if "scale" in body:
            settings["scale"] = float(_number(body, "scale", 0.001, 1_000_000, whole=False))
        if _flag(body, "reset_counters"):
            self.limiter.clear()
        return _json(self.limiter.configure(**settings))

    def clock(self, req: Request) -> Response:
        body = _body(req, "advance")
        advance = body.get("advance")
        if isinstance(advance, (int, float)) and not isinstance(advance, bool) and advance < 0:
            raise BadValue("the sandbox clock only moves forward")
        seconds = _number(body, "advance", 0, 1e15, whole=False, default=0)
        with self.store.lock:
            if self.store.now() + seconds > CLOCK_LIMIT:
                limit = datetime.fromtimestamp(CLOCK_LIMIT, UTC).year
                raise BadValue(f"advance would move the clock past the year {limit}")
            return _json({"now": self.store.advance(seconds)})

    def expire_tokens(self, req: Request) -> Response:
        """Expire or revoke tokens for tests: `{"refresh_token": …, "revoke": true}` or
        `{"access_token": …}`; with no token named, every access token expires."""
        body = _body(req, "refresh_token", "access_token", "revoke")
        refresh_token = _text(body, "refresh_token", longest=1000)
        access_token = _text(body, "access_token", longest=1000)
        revoke = _flag(body, "revoke", True)
        with self.store.lock:
            state, now = self.store.state, self.store.now()
            refresh = state["refresh_tokens"].get(refresh_token)
            if refresh:
                refresh["revoked" if revoke else "expires_at"] = True if revoke else now - 1
            access = state["access_tokens"].get(access_token)
            if access:
                access["expires_at"] = now - 1
            if not refresh_token and not access_token:
                for record in state["access_tokens"].values():
                    record["expires_at"] = min(record["expires_at"], now - 1)
            self.store.changed()
        return _json({"expired": True})

    # The web UI ------------------------------------------------------------------------------
    def home(self, req: Request) -> Response:
        """Each organisation's contacts and documents, a page at a time (`?org=…&page=…`)."""
        only = req.arg("org").strip().lower()
        page = _page_number(req.arg("page"))
        sections = []
        for tenant_id, _ in self.store.orgs():
            if only and tenant_id != only:
                continue
            with self.store.reading(tenant_id) as org:
                if org is not None:
                    view = pages.OrgView(tenant_id, org, page if only else 1, UI_PAGE_SIZE)
                    sections.append(pages.org_section(view, self.csrf_token))
        return Response.html(pages.home_page(sections, req.arg("message"), self.csrf_token))

    def requests_page(self, req: Request) -> Response:
        """The latest Xero-facing requests, newest first, a page at a time (`?page=…`)."""
        entries = self.requests.newest_first()
        last = max(1, math.ceil(len(entries) / UI_PAGE_SIZE))
        page = min(_page_number(req.arg("page")), last)
        shown = entries[(page - 1) * UI_PAGE_SIZE : page * UI_PAGE_SIZE]
        return Response.html(pages.requests_page(shown, page, last, len(entries)))

    def ui_pay(self, req: Request) -> Response:
        """Pay what is due on an approved invoice or bill, into the organisation's first bank
        account, as someone would in Xero: the payment and the invoice change as PUT
        Payments changes them (so a webhook INVOICE UPDATE follows)."""
        invoice_id = req.params["invoice"].lower()
        tenant_id = next((t for t, org in self.store.orgs() if invoice_id in org["invoices"]), "")
        with self.store.writing(tenant_id) as org:
            if org is None:
                return Response.redirect("/?message=" + quote("No such invoice"))
            invoice = org["invoices"][invoice_id]
            bank = next((a for a in org["accounts"] if a["Type"] == "BANK"), None)
            item = {
                "Invoice": {"InvoiceID": invoice_id},
                "Account": {"Code": bank["Code"]} if bank else {},
                "Amount": str(payments.due(invoice)),
                "Reference": "Paid on the sandbox's page",
            }
            ctx = Ctx(self.store, req, tenant_id, org, self.store.now(), "sandbox page")
            _, errors = payments._create(ctx, item)
        number = invoice.get("InvoiceNumber") or invoice_id
        message = f"{number}: " + ("; ".join(errors) if errors else "paid in full")
        return Response.redirect("/?message=" + quote(message))

    def ui_reset(self, req: Request) -> Response:
        self.reset(req)
        return Response.redirect("/?message=" + quote("Sandbox reset"))

    def _ui_action(self, action: str) -> Callable[[Request], Response]:
        def handler(req: Request) -> Response:
            form = {k: v[-1] for k, v in req.form().items()}
            try:
                contact = self._apply(action, req.params["contact"], form)
                message = f"{contact['Name']}: {contact['ContactStatus']}"
            except (contacts.ActionError, BadValue) as error:
                message = str(error)
            return Response.redirect("/?message=" + quote(message))

        return handler


def _survivor(state: dict, into: str) -> str:
    """The ContactID to merge into: given as an ID, or as the name of an active contact."""
    if GUID.match(into):
        return into
    for org in state["orgs"].values():
        found = contacts.index_for(org).active_names.get(into.casefold())
        if found:
            return found
    return into


def _page_number(value: str) -> int:
    return int(value) if value.isdigit() and 0 < int(value) < BIG else 1


def dumps_pretty(payload: Any) -> str:
    return json.dumps(payload, indent=2)
