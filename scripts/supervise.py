"""What `make run` (run.py) and `make serve` (serve.py) share: where they listen, the settings
they read before Django does, the Xero sandbox's wiring, the banner, and handing over to honcho.

Environment, all optional:
  HOST (127.0.0.1), PORT (8000)   where the web server listens
  XERO_SANDBOX_PORT (8010)        where the Xero sandbox listens
  XERO_CLIENT_ID                  set here or in `.env`: real Xero, no sandbox
  XERO_REDIRECT_URI               omni-xero's callback, if not http://HOST:PORT/accounting/
                                  xero/callback/ (the sandbox lets the consent screen return
                                  only there)
"""

import json
import multiprocessing
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from honcho.command import main as honcho

ROOT = Path(__file__).resolve().parent.parent
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8000"))
SANDBOX_PORT = int(os.environ.get("XERO_SANDBOX_PORT", "8010"))
MAIN_PID = os.getpid()
# Which of stdout and stderr are the terminal: once it hangs up, isatty() cannot tell.
TERMINAL_FDS = [fd for fd in (1, 2) if os.isatty(fd)]


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def require_free_ports(command: str, *, use_sandbox: bool) -> None:
    """Exit with one sentence naming the port in use, before anything starts."""
    if not port_free(HOST, PORT):
        sys.exit(
            f"Port {PORT} on {HOST} is in use: stop what runs there, or use PORT=8001 {command}."
        )
    if use_sandbox and not port_free(HOST, SANDBOX_PORT):
        sys.exit(
            f"Port {SANDBOX_PORT} (the Xero sandbox) is in use: stop what runs there, "
            f"or use XERO_SANDBOX_PORT=8011 {command}."
        )


def env_value(name: str) -> str:
    """A setting from the environment, else from `.env` (as Django reads it), else ""."""
    if os.environ.get(name):
        return os.environ[name]
    env_file = ROOT / ".env"
    if not env_file.exists():
        return ""
    for line in env_file.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == name and value.strip():
            return value.strip().strip("'\"")
    return ""


def real_xero_configured() -> bool:
    return bool(env_value("XERO_CLIENT_ID"))


def kept_secret(var_dir: Path, name: str) -> str:
    """A long random secret for this folder: made once, then kept in var_dir/name, which
    only its owner may read (created so from the start: never readable by others)."""
    path = var_dir / name
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def sandbox_redirect_uris() -> str:
    """omni-xero's callback (sync/urls.py, built from the request unless XERO_REDIRECT_URI
    says otherwise) as a browser reaches it: the sandbox's consent screen allows only these."""
    configured = env_value("XERO_REDIRECT_URI")
    if configured:
        return configured
    local = ("127.0.0.1", "localhost", "0.0.0.0")
    hosts = [HOST] + (["127.0.0.1", "localhost"] if HOST in local else [])
    return " ".join(dict.fromkeys(f"http://{h}:{PORT}/accounting/xero/callback/" for h in hosts))


def sandbox_environment(var_dir: Path) -> None:
    """What the Procfile's sandbox line and omni-xero read to find each other."""
    os.environ.setdefault("XERO_SANDBOX_URL", f"http://{HOST}:{SANDBOX_PORT}")
    os.environ["XERO_SANDBOX_REDIRECT_URIS"] = sandbox_redirect_uris()
    # The sandbox delivers its webhooks to omni-xero, signed with a key kept in var_dir.
    os.environ["XERO_WEBHOOK_KEY"] = env_value("XERO_WEBHOOK_KEY") or kept_secret(
        var_dir, "xero-webhook-key"
    )
    os.environ["XERO_SANDBOX_WEBHOOK_URL"] = f"http://{HOST}:{PORT}/webhooks/xero"


def saved_logins(logins_file: Path) -> dict[str, str]:
    """The demo logins that `load_demo_data` wrote when it created the users."""
    try:
        return json.loads(logins_file.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def print_banner(*, use_sandbox: bool, var_dir: Path, about: Sequence[str] = ()) -> None:
    url = f"http://{HOST}:{PORT}/"
    print(f"\n  omni-xero: {url}")
    for line in about:
        print(f"  {line}")
    if use_sandbox:
        print(
            f"  Xero sandbox (your local Xero, click Connect to Xero): http://{HOST}:{SANDBOX_PORT}/"
        )
    else:
        print("  Xero: the real Xero, as configured by the XERO_* settings.")
    logins_file = var_dir / "demo-logins.json"
    logins = saved_logins(logins_file)
    if logins:
        shown = logins_file.relative_to(ROOT) if logins_file.is_relative_to(ROOT) else logins_file
        print(f"  Demo logins (also in {shown}):")
        for username, password in logins.items():
            print(f"    {username:<12} {password}")
    print(f"  Django admin: {url}admin/")
    print("  Starting every process; press Ctrl-C to stop them all.\n", flush=True)


def hang_up(signum: int, frame: object) -> None:
    """A closed terminal: stop everything, as SIGTERM does."""
    # honcho handles SIGINT and SIGTERM only: on SIGHUP it would die and leave its processes
    # (each in a session of its own, out of the terminal's reach) running.
    if os.getpid() != MAIN_PID:
        return  # one of honcho's helpers, which inherit this handler: honcho stops them
    # Writing to a hung-up terminal fails, and would cut honcho's clean-up short.
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in TERMINAL_FDS:
        os.dup2(devnull, fd)
    signal.raise_signal(signal.SIGTERM)


def procfile_environment() -> None:
    """What the Procfile's lines read; `python` there is this virtualenv's."""
    os.environ.update(
        HOST=HOST,
        XERO_SANDBOX_PORT=str(SANDBOX_PORT),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )


def start(processes: list[str], *, procfile: str = "Procfile", concurrency: str = "") -> None:
    """Hand over to honcho in this process: it starts the processes (web first), and stops
    them all when it is stopped (Ctrl-C, SIGTERM, or a closed terminal), then exits."""
    procfile_environment()
    signal.signal(signal.SIGHUP, hang_up)
    # honcho's helpers must inherit hang_up: fork them (Python 3.14 would start them afresh).
    multiprocessing.set_start_method("fork")
    # --env: Django reads `.env` itself, and lets the environment win over it; honcho would
    # let `.env` win (a PORT there would beat PORT=8001 make run). --port with web first:
    # honcho sets $PORT for each process, web's to the base port. honcho exits when done,
    # with 130 after Ctrl-C and 143 after SIGTERM.
    options = ["--env", os.devnull, "--procfile", procfile, "--port", str(PORT)]
    if concurrency:
        options += ["--concurrency", concurrency]
    honcho(["start", *options, *processes])
