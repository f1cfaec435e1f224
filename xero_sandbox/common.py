"""Shared pieces of the Accounting API: request context, list queries and batch answers."""

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from xero_sandbox import schema, wire
from xero_sandbox.store import Store
from xero_sandbox.web import Request, Response
from xero_sandbox.where import Getter, QueryError, compile_where, sort_records

ZERO_GUID = "00000000-0000-0000-0000-000000000000"  # the ID a failed element is echoed with
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
CORRELATION_HEADER = "Xero-Correlation-Id"
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
# Fields compared as dates in `where`/`order` (stored as epoch seconds or ISO days).
DATE_FIELDS = {"UpdatedDateUTC", "Date", "DueDate", "DeliveryDate", "CreatedDateUTC"}


@dataclass
class Ctx:
    """One authorised Accounting API call: the organisation it targets, and when."""

    store: Store
    req: Request
    tenant_id: str
    org: dict[str, Any]
    now: float
    provider: str
    # The answer's `Xero-Correlation-Id`, also the envelope's `Id`.
    correlation_id: str = ""
    # Elements this call stored; the gateway replays a 400 for an Idempotency-Key only if
    # part of the request was committed (a partial batch).
    committed: int = 0

    def commit(self) -> None:
        """Note that one element of this call was stored, and mark the state dirty."""
        self.committed += 1
        self.store.changed()

    def ok(self, **collections: Any) -> Response:
        body = wire.envelope(self.now, self.provider, self.correlation_id, **collections)
        # Set here, not by the gateway, so a replayed answer keeps its header and `Id` equal.
        return Response.json(200, body, {CORRELATION_HEADER: body["Id"]})


def is_guid(value: object) -> bool:
    return isinstance(value, str) and bool(GUID.match(value))


def field_getter(name: str) -> Callable[[dict], Any]:
    """Read a dotted field from a stored record, turning date fields into datetimes."""
    path = name.split(".")
    is_date = path[-1] in DATE_FIELDS

    def get(record: dict) -> Any:
        value: Any = record
        for part in path:
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        if is_date and value is not None:
            if isinstance(value, (int, float)):
                return datetime.fromtimestamp(value, UTC)
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value

    return get


_FOLDED = {
    type_name: {name.casefold(): name for name in names}
    for type_name, names in schema.PROPERTIES.items()
}


def field_resolver(type_name: str) -> Callable[[str], Getter]:
    """Names in `where`/`order` for one type: its properties in Xero's spec, any case.

    An unknown name is Xero's QueryParseException "No property or field 'Bogus' exists in
    type 'Contact'"; a document's `Contact.Name` is checked against Contact's properties.
    """

    def resolve(name: str) -> Getter:
        owner: str | None = type_name
        path = []
        for part in name.split("."):
            known = _FOLDED.get(owner or "")
            if known is None:  # inside a type the sandbox does not check (Addresses…)
                path.append(part)
                continue
            if part.casefold() not in known:
                raise QueryError(f"No property or field '{part}' exists in type '{owner}'")
            path.append(known[part.casefold()])
            owner = path[-1] if path[-1] in _FOLDED else None
        return field_getter(".".join(path))

    return resolve


def body_items(ctx: Ctx, key: str, entity: str) -> tuple[list[dict] | None, Response | None]:
    """The elements of a write body (`{"Contacts": […]}`), or the 400 Xero answers."""
    try:
        payload = ctx.req.json()
    except (ValueError, UnicodeDecodeError) as error:
        return None, Response.json(400, wire.post_data_invalid(str(error)))
    if non_finite(payload):
        # JSON has no NaN or Infinity (RFC 8259); stored, they would come back as invalid JSON.
        detail = "NaN and Infinity are not JSON numbers"
        return None, Response.json(400, wire.post_data_invalid(detail))
    if isinstance(payload, dict):
        items = payload.get(key)
        if items is None and len(payload) and key not in payload:
            # A single object without its collection wrapper is accepted, as Xero does.
            items = [payload] if not any(isinstance(v, list) for v in payload.values()) else None
    else:
        items = payload if isinstance(payload, list) else None
    if not items or not all(isinstance(i, dict) for i in items):
        return None, Response.json(400, wire.no_data(entity))
    return items, None


