"""What a careless or hostile client cannot do to the sandbox (issue 9): hold a thread with
half a request, send a huge or absurdly nested body, feed the control API nonsense, or
break a new sandbox with an old state file."""

import json
import re
import socket
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.plugins.sandbox import (
    CLIENT_ID,
    REDIRECT_URI,
    ROOT,
    SandboxControl,
    http,
    start_sandbox,
    stop_sandbox,
)


@pytest.fixture(scope="module")
def impatient():
    """A sandbox of its own that closes a silent connection after half a second."""
    server = start_sandbox(Path(tempfile.mkdtemp()) / "state.json", "--read-timeout", "0.5")
    yield server
    stop_sandbox(server)


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _closed_within(sock: socket.socket, seconds: float) -> float:
    """How long until the server closed the connection (fails if it did not in time)."""
    sock.settimeout(seconds)
    started = time.monotonic()
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        pytest.fail(f"the server kept a half-sent request open for {seconds} s")
    return time.monotonic() - started


@pytest.mark.parametrize(
    "half_request",
    [
        b"GET /_sandbox/state HTTP/1.1\r\nHost: sandbox\r\n",  # headers never finished
        b'POST /_sandbox/clock HTTP/1.1\r\nHost: sandbox\r\nContent-Length: 100\r\n\r\n{"adv',
    ],
    ids=["headers", "body"],
)
def test_a_half_sent_request_times_out_and_frees_its_thread(impatient, half_request):
    with _connect(impatient.url) as sock:
        sock.sendall(half_request)
        assert _closed_within(sock, 5) < 4
    assert http("GET", impatient.url + "/_sandbox/state").status == 200


def _send_raw(url: str, head: bytes) -> bytes:
    """Send only the request head (no body) and read whatever the server answers."""
    with _connect(url) as sock:
        sock.sendall(head)
        sock.settimeout(5)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except TimeoutError:
            pytest.fail(f"no answer to a body never sent: {answer!r}")
    return answer


def test_a_body_over_xeros_limit_is_refused_unread(sandbox):
    token = sandbox.issue_token()
    head = (
        "PUT /api.xro/2.0/Contacts HTTP/1.1\r\nHost: sandbox\r\n"
        f"Authorization: Bearer {token['access_token']}\r\n"
        f"xero-tenant-id: {sandbox.demo_tenant_id}\r\n"
        "Content-Type: application/json\r\nContent-Length: 3500001\r\n\r\n"
    ).encode()
    # The body is never sent: an answer at all shows the sandbox did not wait to read it.
    answer = _send_raw(sandbox.url, head)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413")
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["Status"] == 413 and body["Title"] == "Request Entity Too Large"
    assert "3.5 MB" in body["Detail"]


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("Content-Length: 12abc", 400),
        ("Content-Length: -5", 400),
        ("Transfer-Encoding: chunked", 411),
    ],
)
def test_a_body_of_unknown_length_is_refused(sandbox, header, status):
    head = f"PUT /api.xro/2.0/Contacts HTTP/1.1\r\nHost: sandbox\r\n{header}\r\n\r\n".encode()
    answer = _send_raw(sandbox.url, head)
    assert answer.startswith(f"HTTP/1.1 {status}".encode()), answer[:200]
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["Status"] == status


def test_the_sdk_sending_too_big_a_body_reads_the_413(sandbox, sandbox_sdk):
    from xero_python.accounting import Contact, Contacts
    from xero_python.exceptions import HTTPStatusException

    huge = Contacts(contacts=[Contact(name="Huge Ltd", website="x" * 4_000_000)])
    with pytest.raises(HTTPStatusException) as refused:
        sandbox_sdk.accounting.create_contacts(sandbox.demo_tenant_id, huge)
    assert refused.value.status == 413
    assert sandbox_sdk.accounting.get_contacts(sandbox.demo_tenant_id).contacts == []


