"""`--seed scripts/sandbox_seed.json`: the app and contacts `make run` gives the sandbox."""

import json
import tempfile
from pathlib import Path

from tests.plugins.sandbox import ROOT, SandboxControl, start_sandbox, stop_sandbox

SEED = ROOT / "scripts" / "sandbox_seed.json"


def test_seed_file_contacts_are_added_once_with_an_archived_and_a_merged_one():
    seeded_bodies = next(iter(json.loads(SEED.read_text())["contacts"].values()))
    state = Path(tempfile.mkdtemp(prefix="sandbox-demo-")) / "state.json"
    server = start_sandbox(state, "--seed", str(SEED))
    try:
        control = SandboxControl(server.url)
        path = f"/_sandbox/organisations/{control.demo_tenant_id}/contacts"
        seeded = control.call("GET", path)
        by_name = {c["Name"]: c for c in seeded}
        assert len(seeded) == len(seeded_bodies)
        assert by_name["Old Harbour Traders"]["ContactStatus"] == "ARCHIVED"
        merged = by_name["Tui Books"]
        assert merged["ContactStatus"] == "ARCHIVED"
        assert merged["MergedToContactID"] == by_name["Tui Books Limited"]["ContactID"]
        assert "omni-xero-demo" in control.state()["clients"]
        # A reset brings the demo contacts back.
        control.reset()
        assert len(control.call("GET", path)) == len(seeded_bodies)
    finally:
        stop_sandbox(server)
    # Started again on the same state, it adds nothing.
    server = start_sandbox(state, "--seed", str(SEED))
    try:
        assert len(SandboxControl(server.url).call("GET", path)) == len(seeded_bodies)
    finally:
        stop_sandbox(server)


def test_the_sandbox_names_no_app_of_its_own():
    """Nothing of omni-xero is inside xero_sandbox/: it comes from the seed file and flags."""
    seed = json.loads(SEED.read_text())
    names = [seed["clients"][0]["client_id"], seed["clients"][0]["name"]]
    names += [body["Name"] for bodies in seed["contacts"].values() for body in bodies]
    for source in (ROOT / "xero_sandbox").glob("*.py"):
        text = source.read_text()
        for name in names:
            assert name not in text, f"{source.name} names {name!r}"
        assert "omni-xero" not in text.lower(), source.name
