"""`make serve` (scripts/serve.py, Procfile.production): the production shape on one machine.

The real thing, in a session of its own, on free ports, against a PostgreSQL database it
creates itself (dropped after), with its keys and static files in a temporary VAR_DIR and
none of the test suite's settings: it must work over plain HTTP with DEBUG off, and stop
every process it started on SIGTERM.
"""

import http.cookiejar
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from contextlib import suppress
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.processes import alive, descendants, free_port, group_gone, honcho_started, wait_until

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"  # the server's own database


def postgres_answers() -> bool:
    try:
        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)"),
]


@pytest.fixture
def database():
    """The URL of a PostgreSQL database that does not exist yet; dropped after the test."""
    if not postgres_answers():
        pytest.skip("PostgreSQL is not answering at 127.0.0.1:5432")
    name = f"serve_test_{secrets.token_hex(4)}"
    yield f"postgres://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(POSTGRES, autocommit=True) as db:
        db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def environment(**settings: str) -> dict[str, str]:
    """The shell's basics only: not the test suite's settings module, key or sandbox opt-in."""
    kept = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYENV_ROOT")
    return {**{k: os.environ[k] for k in kept if k in os.environ}, **settings}


def serve(tmp_path: Path, database: str) -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    output = tmp_path / "output"
    env = environment(
        VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=database,
        HOST="127.0.0.1",
        PORT=str(port),
        XERO_SANDBOX_PORT=str(free_port()),
        WEB_CONCURRENCY="2",
        WORKERS="2",
    )
    with output.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "scripts/serve.py"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    return process, port, output


def get(url: str, opener: urllib.request.OpenerDirector | None = None, data: bytes | None = None):
    """(status, headers, body) of a request, an HTTP error's included."""
    try:
        with (opener or urllib.request.build_opener()).open(url, data=data, timeout=5) as answer:
            return answer.status, answer.headers, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def answers(url: str, process: subprocess.Popen, output: Path) -> bool:
    assert process.poll() is None, f"make serve stopped early:\n{output.read_text()}"
    try:
        return get(url)[0] == 200
    except OSError:
        return False


def enqueue_a_task(database: str, var_dir: Path) -> str:
    """A real task in the queue (the webhook events of an organisation not connected, which
    the worker finishes at once): its id."""
    script = "from sync.tasks import webhook_events; print(webhook_events.enqueue(0).id)"
    env = environment(DEBUG="true", DATABASE_URL=database, VAR_DIR=str(var_dir))
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


def task_status(database: str, task_id: str) -> str:
    with psycopg.connect(database) as db:
        row = db.execute(
            "SELECT status FROM django_tasks_database_dbtaskresult WHERE id = %s", [task_id]
        ).fetchone()
    return row[0] if row else "missing"


def test_make_serve_runs_gunicorn_workers_and_scheduler_with_debug_off_and_sigterm_stops_all(
    tmp_path, database
):
    process, port, output = serve(tmp_path, database)
    site = f"http://127.0.0.1:{port}"
    started: dict[str, int] = {}
    try:
        wait_until(lambda: answers(f"{site}/login/", process, output), 180, "the login page")
        log = output.read_text()
        assert "Created the PostgreSQL database" in log
        assert "accountant" in log  # the demo logins: the database was empty

        # Every process, the task workers twice.
        wanted = {"web.1", "worker.1", "worker.2", "scheduler.1", "sandbox.1"}
        wait_until(lambda: set(honcho_started(output.read_text())) == wanted, 20, str(wanted))
        started = honcho_started(output.read_text())
        gunicorn = [p for p in descendants(started["web.1"]) if b"gunicorn" in cmdline(p)]
        assert len(gunicorn) == 3  # the master and its two workers

        # The login page from gunicorn, DEBUG off (a missing page is the plain 404).
        status, headers, page = get(f"{site}/login/")
        assert headers["Server"] == "gunicorn"
        status, _, missing = get(f"{site}/no-such-page/")
        assert status == 404 and "Django tried these URL patterns" not in missing

        # Static files collected, under hashed names, cached for ever by browsers.
        stylesheet = re.search(r"/static/css/app\.[0-9a-f]{12}\.css", page)
        assert stylesheet, page
        status, headers, css = get(site + stylesheet.group())
        assert status == 200 and "immutable" in headers["Cache-Control"] and css

        # A login holds over plain HTTP: no redirect to https, no cookie kept from http.
        logins = json.loads((tmp_path / "var" / "demo-logins.json").read_text())
        browser = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        token = re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', get(f"{site}/login/", browser)[2]
        )
        form = {
            "csrfmiddlewaretoken": token.group(1),
            "username": "accountant",
            "password": logins["accountant"],
        }
        browser.addheaders = [("Origin", site), ("Referer", f"{site}/login/")]
        status, _, dashboard = get(f"{site}/login/", browser, urllib.parse.urlencode(form).encode())
        assert status == 200 and "Customers" in dashboard, dashboard[:500]

        # The secret key made for it, kept for its owner alone, is what the processes use.
        key_file = tmp_path / "var" / "secret-key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        assert len(key_file.read_text()) >= 50
        assert f"SECRET_KEY={key_file.read_text()}".encode() in environ_of(gunicorn[0])

        # A task worker runs what is queued.
        task_id = enqueue_a_task(database, tmp_path / "var")
        wait_until(lambda: task_status(database, task_id) == "SUCCESSFUL", 30, "the task to run")

        pids = descendants(process.pid) | {process.pid}
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        wait_until(lambda: not any(alive(pid) for pid in pids), 10, "every process to stop")
        groups = [process.pid, *started.values()]
        wait_until(lambda: all(group_gone(g) for g in groups), 5, "every process group to go")
    finally:
        for group in [process.pid, *started.values()]:
            with suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        process.wait()
    log = output.read_text()
    assert "Traceback" not in log, log
    assert "worker.2 stopped" in log and "web.1 stopped" in log


def cmdline(pid: int) -> bytes:
    with suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    return b""


def environ_of(pid: int) -> list[bytes]:
    return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")


def test_postgresql_not_answering_is_said_in_one_sentence(tmp_path):
    closed = free_port()
    result = subprocess.run(
        [sys.executable, "scripts/serve.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env=environment(
            VAR_DIR=str(tmp_path), PORT=str(free_port()), XERO_SANDBOX_PORT=str(free_port()),
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed}/omni_xero",
        ),
    )  # fmt: skip
    assert result.returncode == 1
    assert f"PostgreSQL is not answering at 127.0.0.1:{closed}" in result.stderr
    assert "Traceback" not in result.stderr
