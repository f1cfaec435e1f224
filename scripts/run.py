"""`make run`: prepare the local database and demo data, then start the Procfile with honcho.

Checks the ports, migrates, loads the demo data once and prints where everything is, then
hands over to honcho in this process. honcho starts the web server, the task worker, the
scheduler and (unless real Xero is configured) the Xero sandbox, and stops them all when
it is stopped: Ctrl-C, SIGTERM, or a closed terminal.

Environment, all optional (and those of supervise.py: HOST, PORT, XERO_SANDBOX_PORT, ...):
  VAR_DIR (var/ in this folder)   the SQLite database, the demo logins and the sandbox's
                                  state; the test of `make run` points it at a temporary one
"""

import os
import sys
from pathlib import Path

import supervise

VAR_DIR = Path(os.environ.get("VAR_DIR", supervise.ROOT / "var"))


def main() -> None:
    os.chdir(supervise.ROOT)
    use_sandbox = not supervise.real_xero_configured()
    supervise.require_free_ports("make run", use_sandbox=use_sandbox)
    os.environ.setdefault("DEBUG", "true")
    os.environ["VAR_DIR"] = str(VAR_DIR)
    if use_sandbox:
        supervise.sandbox_environment(VAR_DIR)
    supervise.manage("migrate", "--no-input", "-v", "0")
    supervise.manage("load_demo_data")
    supervise.print_banner(use_sandbox=use_sandbox, var_dir=VAR_DIR)
    supervise.start(["web", "worker", "scheduler"] + (["sandbox"] if use_sandbox else []))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C before the processes started
        sys.exit(130)
