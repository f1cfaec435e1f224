"""Every URL of the project, with hostile values in every parameter its view reads, as every
role that may see it: never a 500, and never a 200 whose log holds a traceback.

The parameters are not listed by hand: a first request to each URL records every key its view
reads from the query string or the form (QueryDict.get, getlist, [], in), and the walk then
sends each of them every hostile value, on top of the values that take the view past its
first check (BASE), so that a value reaches the code that uses it.
"""

import contextlib
import logging
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.http import QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from django.utils import timezone

from sync.dashboard.tabs import TABS
from sync.models import ContactImport, Heartbeat, SyncItem
from sync.monitoring.heartbeats import heartbeat_record
from tests.factories import (
    ContactImportFactory,
    ContactLinkFactory,
    ImportedContactFactory,
    LineItemFactory,
    LinkEventFactory,
    SupplierFactory,
    SyncItemFactory,
    SyncRunFactory,
    TransactionFactory,
    XeroContactFactory,
)
from transactions.models import SyncState, TransactionType

THIRTY_DIGITS = "9" * 30
HOSTILE = [
    "",
    "-1",
    THIRTY_DIGITS,
    "9999-12-31",
    "0001-01-01",
    "\x00",
    "x" * 10_000,
    "no-such-choice",
    "²",
]
# Path values besides the real object's: a 30-digit id, a negative one, one that is not there.
HOSTILE_IDS = [THIRTY_DIGITS, "-1", "0"]

# Values that take a view past its first check, so that the hostile one reaches its use.
BASE: dict[str, dict[str, str]] = {
    "sync:contacts_action": {"action": "upload"},
    "sync:transactions_action": {"action": "skip"},
    "sync:sync_log_prune": {"before": "2001-01-01"},
    "sync:link_existing": {"xero_contact_id": "00000000-0000-0000-0000-000000000001"},
    "sync:resync_refused": {"type": TransactionType.SALES_INVOICE},
}
# Read only on a path the first request does not take.
ALSO_READ: dict[str, list[str]] = {
    "sync:contacts_action": ["contact", "confirmed", "connection"],
    "sync:transactions_action": ["transaction", "connection"],
    "sync:sync_log_export": ["run"],
    "sync:sync_log": ["page"],
    "sync:sync_run": ["page", "outcome"],
    "sync:subtab": ["page", "q", "state", "show", "linked", "sort"],
}
# The admin reads its lists' filters, ordering and dates from a copy of the query string (not
# seen by keys_read): they are taken from the list itself.
ADMIN_LIST_KEYS = {"o", "all", "_facets"}
# Pages whose work is a call to Xero: walked with the hostile values, but as the admin only
# (each accepted request calls the sandbox).
SLOW = {"sync:connect", "sync:callback", "sync:admin_fetch", "sync:discrepancies_refresh"}


def patterns(
    resolver: URLResolver, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str]]:
    """(route, name) of every URL pattern, routes joined with their includes'."""
    for entry in resolver.url_patterns:
        route = _route(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from patterns(entry, prefix + route, inner)
        elif isinstance(entry, URLPattern):
            yield prefix + route, f"{namespace}{entry.name or entry.lookup_str}"


def _route(pattern: object) -> str:
    """A path()'s route as written; a re_path()'s regex without its anchors."""
    if isinstance(pattern, RoutePattern):
        return str(getattr(pattern, "_route"))  # noqa: B009 (not in django-stubs)
    return str(getattr(pattern, "_regex", "")).lstrip("^").rstrip("$").removesuffix(r"\Z")


# The admin's own URLs: its app list's alternatives, its catch-all, its regex groups.
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)|<(?:(?P<conv>\w+):)?(?P<arg>\w+)>")


def fill(route: str, values: dict[str, str]) -> str | None:
    """The route with each of its parameters replaced by values[name] (None: unknown one)."""
    missing = []

    def one(match: re.Match[str]) -> str:
        name = match["name"] or match["arg"]
        if name not in values:
            missing.append(name)
            return ""
        return values[name]

    path = _GROUP.sub(one, route)
    if missing or "(" in path or "\\" in path or "*" in path:
        return None
    return "/" + path


