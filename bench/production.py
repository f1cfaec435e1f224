"""The production shape for the benches that load it (bench/load.py, bench/soak.py).

`make serve`'s own preparation (scripts/serve.py: PostgreSQL, DEBUG off, the kept keys,
migrate, collectstatic, the demo data) and Procfile.production's processes (gunicorn,
WORKERS task workers, the scheduler, the Xero sandbox with Xero's rate limits), each started
here in a process group of its own rather than under honcho: honcho stops every process
when one exits, and the soak kills a task worker on purpose. Loopback only, on free ports
(never make run's 8000 and 8010), in a VAR_DIR of its own; the bench's database is dropped
and made again each run. Then Django in the bench's own process, on the same database and
settings, to build data and read outcomes through the ORM.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

import environ
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "scripts"))

PROCFILE = ROOT / "Procfile.production"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_recreate(url: str) -> None:
    """Drop the bench's database (its last run's data) so that serve.py makes it afresh."""
    config = environ.Env.db_url_config(url)
    with psycopg.connect(
        host=config.get("HOST") or "127.0.0.1",
        port=config.get("PORT") or 5432,
        user=config.get("USER") or "postgres",
        dbname="postgres",
        autocommit=True,
    ) as db:
        name = sql.Identifier(config["NAME"])
        db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


class Production:
    """make serve's processes, one by one: started, killed, started again, stopped."""

    def __init__(self, database_url: str, *, workers: int = 2, **settings: str):
        self.database_url = database_url
        self.workers = workers
        self.folder = Path(tempfile.mkdtemp(prefix="bench-production-"))
        self.port, self.sandbox_port = free_port(), free_port()
        self.settings = settings
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.commands: dict[str, str] = {}
        self.exits: list[tuple[str, int]] = []  # (name, returncode) of processes that died
        self._logs: list[IO[bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    def start(self) -> None:
        """Prepare as make serve does, start every process, wait until web and sandbox
        answer, and set Django up in this process."""
        os.environ.update(
            HOST="127.0.0.1",
            PORT=str(self.port),
            XERO_SANDBOX_PORT=str(self.sandbox_port),
            VAR_DIR=str(self.folder / "var"),
            DATABASE_URL=self.database_url,
            WORKERS=str(self.workers),
            DJANGO_SETTINGS_MODULE="omni_xero.settings",
            **self.settings,
        )
        database_recreate(self.database_url)
        import serve
        import supervise
        from honcho.environ import parse_procfile

        use_sandbox, _, about = serve.prepare()
        assert use_sandbox, "the benches run against the sandbox, not a configured real Xero"
        supervise.procfile_environment()
        procfile = parse_procfile(PROCFILE.read_text())
        self.commands = {
            "web": procfile.processes["web"],
            "scheduler": procfile.processes["scheduler"],
            "sandbox": procfile.processes["sandbox"],
            **{f"worker.{n}": procfile.processes["worker"] for n in range(1, self.workers + 1)},
        }
        for name in self.commands:
            self.start_process(name)
        self.wait_for(f"{self.sandbox_url}/", "the sandbox")
        self.wait_for(f"{self.url}/login/", "gunicorn")
        print(f"production shape: {'; '.join(about)}")
        print(f"  web {self.url}, sandbox {self.sandbox_url}, logs in {self.folder}")
        import django

        django.setup()

    def start_process(self, name: str) -> None:
        log = (self.folder / f"{name}.log").open("ab")
        self._logs.append(log)
        # honcho gives the first process (web) the base port; the others do not listen.
        env = {**os.environ, "PORT": str(self.port)}
        self.processes[name] = subprocess.Popen(
            ["/bin/sh", "-c", f"exec {self.commands[name]}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_for(self, url: str, what: str, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.check()
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{what} did not answer at {url} within {seconds:g} s")

    def wait_until(self, condition: Any, what: str, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            self.check()
            if time.monotonic() > deadline:
                raise RuntimeError(f"waited {seconds:g} s for {what}")
            time.sleep(0.5)

    def check(self) -> list[tuple[str, int]]:
        """Processes that exited since the last look (noted in `exits`, and started again
        so the bench goes on: a real supervisor would have stopped everything)."""
        died = []
        for name, process in list(self.processes.items()):
            if process.poll() is not None:
                died.append((name, process.returncode))
                print(
                    f"  !! {name} exited with {process.returncode} (see {name}.log); started again"
                )
                self.start_process(name)
        self.exits += died
        return died

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user and system) used so far by each process and its children alive
        (gunicorn's workers with web), by process group, from /proc (Linux)."""
        groups = {process.pid: name for name, process in self.processes.items()}
        used = dict.fromkeys(self.processes, 0.0)
        tick = os.sysconf("SC_CLK_TCK")
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            name = groups.get(int(fields[2]))  # its process group
            if name is not None:
                used[name] += (int(fields[11]) + int(fields[12])) / tick
        return used

    def kill(self, name: str) -> None:
        """SIGKILL the process and start it again at once: a task worker dying mid-job."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self.start_process(name)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for log in self._logs:
            log.close()