def test_a_body_just_under_the_limit_is_read(sandbox):
    token = sandbox.issue_token()
    headers = {
        "Authorization": "Bearer " + token["access_token"],
        "xero-tenant-id": sandbox.demo_tenant_id,
    }
    padding = "x" * 3_400_000
    body = {"Contacts": [{"Name": "Big Body Ltd", "Website": padding}]}
    answer = http("PUT", sandbox.url + "/api.xro/2.0/Contacts", body, headers=headers)
    assert answer.status != 413


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000, "[" * 70 + "]" * 70],
    ids=["lists", "objects", "just-too-deep"],
)
def test_json_nested_absurdly_deep_is_xeros_400(sandbox, text):
    token = sandbox.issue_token()
    request = (
        "PUT /api.xro/2.0/Contacts HTTP/1.1\r\nHost: sandbox\r\n"
        f"Authorization: Bearer {token['access_token']}\r\n"
        f"xero-tenant-id: {sandbox.demo_tenant_id}\r\nConnection: close\r\n"
        "Accept: application/json\r\n"  # without it Xero answers in XML
        f"Content-Type: application/json\r\nContent-Length: {len(text)}\r\n\r\n{text}"
    ).encode()
    answer = _send_raw(sandbox.url, request)
    assert answer.startswith(b"HTTP/1.1 400")
    body = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert body["Type"] == "PostDataInvalidException" and body["ErrorNumber"] == 14
    assert "nested deeper" in body["Message"]
    assert (
        http("POST", sandbox.url + "/_sandbox/clock", json.loads("[" * 70 + "]" * 70)).status == 400
    )


# The control API -----------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")
BAD_CONTROL_VALUES = [
    ("/_sandbox/clock", {"advance": "abc"}, "advance"),
    ("/_sandbox/clock", {"advance": -5}, "forward"),
    ("/_sandbox/clock", {"advance": NAN}, "advance"),
    ("/_sandbox/clock", {"advance": INF}, "advance"),
    ("/_sandbox/clock", {"advance": 10**400}, "advance"),
    ("/_sandbox/clock", {"advance": True}, "advance"),
    ("/_sandbox/clock", {"advance": 8000 * 365 * 86400}, "year"),
    ("/_sandbox/organisations/{demo}/contacts", {"generate": "abc"}, "generate"),
    ("/_sandbox/organisations/{demo}/contacts", {"generate": -3}, "generate"),
    ("/_sandbox/organisations/{demo}/contacts", {"generate": 2.5}, "generate"),
    ("/_sandbox/organisations/{demo}/contacts", {"generate": 10**12}, "generate"),
    ("/_sandbox/organisations/{demo}/contacts", {"generate": NAN}, "generate"),
    ("/_sandbox/organisations/{demo}/contacts", {"generate": 3, "seed": "x"}, "seed"),
    ("/_sandbox/organisations/{demo}/contacts", {"contacts": "Ann"}, "contacts"),
    ("/_sandbox/organisations/{demo}/contacts", {"contacts": [1, 2]}, "contacts"),
    ("/_sandbox/rate-limits", {"minute": "5"}, "minute"),
    ("/_sandbox/rate-limits", {"minute": -1}, "minute"),
    ("/_sandbox/rate-limits", {"concurrent": NAN}, "concurrent"),
    ("/_sandbox/rate-limits", {"app_minute": 1e300}, "app_minute"),
    ("/_sandbox/rate-limits", {"day": "abc"}, "day"),
    ("/_sandbox/rate-limits", {"scale": 0}, "scale"),
    ("/_sandbox/rate-limits", {"scale": INF}, "scale"),
    ("/_sandbox/rate-limits", {"enabled": "yes"}, "enabled"),
    ("/_sandbox/rate-limits", {"reset_counters": 1}, "reset_counters"),
    ("/_sandbox/faults", {"status": "abc"}, "status"),
    ("/_sandbox/faults", {"status": 5000}, "status"),
    ("/_sandbox/faults", {"count": -1}, "count"),
    ("/_sandbox/faults", {"share": 2}, "share"),
    ("/_sandbox/faults", {"kind": "hang", "seconds": NAN}, "seconds"),
    ("/_sandbox/faults", {"retry_after": "soon"}, "retry_after"),
    ("/_sandbox/faults", {"path": 7}, "path"),
    ("/_sandbox/organisations", {"day_limit": "lots"}, "day_limit"),
    ("/_sandbox/organisations", {"tier": "GOLD"}, "tier"),
    ("/_sandbox/organisations", {"tenantId": "not-a-guid"}, "tenantId"),
    ("/_sandbox/organisations", {"name": ["A"]}, "name"),
    ("/_sandbox/organisations/{demo}", {"day_limit": 0}, "day_limit"),
    ("/_sandbox/clients", {"redirect_uris": "http://x/cb"}, "redirect_uris"),
    ("/_sandbox/clients", {"redirect_uris": ["javascript:alert(1)"]}, "redirect URI"),
    ("/_sandbox/clients", {"scopes": [1]}, "scopes"),
    ("/_sandbox/clients", {"client_id": 5}, "client_id"),
    ("/_sandbox/tokens/expire", {"revoke": "yes"}, "revoke"),
    ("/_sandbox/tokens/expire", {"access_token": 12}, "access_token"),
    ("/_sandbox/contacts/{contact}/merge", {"into": 12}, "into"),
    ("/_sandbox/clock", 42, "object"),
    ("/_sandbox/clock", [5], "object"),
    ("/_sandbox/clock", {"advanse": 5}, "advanse"),
    ("/_sandbox/rate-limits", {"minutes": 5}, "minutes"),
    ("/_sandbox/faults", {"status": 503, "times": 2}, "times"),
]


