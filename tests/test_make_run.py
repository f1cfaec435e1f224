"""`make run` (scripts/run.py and honcho): however it is stopped, every process it started stops.

Each test starts the real thing, in a session of its own, on free ports, with its database,
demo logins and sandbox state in a temporary VAR_DIR, and reads /proc to find what it
started. The database is migrated once for the module; each run then takes a few seconds.
"""

import fcntl
import http.client
import os
import select
import signal
import socket
import subprocess
import sys
import termios
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import alive, descendants, free_port, group_gone, honcho_started, wait_until

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)"),
]


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory) -> Path:
    """A VAR_DIR, its SQLite database migrated: each run then migrates nothing."""
    path = tmp_path_factory.mktemp("var")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT, env=environment(path), check=True, timeout=120,
    )  # fmt: skip
    return path


def environment(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XERO_")}
    # An explicit database: CI's PostgreSQL run sets DATABASE_URL, and `.env` may.
    env.update(VAR_DIR=str(var_dir), DATABASE_URL=f"sqlite:///{var_dir}/omni-xero.sqlite3")
    env.update(extra)
    return env


@dataclass
class Run:
    process: subprocess.Popen
    port: int
    read_output: Callable[[], str]

    def started(self) -> dict[str, int]:
        """What honcho reported starting: process name → pid (make run starts one of each)."""
        return {
            name.partition(".")[0]: pid for name, pid in honcho_started(self.read_output()).items()
        }


@contextmanager
def make_run(
    var_dir: Path, read_output: Callable[[], str], env: dict[str, str] | None = None, **popen
) -> Iterator[Run]:
    """scripts/run.py in a session of its own; whatever a failed test left running is killed."""
    port = free_port()
    env = environment(
        var_dir, HOST="127.0.0.1", PORT=str(port), XERO_SANDBOX_PORT=str(free_port()), **env or {}
    )
    process = subprocess.Popen(
        [sys.executable, "scripts/run.py"], cwd=ROOT, env=env, start_new_session=True, **popen
    )
    run = Run(process=process, port=port, read_output=read_output)
    try:
        yield run
    finally:
        for group in [process.pid, *run.started().values()]:
            with suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        process.wait()


def web_answers(run: Run) -> bool:
    assert run.process.poll() is None, f"make run stopped early:\n{run.read_output()}"
    connection = http.client.HTTPConnection("127.0.0.1", run.port, timeout=2)
    try:
        connection.request("GET", "/")
        return connection.getresponse().status in (200, 302)
    except OSError:
        return False
    finally:
        connection.close()


def wait_until_running(run: Run) -> set[int]:
    """Every pid make run started, once the web server answers."""
    wait_until(lambda: web_answers(run), 60, "the web server to answer")
    expected = {"web", "worker", "scheduler"}
    if "Xero sandbox (your local Xero" in run.read_output():
        expected.add("sandbox")
    wait_until(lambda: set(run.started()) == expected, 10, f"honcho to start {expected}")
    pids = descendants(run.process.pid)
    assert set(run.started().values()) <= pids
    return pids | {run.process.pid}


def assert_all_stopped(run: Run, pids: set[int]) -> None:
    run.process.wait(timeout=20)
    wait_until(lambda: not any(alive(pid) for pid in pids), 10, "every process to stop")
    groups = [run.process.pid, *run.started().values()]
    wait_until(lambda: all(group_gone(g) for g in groups), 5, "every process group to go")


@pytest.mark.parametrize(
    "signum",
    [signal.SIGTERM, signal.SIGINT, signal.SIGHUP],
    ids=["SIGTERM", "Ctrl-C (SIGINT)", "SIGHUP"],
)
def test_a_signal_to_the_group_stops_every_process_without_a_traceback(var_dir, tmp_path, signum):
    out, err = tmp_path / "out", tmp_path / "err"
    with (
        out.open("w") as stdout,
        err.open("w") as stderr,
        make_run(
            var_dir, lambda: out.read_text() + err.read_text(), stdout=stdout, stderr=stderr
        ) as run,
    ):
        pids = wait_until_running(run)
        assert f"omni-xero: http://127.0.0.1:{run.port}/" in run.read_output()
        assert "accountant" in run.read_output()  # the demo logins
        os.killpg(run.process.pid, signum)
        assert_all_stopped(run, pids)
    output = run.read_output()
    assert "Traceback" not in output, output
    assert "web.1 stopped" in output and "worker.1 stopped" in output


def test_closing_the_terminal_stops_every_process(var_dir):
    # make run's terminal is a pseudo-terminal here: closing its master end hangs it up, as
    # closing a terminal window does (SIGHUP, and writes to it fail from then on).
    master, terminal = os.openpty()

    def controlling_terminal():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    output = bytearray()
    hang_up = threading.Event()

    def drain():  # until the test hangs up, so that make run never blocks on a full terminal
        while not hang_up.is_set():
            if select.select([master], [], [], 0.1)[0]:
                with suppress(OSError):
                    output.extend(os.read(master, 4096))

    reader = threading.Thread(target=drain)
    with make_run(
        var_dir, lambda: output.decode(errors="replace"),
        stdin=terminal, stdout=terminal, stderr=terminal, preexec_fn=controlling_terminal,
    ) as run:  # fmt: skip
        os.close(terminal)
        reader.start()
        try:
            pids = wait_until_running(run)
        finally:
            hang_up.set()
            reader.join()
            os.close(master)
        assert_all_stopped(run, pids)


def test_with_real_xero_configured_the_sandbox_does_not_start(var_dir, tmp_path):
    out = tmp_path / "out"
    real_xero = {"XERO_CLIENT_ID": "a-real-app", "XERO_CLIENT_SECRET": "its-secret"}
    with (
        out.open("w") as stdout,
        make_run(var_dir, out.read_text, env=real_xero, stdout=stdout, stderr=stdout) as run,
    ):
        pids = wait_until_running(run)
        assert set(run.started()) == {"web", "worker", "scheduler"}
        assert "Xero: the real Xero" in run.read_output()
        os.killpg(run.process.pid, signal.SIGTERM)
        assert_all_stopped(run, pids)


def test_a_port_in_use_is_named_before_anything_starts(var_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "scripts/run.py"],
            cwd=ROOT, env=environment(var_dir, HOST="127.0.0.1", PORT=str(port)),
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is in use" in result.stderr
    assert "PORT=8001 make run" in result.stderr
    assert "started" not in result.stdout


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_scheduler_loop_stops_quietly_while_it_waits(var_dir, signum):
    scheduler = subprocess.Popen(
        [sys.executable, "manage.py", "schedule_xero_refresh", "--loop", "-v", "2"],
        cwd=ROOT, env=environment(var_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert scheduler.stdout.readline() == "Queued 0 refresh(es).\n"  # now it waits
        scheduler.send_signal(signum)
        _, err = scheduler.communicate(timeout=10)
    finally:
        scheduler.kill()
    assert scheduler.returncode == 0
    assert "Traceback" not in err, err
