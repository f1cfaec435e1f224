"""The Accounting API gateway: token, tenant and scope checks, rate limits, idempotency.

Order of checks follows Xero's gateway: 401 (token), 403 (`xero-tenant-id` not among the
token's connections), 401 (scope), 429 (limits), then the endpoint itself.
"""

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Callable

from xero_sandbox import contacts, documents, identity, org_settings, payments, wire, xml_format
from xero_sandbox.common import CORRELATION_HEADER, Ctx, query_list
from xero_sandbox.limits import RateLimiter
from xero_sandbox.store import Store
from xero_sandbox.web import Request, Response, Router

PREFIX = "/api.xro/2.0"
IDEMPOTENCY_SECONDS = 24 * 3600
MAX_IDEMPOTENCY_KEY = 128
LIMIT_HEADER = "X-DayLimit-Remaining"
DEFAULT_DAY_LIMIT = 5000  # the day limit shown when a call names no known organisation

# The scopes each route accepts: the `security` of its operation in Xero's spec
# (tests/sandbox/openapi/xero_accounting.yaml; tests/sandbox/test_fidelity.py compares).
SETTINGS_READ = {"accounting.settings", "accounting.settings.read"}
SETTINGS_WRITE = {"accounting.settings"}
CONTACTS_WRITE = {"accounting.contacts"}
CONTACTS_READ = CONTACTS_WRITE | {"accounting.contacts.read"}
# Invoices, credit notes and POs: the broad scope or the 2026 granular one, which the spec
# does not list yet (https://www.apideck.com/blog/xero-scopes, summarising Xero's change).
DOCS_WRITE = {"accounting.transactions", "accounting.invoices"}
DOCS_READ = DOCS_WRITE | {"accounting.transactions.read", "accounting.invoices.read"}
# Payments: the broad scope, or the 2026 granular `accounting.payments` (same source).
PAYMENTS_WRITE = {"accounting.transactions", "accounting.payments"}
PAYMENTS_READ = PAYMENTS_WRITE | {"accounting.transactions.read", "accounting.payments.read"}

Endpoint = Callable[[Ctx], Response]
_NAMES = ("Organisation", "Accounts", "TaxRates", "Contacts", "Invoices", "CreditNotes")
COLLECTIONS = {
    name.lower(): name
    for name in (*_NAMES, "PurchaseOrders", "Payments", "Currencies", "TrackingCategories")
}


def organisation(ctx: Ctx) -> Response:
    org = dict(ctx.org["organisation"])
    org["CreatedDateUTC"] = wire.ms_datetime(org["CreatedDateUTC"])
    return ctx.ok(Organisations=[org])


def _render_account(account: dict) -> dict:
    return {**account, "UpdatedDateUTC": wire.ms_datetime(account["UpdatedDateUTC"])}


def accounts(ctx: Ctx) -> Response:
    rows, _, error = query_list(
        ctx, ctx.org["accounts"], type_name="Account", default_order="Code ASC"
    )
    return error or ctx.ok(Accounts=[_render_account(a) for a in rows])


def account(ctx: Ctx) -> Response:
    key = ctx.req.params["key"].lower()
    found = [a for a in ctx.org["accounts"] if a["AccountID"] == key]
    return ctx.ok(Accounts=[_render_account(found[0])]) if found else Response.not_found()


def tax_rates(ctx: Ctx) -> Response:
    rows, _, error = query_list(ctx, ctx.org["tax_rates"], type_name="TaxRate")
    return error or ctx.ok(TaxRates=rows)


def tax_rate(ctx: Ctx) -> Response:
    key = ctx.req.params["key"].upper()
    found = [t for t in ctx.org["tax_rates"] if t["TaxType"] == key]
    return ctx.ok(TaxRates=found) if found else Response.not_found()