@contextlib.contextmanager
def keys_read() -> Iterator[set[str]]:
    """Every key looked up in a QueryDict (request.GET or request.POST) meanwhile."""
    read: set[str] = set()
    originals = {name: getattr(QueryDict, name) for name in ("get", "getlist", "__getitem__")}
    contains = QueryDict.__contains__

    def recording(name: str):
        original = originals[name]

        def record(self, key, *args, **kwargs):
            read.add(key)
            return original(self, key, *args, **kwargs)

        return record

    def record_contains(self, key):
        read.add(key)
        return contains(self, key)

    for name in originals:
        setattr(QueryDict, name, recording(name))
    QueryDict.__contains__ = record_contains  # type: ignore[method-assign]
    try:
        yield read
    finally:
        for name, original in originals.items():
            setattr(QueryDict, name, original)
        QueryDict.__contains__ = contains  # type: ignore[method-assign]


@pytest.fixture
def world(connection, admin_user, accountant, viewer):
    """A connected organisation with a contact of each tab, transactions, a link, a sync run
    and an import: the objects the paths point at."""
    customer = TransactionFactory(sync_state=SyncState.REFUSED).contact
    LineItemFactory(transaction__contact=customer)
    supplier = SupplierFactory()
    TransactionFactory(contact=supplier, type=TransactionType.SUPPLIER_INVOICE)
    ContactLinkFactory(contact=customer, connection=connection)
    event = LinkEventFactory(contact=customer, connection=connection, action="unlink")
    XeroContactFactory(connection=connection)
    run = SyncRunFactory(connection=connection, finished_at=timezone.now() - timedelta(days=400))
    SyncItemFactory(run=run, state=SyncItem.State.REFUSED, refusal=SyncItem.Refusal.UNLINKED)
    done = ContactImportFactory(connection=connection, confirmed_at=timezone.now())
    ImportedContactFactory(contact_import=done, contact=customer)
    pending: ContactImport = ContactImportFactory(connection=connection, created_by=accountant)
    # A worker and the scheduler alive: /health/ answers 200, its 503 is not a server error.
    heartbeat_record(kind=Heartbeat.Kind.WORKER)
    heartbeat_record(kind=Heartbeat.Kind.SCHEDULER)
    return {
        "connection": connection,
        "ids": {
            "sync:finish_connecting": connection.pk,
            "sync:disconnect": connection.pk,
            "sync:refresh_contacts": connection.pk,
            "sync:import_result": done.pk,
            "sync:sync_run": run.pk,
        },
        "customer": customer,
        "supplier": supplier,
        "event": event,
        "token": pending.token,
        "users": [viewer, accountant, admin_user],  # least able first: the admin's acts last
    }


def _paths(route: str, name: str, world) -> Iterator[str]:
    """The route filled with the world's objects, then with hostile path values."""
    # A contact list and a transaction list of each tab (the other subtabs share their code).
    tabs_and_subtabs = [(tab, sub.slug) for tab, (_, subs) in TABS.items() for sub in subs[:2]]
    for tab, subtab in tabs_and_subtabs if "<slug:subtab>" in route else [("sales", "")]:
        contact = world["customer"] if tab == "sales" else world["supplier"]
        real = {
            "tab": tab,
            "subtab": subtab,
            "pk": str(world["ids"].get(name, contact.pk)),
            "contact": str(contact.pk),
            "event": str(world["event"].pk),
            "token": world["token"],
            "app_label": "sync",
            "content_type_id": "1",
            "object_id": str(contact.pk),
            "id": str(world["users"][-1].pk),
            "url": "no-such-page/",
        }
        path = fill(route, real)
        if path is None:
            continue
        yield path
        for key in ("pk", "contact", "event", "token", "object_id", "id"):
            if f":{key}>" in route or f"<{key}>" in route:
                for value in [*HOSTILE_IDS, *(HOSTILE if key == "token" else [])]:
                    hostile = fill(route, real | {key: value})
                    if hostile is not None:
                        yield hostile


def _admin_base(name: str, method: str) -> dict[str, str]:
    """An admin list's POST runs its first action (delete_selected, else the admin's own), so
    that the rows it is given (_selected_action) are looked up."""
    if method != "POST" or not name.endswith("_changelist"):
        return {}
    for model, model_admin in admin.site._registry.items():
        if name == f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist":
            actions = [action.name for action in model_admin._get_base_actions()]  # type: ignore[attr-defined]
            return {"index": "0", "action": actions[0]} if actions else {}
    return {}


def _admin_list_keys(response) -> set[str]:
    """The parameters an admin list reads besides keys_read's: each filter's, its dates'."""
    found: ChangeList | None = (response.context or {}).get("cl") if response.context else None
    if not isinstance(found, ChangeList):
        return set()
    keys = set(ADMIN_LIST_KEYS)
    for spec in found.filter_specs:
        keys.update(key for key in spec.expected_parameters() if key)
    if found.date_hierarchy:
        keys.update(f"{found.date_hierarchy}__{part}" for part in ("year", "month", "day"))
    return keys


