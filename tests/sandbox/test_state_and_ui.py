"""State that survives a restart, the Xero-side web UI, and the control API's edges."""

import json
import re
import time
from pathlib import Path

import pytest

from tests.plugins.sandbox import SandboxControl, http, start_sandbox, stop_sandbox


def test_state_survives_a_restart_and_reset_empties_it(tmp_path):
    state_file = tmp_path / "sandbox.json"
    server = start_sandbox(state_file)
    try:
        control = SandboxControl(server.url)
        (contact_id,) = control.seed_contacts(control.demo_tenant_id, [{"Name": "Persistent Ltd"}])
        token = control.issue_token()
    finally:
        stop_sandbox(server)
    saved = json.loads(state_file.read_text())
    assert contact_id in saved["orgs"][control.demo_tenant_id]["contacts"]

    server = start_sandbox(state_file)
    try:
        control = SandboxControl(server.url)
        assert control.contact(contact_id)["Name"] == "Persistent Ltd"
        headers = {"Authorization": "Bearer " + token["access_token"]}
        assert http("GET", server.url + "/Connections", headers=headers).status == 200
        control.reset()
        assert control.state()["organisations"][control.demo_tenant_id]["contacts"] == 0
        assert http("GET", server.url + "/Connections", headers=headers).status == 401
    finally:
        stop_sandbox(server)


def test_state_file_is_written_without_waiting_for_shutdown(sandbox, sandbox_server):
    sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Saved Soon"}])
    sandbox.call("POST", "/_sandbox/save")
    assert "Saved Soon" in sandbox_server.state_file.read_text()


def test_generate_ten_thousand_contacts_is_fast(sandbox):
    started = time.perf_counter()
    ids = sandbox.generate_contacts(sandbox.demo_tenant_id, 10_000)
    assert len(set(ids)) == 10_000
    assert time.perf_counter() - started < 10
    assert sandbox.state()["organisations"][sandbox.demo_tenant_id]["contacts"] == 10_000


def test_home_page_shows_organisations_contacts_and_documents(sandbox, sandbox_sdk):
    sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Visible Contact <b>"}])
    page = http("GET", sandbox.url + "/")
    assert page.status == 200
    text = page.body.decode()
    assert "Demo Company (NZ)" in text and "Harbour Wholesale Ltd" in text
    assert "Visible Contact &lt;b&gt;" in text  # escaped, never raw HTML
    assert "<script" not in text and "<link" not in text and "src=" not in text  # no assets


def csrf_token(sandbox) -> str:
    """The token the web UI's forms carry, read from its page as a browser would."""
    page = http("GET", sandbox.url + "/").body.decode()
    found = re.search(r"name='csrf' value='([^']+)'", page)
    assert found, "the web UI's forms carry no CSRF token"
    return found.group(1)


def _form_post(sandbox, path: str, fields: dict | None = None) -> str:
    answer = http(
        "POST", sandbox.url + path, {"csrf": csrf_token(sandbox), **(fields or {})}, form=True
    )
    assert answer.status == 302
    return answer.headers["Location"]


def test_ui_archive_restore_merge_and_gdpr_buttons(sandbox):
    a, b, c = sandbox.seed_contacts(
        sandbox.demo_tenant_id, [{"Name": "Ann"}, {"Name": "Bob"}, {"Name": "Cat"}]
    )
    page = http("GET", sandbox.url + "/").body.decode()
    assert f"/ui/contacts/{a}/archive" in page and f"/ui/contacts/{a}/merge" in page
    _form_post(sandbox, f"/ui/contacts/{a}/archive")
    assert sandbox.contact(a)["ContactStatus"] == "ARCHIVED"
    _form_post(sandbox, f"/ui/contacts/{a}/restore")
    assert sandbox.contact(a)["ContactStatus"] == "ACTIVE"
    location = _form_post(sandbox, f"/ui/contacts/{b}/merge", {"into": c})
    assert "ARCHIVED" in location
    assert sandbox.contact(b)["MergedToContactID"] == c
    _form_post(sandbox, f"/ui/contacts/{c}/gdpr")
    assert sandbox.contact(c)["ContactStatus"] == "GDPRREQUEST"


def test_ui_reset_button(sandbox):
    sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Gone Soon"}])
    _form_post(sandbox, "/ui/reset")
    assert sandbox.state()["organisations"][sandbox.demo_tenant_id]["contacts"] == 0


def test_merge_into_an_archived_contact_is_refused(sandbox):
    a, b = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "A"}, {"Name": "B"}])
    sandbox.archive(b)
    with pytest.raises(AssertionError, match="409"):
        sandbox.merge(a, into=b)


def test_bad_fault_kind_is_refused(sandbox):
    answer = http("POST", sandbox.url + "/_sandbox/faults", {"kind": "explode"})
    assert answer.status == 400


def test_clock_moves_only_forward(sandbox):
    before = sandbox.call("GET", "/_sandbox/clock")["now"]
    assert sandbox.advance_clock(100) >= before + 100
    assert http("POST", sandbox.url + "/_sandbox/clock", {"advance": -5}).status == 400


def test_readme_documents_every_control_route():
    from xero_sandbox.control import Control
    from xero_sandbox.faults import Faults
    from xero_sandbox.limits import RateLimiter
    from xero_sandbox.store import Store

    readme = (Path(__file__).resolve().parents[2] / "xero_sandbox" / "README.md").read_text()
    control = Control(Store(None), RateLimiter(), Faults())
    routes = [(m, p) for m, p in control.router.patterns if p.startswith("/_sandbox")]
    assert len(routes) > 15
    for method, path in routes:
        assert f"{method} {path}" in readme, f"{method} {path} is not in README"