def routes() -> "Router[_Scoped]":
    """Accounting API routes with the scopes each needs."""
    router = Router[_Scoped]()
    table: list[tuple[str, str, Endpoint, set[str]]] = [
        ("GET", "/Organisation", organisation, SETTINGS_READ),
        ("GET", "/Accounts", accounts, SETTINGS_READ),
        ("GET", "/Accounts/{key}", account, SETTINGS_READ),
        ("GET", "/TaxRates", tax_rates, SETTINGS_READ),
        ("GET", "/TaxRates/{key}", tax_rate, SETTINGS_READ),
        ("GET", "/Currencies", org_settings.list_currencies, SETTINGS_READ),
        ("PUT", "/Currencies", org_settings.put_currencies, SETTINGS_WRITE),
        ("GET", "/TrackingCategories", org_settings.list_tracking_categories, SETTINGS_READ),
        ("PUT", "/TrackingCategories", org_settings.put_tracking_category, SETTINGS_WRITE),
        ("GET", "/TrackingCategories/{key}", org_settings.get_tracking_category, SETTINGS_READ),
        ("POST", "/TrackingCategories/{key}", org_settings.post_tracking_category, SETTINGS_WRITE),
        (
            "DELETE",
            "/TrackingCategories/{key}",
            org_settings.delete_tracking_category,
            SETTINGS_WRITE,
        ),
        (
            "PUT",
            "/TrackingCategories/{key}/Options",
            org_settings.put_tracking_options,
            SETTINGS_WRITE,
        ),
        (
            "POST",
            "/TrackingCategories/{key}/Options/{option}",
            org_settings.post_tracking_option,
            SETTINGS_WRITE,
        ),
        ("GET", "/Contacts", contacts.list_contacts, CONTACTS_READ),
        ("PUT", "/Contacts", contacts.put_contacts, CONTACTS_WRITE),
        ("POST", "/Contacts", contacts.post_contacts, CONTACTS_WRITE),
        ("GET", "/Contacts/{key}", contacts.get_contact, CONTACTS_READ),
        ("POST", "/Contacts/{key}", contacts.post_contact, CONTACTS_WRITE),
    ]
    for collection in ("Invoices", "CreditNotes", "PurchaseOrders"):
        table += [
            ("GET", f"/{collection}", documents.list_documents, DOCS_READ),
            ("PUT", f"/{collection}", documents.put_documents, DOCS_WRITE),
            ("POST", f"/{collection}", documents.post_documents, DOCS_WRITE),
            ("GET", f"/{collection}/{{key}}", documents.get_document, DOCS_READ),
            ("POST", f"/{collection}/{{key}}", documents.post_document, DOCS_WRITE),
        ]
    table += [
        ("GET", "/Payments", payments.list_payments, PAYMENTS_READ),
        ("PUT", "/Payments", payments.put_payments, PAYMENTS_WRITE),
    ]
    for method, path, endpoint, scopes in table:
        router.add(method, PREFIX + path, _Scoped(endpoint, scopes, path.split("/")[1]))
    return router


class _Scoped:
    """An endpoint with the scopes that allow it and the collection it serves."""

    def __init__(self, endpoint: Endpoint, scopes: set[str], collection: str):
        self.endpoint, self.scopes, self.collection = endpoint, scopes, collection

    def __call__(self, ctx: Ctx) -> Response:
        return self.endpoint(ctx)


