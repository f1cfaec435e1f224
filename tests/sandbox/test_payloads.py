"""Replay Xero's documented example payloads (reviewed copies in payloads/) as raw JSON."""

import json
import uuid
from pathlib import Path

import pytest

from tests.plugins.sandbox import http

PAYLOADS = sorted((Path(__file__).parent / "payloads").glob("*.json"))


def _substitute(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace(f"${name}", value)
    return text


def _subset(expected, actual) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            _subset(v, actual.get(k)) for k, v in expected.items()
        )
    return expected == actual


@pytest.mark.parametrize("payload_file", PAYLOADS, ids=[p.stem for p in PAYLOADS])
def test_documented_payload_replays(sandbox, payload_file):
    contact_id, archived_id = sandbox.seed_contacts(
        sandbox.demo_tenant_id, [{"Name": "Replay Customer"}, {"Name": "Replay Archived"}]
    )
    sandbox.archive(archived_id)
    values = {
        "CONTACT_ID": contact_id,
        "ARCHIVED_CONTACT_ID": archived_id,
        "SUFFIX": uuid.uuid4().hex[:6],
    }
    payload = json.loads(_substitute(payload_file.read_text(), values))
    assert payload["source"] and payload["review"]  # every golden file says where it came from
    token = sandbox.issue_token()
    headers = {
        "Authorization": "Bearer " + token["access_token"],
        "xero-tenant-id": sandbox.demo_tenant_id,
        "Accept": "application/json",
    }
    for _ in range(payload.get("repeat", 1)):
        answer = http(
            payload["method"],
            sandbox.url + "/api.xro/2.0" + payload["path"],
            payload["body"],
            headers=headers,
        )
    expect = payload["expect"]
    assert answer.status == expect["status"], answer.body
    body = answer.json()
    if answer.status == 200:
        element = body[expect["collection"]][0]
        assert body["Status"] == "OK" and body["DateTimeUTC"].startswith("/Date(")
        assert _subset(expect["fields"], element), element
    else:
        messages = [m["Message"] for m in body["Elements"][0]["ValidationErrors"]]
        assert messages == expect["messages"]