def _together(name: str, method: str, keys: set[str]) -> list[list[str]]:
    """The keys sent in one request: an admin form's fields all at once (a form cleans every
    field it is given, whatever the others hold), anything else one at a time. The admin's
    own parameters (_to_field, _popup, ...) may refuse a request before its form is read."""
    if method == "POST" and name.endswith(("_add", "_change")):
        fields = sorted(key for key in keys if not key.startswith("_"))
        own = [[key] for key in sorted(keys) if key.startswith("_")]
        return [fields, *own] if fields else own
    return [[key] for key in sorted(keys)]


def _consume(response) -> None:
    if response.streaming:
        b"".join(response.streaming_content)


def _problem(
    client: Client, method: str, path: str, data: dict[str, str], caplog
) -> tuple[int, str, str, set[str]]:
    """The status and Location of one answer, what is wrong with it ("" when nothing), and the
    admin list parameters it offers."""
    caplog.clear()
    send = client.post if method == "POST" else client.get
    try:
        response = send(path, data)
        _consume(response)
    except Exception as error:  # a streamed body failing after its 200
        return 200, "", f"{type(error).__name__}: {error}", set()
    status, location = response.status_code, response.headers.get("Location", "")
    if status >= 500:
        exc = getattr(response, "exc_info", None)
        return status, location, f"{status} {exc[1]!r}" if exc else str(status), set()
    traced = [record for record in caplog.records if record.exc_info]
    if traced and status < 400:  # a refusal (403, 400) may log its reason with a traceback
        problem = f"{status} with a traceback logged: {traced[0].getMessage()}"
        return status, location, problem, set()
    return status, location, "", _admin_list_keys(response)


def _cut(value: str) -> str:
    return value if len(value) <= 32 else f"{value[:8]}…({len(value)} chars)"


def every_route() -> list[tuple[str, str]]:
    return list(patterns(get_resolver()))


@pytest.mark.parametrize(("route", "name"), every_route(), ids=[n for _, n in every_route()])
def test_no_hostile_value_makes_a_server_error(route, name, world, caplog):
    caplog.set_level(logging.WARNING)
    users = world["users"][-1:] if name in SLOW else world["users"]
    failures: list[str] = []
    for user in users:
        client = Client(raise_request_exception=False)
        client.force_login(user)
        for number, path in enumerate(_paths(route, name, world)):
            for method in ("GET", "POST"):
                base = BASE.get(name, {}) | _admin_base(name, method)
                with keys_read() as read:
                    status, location, problem, listed = _problem(client, method, path, base, caplog)
                if problem:
                    failures.append(f"{user.username} {method} {path[:80]}: {problem}")
                if status in (403, 404, 405) or "/login/" in location:
                    continue  # not this role's page (the admin's: log in), not there, or method
                if name.startswith("admin:") and number > 0:
                    continue  # the admin sends a hostile path id away before reading anything
                listed = listed if method == "GET" else set()  # a list reads its query string
                keys = (read | listed | set(ALSO_READ.get(name, []))) - {"csrfmiddlewaretoken"}
                for together in _together(name, method, keys):
                    for value in HOSTILE:
                        sent = base | dict.fromkeys(together, value)
                        _, _, problem, _ = _problem(client, method, path, sent, caplog)
                        if problem and len(together) > 1:  # name the key that fails
                            for key in together:
                                _, _, problem, _ = _problem(
                                    client, method, path, base | {key: value}, caplog
                                )
                                if problem:
                                    failures.append(
                                        f"{user.username} {method} {path[:80]} "
                                        f"{key}={_cut(value)!r}: {problem}"
                                    )
                        elif problem:
                            failures.append(
                                f"{user.username} {method} {path[:80]} "
                                f"{together[0]}={_cut(value)!r}: {problem}"
                            )
    assert not failures, "\n".join(sorted(set(failures)))


def test_the_walk_covers_every_url_of_the_project():
    """Every pattern can be filled: a new URL with a parameter the walk cannot fill must be
    given an object in `world`, never skipped silently."""
    names = {"tab", "subtab", "pk", "contact", "event", "token", "app_label", "content_type_id"}
    fillable = {key: "1" for key in names | {"object_id", "id", "url"}}
    assert [name for route, name in every_route() if fill(route, fillable) is None] == []