@pytest.mark.parametrize(("path", "body", "named"), BAD_CONTROL_VALUES)
def test_control_api_refuses_bad_values_with_a_400_naming_them(sandbox, path, body, named):
    (contact,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Ann"}])
    before = sandbox.state()
    url = sandbox.url + path.format(demo=sandbox.demo_tenant_id, contact=contact)
    answer = http("POST", url, body)
    assert answer.status == 400, answer.body
    assert named in answer.json()["error"]
    after = sandbox.state()
    assert (after["clock_offset"], after["rate_limits"], after["faults"]) == (
        before["clock_offset"],
        before["rate_limits"],
        before["faults"],
    )
    assert after["organisations"] == before["organisations"]


def test_control_api_refuses_a_body_that_is_not_json(sandbox):
    request = urllib_request("POST", sandbox.url + "/_sandbox/clock", b"{advance: 5")
    assert request.status == 400 and "not JSON" in request.json()["error"]


def urllib_request(method: str, url: str, data: bytes):
    import urllib.error
    import urllib.request

    from tests.plugins.sandbox import HttpAnswer

    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return HttpAnswer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return HttpAnswer(error.code, dict(error.headers), error.read())


def test_a_long_but_sane_clock_advance_keeps_the_api_working(sandbox, sandbox_sdk):
    sandbox.advance_clock(200 * 365 * 86400)  # two centuries: tokens expire, nothing breaks
    token = sandbox.issue_token()
    headers = {
        "Authorization": "Bearer " + token["access_token"],
        "xero-tenant-id": sandbox.demo_tenant_id,
    }
    answer = http("GET", sandbox.url + "/api.xro/2.0/Contacts", headers=headers)
    assert answer.status == 200
    assert (
        http("POST", sandbox.url + "/_sandbox/clock", {"advance": 7000 * 365 * 86400}).status == 400
    )


# The state file --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "old_text",
    [
        json.dumps({"clock_offset": 0, "orgs": {}, "clients": {}}),  # before schema versions
        json.dumps({"schema": 999, "orgs": {}}),  # from a newer sandbox
        '{"schema": 2, "orgs": {"a": ',  # cut short
        "[1, 2, 3]",
        "[" * 100_000,
    ],
    ids=["unversioned", "newer", "truncated", "not-an-object", "absurd"],
)
def test_an_old_or_broken_state_file_is_kept_aside_and_the_sandbox_starts_fresh(old_text):
    state_file = Path(tempfile.mkdtemp()) / "state.json"
    state_file.write_text(old_text)
    server = start_sandbox(state_file)
    try:
        control = SandboxControl(server.url)
        assert control.state()["organisations"][control.demo_tenant_id]["contacts"] == 0
        control.call("POST", "/_sandbox/save")
    finally:
        stop_sandbox(server)
    assert (state_file.parent / "state.json.old").read_text() == old_text
    assert json.loads(state_file.read_text())["schema"] >= 1
    said = "".join(server.log)
    assert "starting fresh" in said and "state.json.old" in said


