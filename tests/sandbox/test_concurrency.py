"""One long query holds up nobody else: other organisations, other reads of the same one,
the control API and the web UI are answered while it runs (issue 9)."""

import threading
import time
from urllib.parse import quote

from tests.plugins.sandbox import http

# A `where` the sandbox must test against every one of 22,000 contacts, 40 times each:
# seconds of work, where a cheap call takes milliseconds (and within the parser's bounds:
# 11 tokens a clause, 500 at most).
SLOW_WHERE = " OR ".join(f'Name.ToLower().Contains("nobody-{i}")' for i in range(40))


def _api(sandbox, token: dict, tenant_id: str, path: str, method: str = "GET", body=None):
    headers = {"Authorization": "Bearer " + token["access_token"], "xero-tenant-id": tenant_id}
    return http(method, sandbox.url + "/api.xro/2.0" + path, body, headers=headers)


def _in_flight(sandbox, tenant_id: str, seconds: float) -> bool:
    """Wait until the sandbox is answering a call of this organisation (True), or give up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if sandbox.state()["in_flight"].get(tenant_id):
            return True
        time.sleep(0.01)
    return False


def test_a_long_query_holds_up_no_other_caller(sandbox):
    demo, harbour = sandbox.demo_tenant_id, sandbox.harbour_tenant_id
    some_contact = sandbox.generate_contacts(demo, 22_000)[0]
    token = sandbox.issue_token(tenant_ids=[demo, harbour])
    slow: dict[str, float] = {}

    def long_query() -> None:
        started = time.perf_counter()
        answer = _api(sandbox, token, demo, f"/Contacts?page=1&where={quote(SLOW_WHERE)}")
        assert answer.status == 200
        slow["seconds"] = time.perf_counter() - started

    worker = threading.Thread(target=long_query)
    worker.start()
    try:
        assert _in_flight(sandbox, demo, 10), "the control API waited for the long query"
        cheap = {
            "another organisation": lambda: _api(sandbox, token, harbour, "/Organisation"),
            "a write to another organisation": lambda: _api(
                sandbox, token, harbour, "/Contacts", "PUT", {"Contacts": [{"Name": "Quick Ltd"}]}
            ),
            "another read of the same organisation": lambda: _api(
                sandbox, token, demo, f"/Contacts/{some_contact}"
            ),
            "the control API": lambda: http("GET", sandbox.url + "/_sandbox/state"),
            "the web UI": lambda: http("GET", sandbox.url + f"/?org={harbour}"),
        }
        took = {}
        for what, call in cheap.items():
            started = time.perf_counter()
            assert call().status == 200, what
            took[what] = time.perf_counter() - started
        still_running = worker.is_alive()
    finally:
        worker.join()
    assert still_running, f"the long query ({slow}) ended before the cheap calls: {took}"
    # Orders of magnitude apart, so a slow machine does not make this flaky.
    for what, seconds in took.items():
        assert seconds < slow["seconds"] / 10, (what, seconds, slow["seconds"])


def test_readers_share_an_organisation_and_a_writer_waits_for_them():
    from xero_sandbox.store import ReadWriteLock

    lock = ReadWriteLock()
    both_reading = threading.Barrier(3, timeout=5)  # two readers and this test
    release = threading.Event()
    wrote = threading.Event()

    def reader() -> None:
        with lock.reading():
            both_reading.wait()  # two readers inside at once, or this times out
            release.wait(5)

    def writer() -> None:
        with lock.writing(), lock.reading():  # a writer may read what it writes
            wrote.set()

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for thread in readers:
        thread.start()
    both_reading.wait()
    writing = threading.Thread(target=writer)
    writing.start()
    assert not wrote.wait(0.3), "the writer did not wait for the readers"
    with lock.reading():  # a reader arriving now is not held up by the waiting writer
        pass
    release.set()
    for thread in [*readers, writing]:
        thread.join(5)
    assert wrote.is_set()
