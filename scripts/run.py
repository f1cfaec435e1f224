"""`make run`: prepare the local database and demo data, start every process, stop them on Ctrl-C.

Processes: the Xero sandbox (unless real Xero is configured), the web server, the
django-tasks-db worker, and the scheduler that queues a refresh of the Xero contact mirror
every XERO_MIRROR_REFRESH_MINUTES.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8000"))
LOGINS_FILE = ROOT / "var" / "demo-logins.json"
SANDBOX_STATE = ROOT / "var" / "xero-sandbox.json"
SANDBOX_PORT = int(os.environ.get("XERO_SANDBOX_PORT", "8010"))


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


def start(name: str, args: list[str]) -> subprocess.Popen:
    # Each child leads its own process group so that stopping it stops its children too
    # (runserver's autoreloader runs the server in a child process).
    process = subprocess.Popen(args, cwd=ROOT, start_new_session=True)
    print(f"  started {name} (pid {process.pid})")
    return process


def stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    # The worker finishes the task in hand before it stops: give it time.
    deadline = time.monotonic() + 30
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def saved_logins() -> dict[str, str]:
    """The demo logins that `load_demo_data` wrote when it created the users."""
    try:
        return json.loads(LOGINS_FILE.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _env_file_sets(name: str) -> bool:
    env_file = ROOT / ".env"
    if not env_file.exists():
        return False
    for line in env_file.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == name and value.strip():
            return True
    return False


def interrupt(signum, frame):
    raise KeyboardInterrupt


def wait_for_port(host: str, port: int, seconds: float = 20) -> None:
    """Until the web server accepts connections, so its start-up lines come first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and port_free(host, port):
        time.sleep(0.2)


def main() -> int:
    os.environ.setdefault("DEBUG", "true")
    if not port_free(HOST, PORT):
        print(f"Port {PORT} on {HOST} is in use: stop what runs there, or use PORT=8001 make run.")
        return 1
    use_sandbox = not os.environ.get("XERO_CLIENT_ID") and not _env_file_sets("XERO_CLIENT_ID")
    if use_sandbox and not port_free(HOST, SANDBOX_PORT):
        print(
            f"Port {SANDBOX_PORT} (the Xero sandbox) is in use: stop what runs there, "
            "or use XERO_SANDBOX_PORT=8011 make run."
        )
        return 1
    sandbox_url = f"http://{HOST}:{SANDBOX_PORT}"
    if use_sandbox:
        os.environ.setdefault("XERO_SANDBOX_URL", sandbox_url)
    manage("migrate", "--no-input", "-v", "0")
    manage("load_demo_data")

    # From the first child on, any way of stopping (Ctrl-C, kill, a closed terminal) stops
    # every child too.
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
    processes: dict[str, subprocess.Popen] = {}
    try:
        if use_sandbox:
            processes["Xero sandbox"] = start(
                "Xero sandbox",
                [sys.executable, "-m", "xero_sandbox", "--host", HOST, "--port",
                 str(SANDBOX_PORT), "--state", str(SANDBOX_STATE), "--quiet", "--demo-contacts"],
            )  # fmt: skip
        processes["web server"] = start(
            "web server", [sys.executable, "manage.py", "runserver", f"{HOST}:{PORT}"]
        )
        processes["task worker"] = start(
            "task worker", [sys.executable, "manage.py", "db_worker", "--no-reload", "-v", "0"]
        )
        processes["scheduler"] = start(
            "scheduler", [sys.executable, "manage.py", "schedule_xero_refresh", "--loop"]
        )
        wait_for_port(HOST, PORT)
        time.sleep(0.5)  # runserver prints its banner just after it starts listening
        url = f"http://{HOST}:{PORT}/"
        print(f"\n  omni-xero is running at {url}")
        if use_sandbox:
            print(f"  Xero sandbox (your local Xero, click Connect to Xero): {sandbox_url}/")
        else:
            print("  Xero: the real Xero, as configured by the XERO_* settings.")
        logins = saved_logins()
        if logins:
            print(f"  Demo logins (also in {LOGINS_FILE.relative_to(ROOT)}):")
            for username, password in logins.items():
                print(f"    {username:<12} {password}")
        print(f"  Django admin: {url}admin/")
        print("  Press Ctrl-C to stop everything.\n")
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    code = process.returncode
                    print(f"The {name} stopped (exit code {code}); stopping the rest.")
                    return code or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nStopping…")
        return 0
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop(processes)


if __name__ == "__main__":
    sys.exit(main())