def modified_since(ctx: Ctx) -> float | None:
    value = ctx.req.header("If-Modified-Since")
    return wire.parse_timestamp(value) if value else None


def query_list(
    ctx: Ctx,
    records: Iterable[dict],
    *,
    type_name: str,
    view: Callable[[dict], dict] = lambda r: r,
    default_order: str = "",
    tiebreak: str = "",
) -> tuple[list[dict], dict | None, Response | None]:
    """Apply If-Modified-Since, where, order and paging; returns rows and pagination.

    `type_name` is the spec type whose properties `where` and `order` may name; `tiebreak`
    (an ID field) orders rows the `order` leaves tied, so pages never swap them.
    """
    since = modified_since(ctx)
    rows = [view(r) for r in records]
    if since is not None:
        rows = [r for r in rows if r.get("UpdatedDateUTC", 0) >= since]
    field = field_resolver(type_name)
    try:
        where = ctx.req.arg("where").strip()
        if where:
            match = compile_where(where, field)
            rows = [r for r in rows if match(r)]
        order = ctx.req.arg("order").strip() or default_order
        if tiebreak:
            rows.sort(key=lambda r: r[tiebreak])
        if order:
            sort_records(rows, order, field)
    except QueryError as error:
        return [], None, Response.json(400, wire.query_parse_error(str(error)))
    return paginate(ctx, rows)


def paginate(ctx: Ctx, rows: list[dict]) -> tuple[list[dict], dict | None, None]:
    page_arg = ctx.req.arg("page")
    if not page_arg:
        return rows, None, None
    try:
        page = max(1, int(page_arg))
    except ValueError:
        page = 1
    try:
        size = int(ctx.req.arg("pageSize") or DEFAULT_PAGE_SIZE)
    except ValueError:
        size = DEFAULT_PAGE_SIZE
    size = min(max(size, 1), MAX_PAGE_SIZE)
    pagination = {
        "page": page,
        "pageSize": size,
        "pageCount": math.ceil(len(rows) / size),
        "itemCount": len(rows),
    }
    return rows[(page - 1) * size : page * size], pagination, None


def batch_answer(
    ctx: Ctx, key: str, outcomes: list[tuple[dict, list[str]]], error_flag: str
) -> Response:
    """Answer a batch write the way Xero does for `summarizeErrors`.

    Summarised (the default): any failure gives a 400 listing only the failed elements,
    although the valid ones were created (https://stackoverflow.com/questions/52706101, a
    Xero staff answer). `summarizeErrors=false`: always 200, each element with its own
    `StatusAttributeString` and `ValidationErrors` (https://github.com/XeroAPI/Xero-Net/pull/172).
    """
    summarize = ctx.req.flag("summarizeErrors", default=True)
    if summarize:
        failed = [_failed(item, errors, error_flag) for item, errors in outcomes if errors]
        if failed:
            return Response.json(400, wire.validation_error(failed))
        return ctx.ok(**{key: [item for item, _ in outcomes]})
    items = []
    for item, errors in outcomes:
        if errors:
            items.append(_failed(item, errors, error_flag))
        else:
            items.append({**item, "StatusAttributeString": "OK"})
    return ctx.ok(**{key: items})


def _failed(item: dict, errors: list[str], error_flag: str) -> dict:
    return {
        **item,
        error_flag: True,
        "StatusAttributeString": "ERROR",
        "ValidationErrors": [{"Message": message} for message in errors],
    }


def text_error(field: str, value: Any, limit: int | None) -> str | None:
    """Why a text field's value cannot be stored, if it cannot: not text, or too long.

    Lengths are the spec's `maxLength` (xero_sandbox/schema.py); Xero's wording for both
    messages is unconfirmed in Xero's docs.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        return f"[sandbox] {field} must be text, not {_json_kind(value)}"
    if limit is not None and len(value) > limit:
        return f"[sandbox] {field} must be at most {limit} characters long"
    return None


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a list" if isinstance(value, list) else "an object"


def non_finite(payload: Any) -> bool:
    """True if a parsed body holds NaN or ±Infinity anywhere (Python's json reads them).

    Iterative, so a deeply nested body costs no recursion.
    """
    pending = [payload]
    while pending:
        value = pending.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return True
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False