def test_saving_while_writes_run_gives_whole_batches_only(sandbox, sandbox_server):
    """The state file is a snapshot: never half of a batch that was being stored."""
    import threading

    stop = threading.Event()
    batch = 200

    def keep_writing() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            bodies = [{"Name": f"Busy {n}.{i}"} for i in range(batch)]
            sandbox.seed_contacts(sandbox.demo_tenant_id, bodies)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        for _ in range(20):
            assert http("POST", sandbox.url + "/_sandbox/save").status == 200
            saved = json.loads(sandbox_server.state_file.read_text())
            assert len(saved["orgs"][sandbox.demo_tenant_id]["contacts"]) % batch == 0
    finally:
        stop.set()
        writer.join()


# The consent screen sends the browser only where the app said -------------------------

EVIL = "https://evil.example/steal"


def _authorize_url(sandbox, redirect_uri: str, client_id: str = CLIENT_ID) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "offline_access accounting.contacts",
            "state": "s1",
        }
    )
    return f"{sandbox.url}/identity/connect/authorize?{query}"


def test_an_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(sandbox):
    page = http("GET", _authorize_url(sandbox, EVIL))
    assert page.status == 400 and "Location" not in page.headers
    assert b"not registered" in page.body
    form = {"client_id": CLIENT_ID, "response_type": "code", "scope": "offline_access"}
    form["csrf"] = sandbox.form_token({**form, "redirect_uri": REDIRECT_URI})
    form.update(redirect_uri=EVIL, tenant=[sandbox.demo_tenant_id], decision="allow")
    answer = http("POST", sandbox.url + "/identity/connect/authorize", form, form=True)
    assert answer.status == 400 and "Location" not in answer.headers
    assert http("GET", _authorize_url(sandbox, REDIRECT_URI)).status == 200


def test_an_app_without_redirect_uris_cannot_use_the_consent_screen(sandbox):
    app = sandbox.create_client(name="No callback")
    assert http("GET", _authorize_url(sandbox, EVIL, app["client_id"])).status == 400


def test_redirect_uris_registered_through_the_control_api(sandbox):
    callback = "http://127.0.0.1:9999/callback"
    app = sandbox.create_client(name="Other app", redirect_uris=[callback])
    assert http("GET", _authorize_url(sandbox, callback, app["client_id"])).status == 200
    later = "http://localhost:9999/callback"
    assert http("GET", _authorize_url(sandbox, later)).status == 400
    sandbox.register_redirect_uri(later)
    location = sandbox.authorize(redirect_uri=later)
    assert location.startswith(later + "?code=")
    sandbox.reset()  # back to what the command line registered
    assert http("GET", _authorize_url(sandbox, later)).status == 400
    assert http("GET", _authorize_url(sandbox, REDIRECT_URI)).status == 200


def test_make_run_registers_omni_xeros_callback(monkeypatch):
    """scripts/run.py (through supervise.py, which make serve shares) gives the sandbox the
    callback Django builds (sync/urls.py)."""
    import importlib.util

    from django.urls import reverse

    spec = importlib.util.spec_from_file_location("supervise", ROOT / "scripts" / "supervise.py")
    assert spec and spec.loader
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    monkeypatch.delenv("XERO_REDIRECT_URI", raising=False)
    monkeypatch.setattr(run, "env_value", lambda name: "")
    uris = run.sandbox_redirect_uris().split()
    assert f"http://{run.HOST}:{run.PORT}{reverse('sync:callback')}" in uris
    monkeypatch.setattr(run, "env_value", lambda name: "https://omni.example/cb/")
    assert run.sandbox_redirect_uris() == "https://omni.example/cb/"
    assert '--redirect-uri "$XERO_SANDBOX_REDIRECT_URIS"' in (ROOT / "Procfile").read_text()