class Gateway:
    def __init__(self, store: Store, limiter: RateLimiter):
        self.store, self.limiter = store, limiter
        self.router = routes()

    def handle(self, req: Request, delay: float = 0.0) -> Response:
        """Answer one call; `delay` (a hang fault) holds its concurrency slot that long."""
        correlation_id = str(uuid.uuid4())
        response = self._handle(req, delay, correlation_id)
        # Every API answer carries the remaining counts, refusals included
        # (https://developer.xero.com/faq/limits).
        if LIMIT_HEADER not in response.headers:
            response.headers.update(self.remaining(req))
        response.headers.setdefault(CORRELATION_HEADER, correlation_id)
        if not xml_format.wants_json(req.header("Accept")):
            return _as_xml(req, response)
        return response

    def fault_headers(self, req: Request) -> dict[str, str]:
        """What an injected fault's answer carries: the counts, not counted, and an ID."""
        return {**self.remaining(req), CORRELATION_HEADER: str(uuid.uuid4())}

    def remaining(self, req: Request) -> dict[str, str]:
        """The `X-…-Remaining` headers for an answer that was not counted (a peek)."""
        with self.store.lock:
            token = identity.token_record(self.store, req) or {}
            tenant_id = req.header("xero-tenant-id").strip().lower()
            tenant_id = tenant_id or token.get("custom_tenant_id") or ""
            org = self.store.state["orgs"].get(tenant_id)
            day_limit = org["day_limit"] if org else DEFAULT_DAY_LIMIT
            now = self.store.now()
        return self.limiter.peek(tenant_id, token.get("client_id", ""), day_limit, now)

    def _handle(self, req: Request, delay: float, correlation_id: str) -> Response:
        endpoint, params, known = self.router.match(req.method, req.path)
        if endpoint is None and not known:
            return Response.not_found()
        req.params = params
        with self.store.lock:  # the registry only: tokens, connections, organisations
            token, denied = identity.bearer(self.store, req)
            if denied:
                return denied
            tenant_id = self._tenant(token, req)
            if tenant_id is None:
                body = wire.problem(403, "Forbidden", "AuthenticationUnsuccessful")
                return Response.json(403, body)
            if endpoint is None:
                # A method the resource lacks (pyxero's live-verified 501); checked after the
                # token and tenant, before scopes and limits ([sandbox] order).
                return Response.json(501, wire.not_implemented())
            if not endpoint.scopes & set(token["scope"]):
                body = wire.problem(401, "Unauthorized", "AuthorizationUnsuccessful")
                return Response.json(401, body)
            day_limit = self.store.state["orgs"][tenant_id]["day_limit"]
            client = self.store.state["clients"].get(token["client_id"], {})
        decision = self.limiter.acquire(tenant_id, token["client_id"], day_limit, self.store.now())
        if not decision.allowed:
            return _too_many(decision)
        try:
            # Only this organisation is locked, and reads share it: a long query holds up
            # neither other organisations nor other reads of this one.
            access = self.store.reading if req.method in ("GET", "HEAD") else self.store.writing
            with access(tenant_id) as org:
                if org is None:  # reset meanwhile
                    return Response.not_found()
                provider = client.get("name", "")
                ctx = Ctx(
                    self.store, req, tenant_id, org, self.store.now(), provider, correlation_id
                )
                response = self._idempotent(ctx, endpoint)
            time.sleep(delay)
        finally:
            self.limiter.release(tenant_id)
        response.headers.update(decision.headers)
        return response

    def _tenant(self, token: dict, req: Request) -> str | None:
        """The organisation a call targets, if the token may reach it (else 403)."""
        wanted = req.header("xero-tenant-id").strip().lower()
        allowed = identity.tenant_ids_for(self.store, token)
        if token["custom_tenant_id"] and not wanted:
            wanted = token["custom_tenant_id"]  # custom connections need no tenant header
        if wanted in allowed and wanted in self.store.state["orgs"]:
            return wanted
        return None

    def _idempotent(self, ctx: Ctx, endpoint: _Scoped) -> Response:
        """Replay the first answer for a repeated `Idempotency-Key`.

        https://developer.xero.com/documentation/guides/idempotent-requests/idempotency/
        """
        if (
            ctx.req.method not in ("PUT", "POST", "PATCH")
            or "idempotency-key" not in ctx.req.headers
        ):
            return endpoint(ctx)
        key = ctx.req.header("Idempotency-Key").strip()
        if not key:
            # An empty header broke calls at Xero (https://github.com/XeroAPI/xero-node/issues/649);
            # the body is a guess.
            message = "[sandbox] Idempotency-Key must not be empty"
            return Response.json(400, _idempotency_error(message))
        if len(key) > MAX_IDEMPOTENCY_KEY:
            message = f"[sandbox] Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY} characters"
            return Response.json(400, _idempotency_error(message))
        slot = f"{ctx.tenant_id}:{key}"
        fingerprint = _fingerprint(ctx.req)
        # Calls of one organisation are serialised by its lock; the table is shared by all.
        with self.store.lock:
            table = self.store.state["idempotency"]
            _expire(table, ctx.now)
            seen = table.get(slot)
        if seen:
            if seen["fingerprint"] != fingerprint:
                message = "[sandbox] This Idempotency-Key was already used for a different request"
                return Response.json(400, _idempotency_error(message))
            return Response(seen["status"], base64.b64decode(seen["body"]), dict(seen["headers"]))
        response = endpoint(ctx)
        # Only answers that reflect committed work are replayed: every 200, and a 400 only
        # when part of the batch was stored (summarised errors). A 400 that stored nothing,
        # a 5xx or a 429 is forgotten, so a retry after fixing the cause can succeed.
        if response.status == 200 or (response.status == 400 and ctx.committed):
            stored = {
                "fingerprint": fingerprint,
                "status": response.status,
                "body": base64.b64encode(response.body).decode(),
                "headers": response.headers,
                "at": ctx.now,
            }
            with self.store.lock:
                self.store.state["idempotency"][slot] = stored
            self.store.changed()
        return response


def _as_xml(req: Request, response: Response) -> Response:
    """The answer in XML for a client that did not ask for JSON (Xero's default format)."""
    if not response.headers.get("Content-Type", "").startswith("application/json"):
        return response
    payload = json.loads(response.body)
    if not xml_format.is_api_body(payload):
        return response  # the gateway's own refusals (401, 403, 429) stay problem JSON
    collection = req.path[len(PREFIX) :].split("/")[1].lower() if req.path.count("/") > 2 else ""
    element_type = xml_format.singular(COLLECTIONS.get(collection, "DataContractBase"))
    body = xml_format.render(payload, element_type)
    return Response(response.status, body, {**response.headers, "Content-Type": xml_format.XML})


def _idempotency_error(message: str) -> dict:
    return {"ErrorNumber": 10, "Type": "ValidationException", "Message": message}


def _fingerprint(req: Request) -> str:
    digest = hashlib.sha256()
    for part in (req.method, req.path.lower(), req.raw_query, req.body):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def _expire(table: dict, now: float) -> None:
    for slot in [s for s, v in table.items() if v["at"] < now - IDEMPOTENCY_SECONDS]:
        del table[slot]


def _too_many(decision) -> Response:
    detail = {
        "minute": "You've exceeded the per minute rate limit",
        "day": "You've exceeded the daily rate limit",
        "concurrent": "You've exceeded the concurrent request limit",
        "appminute": "Your app has exceeded its per minute rate limit",
    }[decision.problem]
    headers = {
        **decision.headers,
        "Retry-After": str(decision.retry_after),
        "X-Rate-Limit-Problem": decision.problem,
    }
    return Response.json(429, wire.problem(429, "Too Many Requests", detail), headers)
