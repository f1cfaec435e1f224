"""`make run`: prepare the local database and demo data, then start the Procfile with honcho.

Checks the ports, migrates, loads the demo data once and prints where everything is, then
hands over to honcho in this process. honcho starts the web server, the task worker, the
scheduler and (unless real Xero is configured) the Xero sandbox, and stops them all when
it is stopped: Ctrl-C, SIGTERM, or a closed terminal.

Environment, all optional:
  HOST (127.0.0.1), PORT (8000)   where the web server listens
  XERO_SANDBOX_PORT (8010)        where the Xero sandbox listens
  XERO_CLIENT_ID                  set here or in `.env`: real Xero, no sandbox
  VAR_DIR (var/ in this folder)   the SQLite database, the demo logins and the sandbox's
                                  state; the test of `make run` points it at a temporary one
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
from pathlib import Path

from honcho.command import main as honcho

ROOT = Path(__file__).resolve().parent.parent
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8000"))
SANDBOX_PORT = int(os.environ.get("XERO_SANDBOX_PORT", "8010"))
VAR_DIR = Path(os.environ.get("VAR_DIR", ROOT / "var"))
LOGINS_FILE = VAR_DIR / "demo-logins.json"
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


def sandbox_redirect_uris() -> str:
    """omni-xero's callback (sync/urls.py, built from the request unless XERO_REDIRECT_URI
    says otherwise) as a browser reaches it: the sandbox's consent screen allows only these."""
    configured = env_value("XERO_REDIRECT_URI")
    if configured:
        return configured
    local = ("127.0.0.1", "localhost", "0.0.0.0")
    hosts = [HOST] + (["127.0.0.1", "localhost"] if HOST in local else [])
    return " ".join(dict.fromkeys(f"http://{h}:{PORT}/accounting/xero/callback/" for h in hosts))


def webhook_key() -> str:
    """The sandbox's webhook key for this folder (made once, kept in VAR_DIR)."""
    path = VAR_DIR / "xero-webhook-key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def saved_logins() -> dict[str, str]:
    """The demo logins that `load_demo_data` wrote when it created the users."""
    try:
        return json.loads(LOGINS_FILE.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def print_banner(*, use_sandbox: bool) -> None:
    url = f"http://{HOST}:{PORT}/"
    print(f"\n  omni-xero: {url}")
    if use_sandbox:
        print(
            f"  Xero sandbox (your local Xero, click Connect to Xero): http://{HOST}:{SANDBOX_PORT}/"
        )
    else:
        print("  Xero: the real Xero, as configured by the XERO_* settings.")
    logins = saved_logins()
    if logins:
        shown = LOGINS_FILE.relative_to(ROOT) if LOGINS_FILE.is_relative_to(ROOT) else LOGINS_FILE
        print(f"  Demo logins (also in {shown}):")
        for username, password in logins.items():
            print(f"    {username:<12} {password}")
    print(f"  Django admin: {url}admin/")
    print("  Starting every process; press Ctrl-C to stop them all.\n", flush=True)


def hang_up(signum, frame) -> None:
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


def main() -> None:
    os.chdir(ROOT)
    use_sandbox = not real_xero_configured()
    if not port_free(HOST, PORT):
        sys.exit(
            f"Port {PORT} on {HOST} is in use: stop what runs there, or use PORT=8001 make run."
        )
    if use_sandbox and not port_free(HOST, SANDBOX_PORT):
        sys.exit(
            f"Port {SANDBOX_PORT} (the Xero sandbox) is in use: stop what runs there, "
            "or use XERO_SANDBOX_PORT=8011 make run."
        )
    os.environ.setdefault("DEBUG", "true")
    # What the Procfile's lines read; `python` there is this virtualenv's.
    os.environ.update(
        HOST=HOST,
        XERO_SANDBOX_PORT=str(SANDBOX_PORT),
        VAR_DIR=str(VAR_DIR),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    if use_sandbox:
        os.environ.setdefault("XERO_SANDBOX_URL", f"http://{HOST}:{SANDBOX_PORT}")
        os.environ["XERO_SANDBOX_REDIRECT_URIS"] = sandbox_redirect_uris()
        # The sandbox delivers its webhooks to omni-xero, signed with a key kept in VAR_DIR.
        os.environ["XERO_WEBHOOK_KEY"] = env_value("XERO_WEBHOOK_KEY") or webhook_key()
        os.environ["XERO_SANDBOX_WEBHOOK_URL"] = f"http://{HOST}:{PORT}/webhooks/xero"
    manage("migrate", "--no-input", "-v", "0")
    manage("load_demo_data")
    print_banner(use_sandbox=use_sandbox)

    signal.signal(signal.SIGHUP, hang_up)
    # honcho's helpers must inherit hang_up: fork them (Python 3.14 would start them afresh).
    multiprocessing.set_start_method("fork")
    processes = ["web", "worker", "scheduler"] + (["sandbox"] if use_sandbox else [])
    # --env: Django reads `.env` itself, and lets the environment win over it; honcho would
    # let `.env` win (a PORT there would beat PORT=8001 make run). --port with web first:
    # honcho sets $PORT for each process, web's to the base port. honcho exits when done,
    # with 130 after Ctrl-C and 143 after SIGTERM.
    honcho(["start", "--env", os.devnull, "--port", str(PORT), *processes])


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C before the processes started
        sys.exit(130)