# The web UI ------------------------------------------------------------------------------


def _rows(page: str) -> int:
    return page.count("<tr><td>")


def test_the_web_ui_shows_a_page_of_contacts_at_a_time(sandbox):
    sandbox.generate_contacts(sandbox.demo_tenant_id, 2_000)
    first = http("GET", sandbox.url + "/").body.decode()
    assert "<select" not in first  # no list of every contact on every row
    assert len(first) < 200_000, len(first)
    assert _rows(first) <= 50 + 50  # a page of each organisation (Harbour has none)
    link = f"/?org={sandbox.demo_tenant_id}&amp;page=2"
    assert link in first and "Page 1 of 40" in first
    second = http("GET", sandbox.url + link.replace("&amp;", "&")).body.decode()
    assert "Page 2 of 40" in second and "Harbour Wholesale Ltd" not in second
    assert _rows(second) == 50
    names = set(re.findall(r"<tr><td>([^<]+)</td>", first))
    assert names.isdisjoint(re.findall(r"<tr><td>([^<]+)</td>", second))


def test_the_web_ui_pages_documents_too(sandbox, sandbox_sdk):
    from xero_python.accounting import Contact, Invoice, Invoices, LineItem

    (supplier,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Supplier"}])
    line = LineItem(description="Stock", quantity=1, unit_amount=10, account_code="310")
    bills = [
        Invoice(type="ACCPAY", contact=Contact(contact_id=supplier), line_items=[line])
        for _ in range(60)
    ]
    sandbox_sdk.accounting.create_invoices(sandbox.demo_tenant_id, Invoices(invoices=bills))
    page = http("GET", sandbox.url + "/").body.decode()
    assert "Invoices and bills (60)" in page and "Page 1 of 2" in page
    assert page.count("<tr><td>ACCPAY") == 50


def test_the_consent_form_needs_the_csrf_token(sandbox):
    form = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "offline_access",
        "tenant": [sandbox.demo_tenant_id],
        "decision": "allow",
    }
    for token in ("", "guessed"):
        answer = http(
            "POST", sandbox.url + "/identity/connect/authorize", {**form, "csrf": token}, form=True
        )
        assert answer.status == 403 and "Location" not in answer.headers
    assert sandbox.authorize().startswith(REDIRECT_URI + "?code=")


def test_web_ui_forms_need_the_csrf_token(sandbox):
    (contact,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Kept"}])
    for fields in ({}, {"csrf": "guessed"}):
        answer = http("POST", sandbox.url + "/ui/reset", fields, form=True)
        assert answer.status == 403 and "Location" not in answer.headers
        archive = http("POST", sandbox.url + f"/ui/contacts/{contact}/archive", fields, form=True)
        assert archive.status == 403
    assert sandbox.contact(contact)["ContactStatus"] == "ACTIVE"
    page = http("GET", sandbox.url + "/").body.decode()
    forms = page.count("<form")
    assert forms and page.count("name='csrf'") == forms  # every form carries it
    token = re.search(r"name='csrf' value='([^']+)'", page)
    assert token
    answer = http("POST", sandbox.url + "/ui/reset", {"csrf": token.group(1)}, form=True)
    assert answer.status == 302
    with pytest.raises(AssertionError, match="404"):
        sandbox.contact(contact)


def test_the_requests_log_is_paged_newest_first(sandbox):
    for n in range(60):
        http("GET", sandbox.url + f"/Connections?call={n}", headers={"Authorization": "Bearer x"})
    http("GET", sandbox.url + "/_sandbox/state")  # the control API is not logged
    first = http("GET", sandbox.url + "/ui/requests").body.decode()
    assert "Requests (60, newest first)" in first and "Page 1 of 2" in first
    assert _rows(first) == 50 and "/Connections?call=59" in first
    assert "/Connections?call=9<" not in first and "_sandbox" not in first.split("<table>")[1]
    second = http("GET", sandbox.url + "/ui/requests?page=2").body.decode()
    assert _rows(second) == 10 and "/Connections?call=0<" in second
    assert "Requests log" in http("GET", sandbox.url + "/").body.decode()
