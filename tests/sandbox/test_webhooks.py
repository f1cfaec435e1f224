"""The sandbox delivers webhooks as Xero does: signed, batched, intent to receive checked,
failed deliveries retried with backoff, and duplicates and reordering on demand."""

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

KEY = "sandbox-webhook-key"


class Receiver:
    """A webhook receiver for tests: records each POST; answers as `answer` says (None: 200
    when signed with KEY, else 401)."""

    def __init__(self):
        self.posts: list[tuple[dict, bytes]] = []
        self.times: list[float] = []
        self.answer: int | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                receiver.times.append(time.monotonic())
                status = receiver.answer
                if status is None:
                    right = base64.b64encode(hmac.new(KEY.encode(), body, hashlib.sha256).digest())
                    signed = self.headers.get("x-xero-signature", "").encode() == right
                    status = 200 if signed else 401
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/xero"

    def events(self) -> list[dict]:
        return [e for _, body in self.posts for e in json.loads(body)["events"]]


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.server.shutdown()


@pytest.fixture
def hooked(sandbox, sandbox_sdk, receiver):
    """The demo app connected to the demo organisation, its webhook pointed at `receiver`
    (rounds only when flushed)."""
    sandbox.webhook(url=receiver.url, key=KEY, round_seconds=3600)
    return sandbox


def test_an_archive_is_delivered_signed_with_xeros_fields(hooked, receiver):
    (contact_id,) = hooked.seed_contacts(hooked.demo_tenant_id, [{"Name": "Tui Books"}])
    hooked.flush_webhooks()
    hooked.archive(contact_id)
    hooked.flush_webhooks()
    headers, body = receiver.posts[-1]
    expected = base64.b64encode(hmac.new(KEY.encode(), body, hashlib.sha256).digest()).decode()
    assert headers["x-xero-signature"] == expected
    payload = json.loads(body)
    assert set(payload) == {"events", "firstEventSequence", "lastEventSequence", "entropy"}
    (event,) = payload["events"]
    assert event["resourceId"] == contact_id and event["eventCategory"] == "CONTACT"
    assert event["eventType"] == "UPDATE" and event["tenantId"] == hooked.demo_tenant_id
    assert event["resourceUrl"].endswith(f"/Contacts/{contact_id}")
    first = json.loads(receiver.posts[0][1])["events"][0]
    assert first["eventType"] == "CREATE"  # the seeding, delivered in the round before


def test_what_existed_before_the_webhook_is_no_event(sandbox, sandbox_sdk, receiver):
    sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Harbour Cafe"}])
    sandbox.webhook(url=receiver.url, key=KEY, round_seconds=3600)
    sandbox.flush_webhooks()
    assert receiver.posts == []


def test_merge_restore_and_gdpr_are_events_of_their_contacts(hooked, receiver):
    old, survivor, other = hooked.seed_contacts(
        hooked.demo_tenant_id, [{"Name": "Bayview"}, {"Name": "Bayview Ltd"}, {"Name": "Kauri"}]
    )
    hooked.flush_webhooks()
    receiver.posts.clear()
    hooked.merge(old, into=survivor)
    hooked.gdpr(other)
    hooked.flush_webhooks()
    assert {e["resourceId"] for e in receiver.events()} == {old, other}
    hooked.restore(old)
    hooked.flush_webhooks()
    assert receiver.events()[-1]["resourceId"] == old


def test_intent_to_receive_enables_only_a_receiver_that_answers_right(
    sandbox, sandbox_sdk, receiver
):
    assert sandbox.webhook(url=receiver.url, key=KEY, intent=True)["status"] == "enabled"
    bodies = [json.loads(body) for _, body in receiver.posts]
    assert [b["events"] for b in bodies] == [[], []]  # one signed right, one wrong
    receiver.answer = 200  # answers 200 even to a wrong signature: Xero refuses it
    refused = sandbox.webhook(url=receiver.url, key=KEY, intent=True)
    assert refused["status"] == "intent failed"
    assert "not 200 and 401" in refused["last_error"]


def test_a_failed_delivery_is_retried_with_backoff_then_delivered(hooked, receiver):
    hooked.webhook(url=receiver.url, key=KEY, round_seconds=0.05, retry_seconds=0.2)
    receiver.answer = 503
    hooked.seed_contacts(hooked.demo_tenant_id, [{"Name": "Napier Gifts"}])
    deadline = time.monotonic() + 5
    while len(receiver.posts) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    first, second, third = receiver.times[:3]
    assert third - second > (second - first) * 1.5  # waits double: 0.2 s, then 0.4 s
    receiver.answer = None
    deadline = time.monotonic() + 5
    while not hooked.webhooks()[0]["delivered"] and time.monotonic() < deadline:
        time.sleep(0.05)
    (state,) = hooked.webhooks()
    assert state["delivered"] == 1 and state["failures"] >= 3 and state["pending"] == 0


def test_a_receiver_failing_for_the_whole_window_gets_its_webhook_disabled(hooked, receiver):
    hooked.webhook(
        url=receiver.url, key=KEY, round_seconds=3600, retry_seconds=0.01, retry_window=0.1
    )
    receiver.answer = 500
    hooked.seed_contacts(hooked.demo_tenant_id, [{"Name": "Gone Ltd"}])
    hooked.flush_webhooks()
    time.sleep(0.15)
    (state,) = hooked.flush_webhooks()
    assert state["status"] == "disabled"
    count = len(receiver.posts)
    hooked.flush_webhooks()
    assert len(receiver.posts) == count  # no more deliveries


def test_duplicates_and_reordering_on_demand(hooked, receiver):
    hooked.webhook(url=receiver.url, key=KEY, round_seconds=3600, duplicates=1.0, reorder=True)
    names = [{"Name": f"Shop {n:02}"} for n in range(20)]
    ids = hooked.seed_contacts(hooked.demo_tenant_id, names)
    hooked.flush_webhooks()
    delivered = [e["resourceId"] for e in receiver.events()]
    assert sorted(delivered) == sorted(ids * 2)  # every event twice
    assert delivered[:20] != ids  # [sandbox] shuffled (20! orders: this order is unlikely)
