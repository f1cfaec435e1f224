"""`--demo-contacts`: the contacts `make run` gives the demo organisation, once."""

import tempfile
from pathlib import Path

from tests.plugins.sandbox import SandboxControl, start_sandbox, stop_sandbox
from xero_sandbox import demo


def test_demo_contacts_are_seeded_once_with_an_archived_and_a_merged_one():
    state = Path(tempfile.mkdtemp(prefix="sandbox-demo-")) / "state.json"
    server = start_sandbox(state, "--demo-contacts")
    try:
        control = SandboxControl(server.url)
        path = f"/_sandbox/organisations/{control.demo_tenant_id}/contacts"
        seeded = control.call("GET", path)
        by_name = {c["Name"]: c for c in seeded}
        expected = len(demo.ACTIVE) + len(demo.ARCHIVED) + len(demo.MERGED)
        assert len(seeded) == expected
        assert by_name["Old Harbour Traders"]["ContactStatus"] == "ARCHIVED"
        merged = by_name["Tui Books"]
        assert merged["ContactStatus"] == "ARCHIVED"
        assert merged["MergedToContactID"] == by_name["Tui Books Limited"]["ContactID"]
    finally:
        stop_sandbox(server)
    # Started again on the same state, it adds nothing.
    server = start_sandbox(state, "--demo-contacts")
    try:
        assert len(SandboxControl(server.url).call("GET", path)) == expected
    finally:
        stop_sandbox(server)
