"""`make serve`: omni-xero in its production shape on this machine, then Procfile.production.

PostgreSQL (created if missing), DEBUG off, a SECRET_KEY and an XERO_TOKEN_KEY made once and
kept in VAR_DIR, migrate, collectstatic, the demo data into an empty database only; then
honcho starts gunicorn, WORKERS task workers, the scheduler and (unless real Xero is
configured) the Xero sandbox, and stops them all when it is stopped, as `make run` does.

Plain HTTP on HOST:PORT: the HTTPS settings production has on by default (the redirect,
secure cookies, HSTS) are set off here unless the environment or `.env` sets them.

Environment, all optional (and those of supervise.py: HOST, PORT, XERO_SANDBOX_PORT, ...):
  DATABASE_URL                    a PostgreSQL URL; postgres://postgres@127.0.0.1:5432/omni_xero
  WEB_CONCURRENCY                 gunicorn's workers: 2 * cores + 1, at most 5
  WORKERS (2)                     task workers (`manage.py db_worker`)
  VAR_DIR (var/serve/)            the kept keys, the demo logins, collected static files and
                                  the sandbox's state: apart from `make run`'s
  PROMETHEUS_MULTIPROC_DIR        where the web processes keep their request counts for
                                  /metrics (VAR_DIR/prometheus/), emptied at each start
"""

import os
import sys
from pathlib import Path

import environ
import psycopg
import supervise
from psycopg import sql

VAR_DIR = Path(os.environ.get("VAR_DIR", supervise.ROOT / "var" / "serve"))
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/omni_xero"
# Over plain HTTP, each of these on would break the site: the redirect sends the browser
# to an https:// nobody answers, and secure cookies never come back, so no login holds.
PLAIN_HTTP = {
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
}


def database_ready(url: str) -> str:
    """Create the database the URL names if PostgreSQL has none of that name, and say which
    it is; exit with one sentence if the URL is not PostgreSQL's or PostgreSQL does not answer."""
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        sys.exit(
            f"make serve runs on PostgreSQL, and DATABASE_URL is {url}: unset it (the "
            f"machine's PostgreSQL, {DEFAULT_DATABASE_URL}) or give a postgres:// URL."
        )
    name = config["NAME"]
    host, port = config.get("HOST") or "127.0.0.1", config.get("PORT") or 5432
    try:
        # The server's own database, to see whether ours exists.
        db = psycopg.connect(
            host=host,
            port=port,
            user=config.get("USER") or None,
            password=config.get("PASSWORD") or None,
            dbname="postgres",
            connect_timeout=5,
            autocommit=True,
        )
    except psycopg.OperationalError as error:
        sys.exit(
            f"PostgreSQL is not answering at {host}:{port} ({one_line(error)}): "
            "start it, or set DATABASE_URL to a PostgreSQL that answers."
        )
    where = f"PostgreSQL database {name} on {host}:{port}"
    with db:
        if db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return where
        try:
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as error:
            sys.exit(f"Could not create the PostgreSQL database {name}: {one_line(error)}")
    print(f"Created the {where}.")
    return where


def one_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def count(name: str, default: int) -> str:
    """A number of processes from the environment, or exit saying what it must be."""
    value = os.environ.get(name) or str(default)
    if not value.isdigit() or int(value) < 1:
        sys.exit(f"{name} is {value!r}: give a number of processes, 1 or more.")
    return value


def web_concurrency() -> str:
    """gunicorn's workers: its usual 2 * cores + 1, at most 5 (each holds a database
    connection and the app's memory; more only queue on this machine's cores)."""
    return count("WEB_CONCURRENCY", min(2 * (os.cpu_count() or 1) + 1, 5))


def default(name: str, value: str) -> None:
    """Set a setting for every process, unless the environment or `.env` sets it."""
    if not supervise.env_value(name):
        os.environ[name] = value


def metrics_folder() -> None:
    """prometheus_client's multiprocess mode: every gunicorn worker keeps its request counts
    in a file of PROMETHEUS_MULTIPROC_DIR (VAR_DIR/prometheus unless set), and /metrics adds
    them up. Its files are removed at each start: those of the workers of a run before
    would be added to this run's counts (only prometheus_client's *.db files: the folder may
    be one of the operator's choosing)."""
    folder = Path(supervise.env_value("PROMETHEUS_MULTIPROC_DIR") or VAR_DIR / "prometheus")
    folder.mkdir(parents=True, exist_ok=True)
    for kept in folder.glob("*.db"):
        kept.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def prepare() -> tuple[bool, str, list[str]]:
    """Everything before the processes start: the database, the settings every process
    reads (set in this process's environment), migrate, collectstatic, the demo data.
    Returns whether the sandbox is used, the number of task workers, and the banner's lines
    (bench/production.py starts the same processes itself, to stop and kill them one by one)."""
    os.chdir(supervise.ROOT)
    use_sandbox = not supervise.real_xero_configured()
    supervise.require_free_ports("make serve", use_sandbox=use_sandbox)
    database_url = supervise.env_value("DATABASE_URL") or DEFAULT_DATABASE_URL
    database = database_ready(database_url)
    workers = count("WORKERS", 2)
    os.environ.update(
        DEBUG="false",
        DATABASE_URL=database_url,
        VAR_DIR=str(VAR_DIR),
        WEB_CONCURRENCY=web_concurrency(),
        SECRET_KEY=supervise.env_value("SECRET_KEY")
        or supervise.kept_secret(VAR_DIR, "secret-key"),
        # Its own key, so that a new SECRET_KEY does not mean reconnecting every organisation.
        XERO_TOKEN_KEY=supervise.env_value("XERO_TOKEN_KEY")
        or supervise.kept_secret(VAR_DIR, "xero-token-key"),
    )
    for name, value in PLAIN_HTTP.items():
        default(name, value)
    metrics_folder()
    default("ALLOWED_HOSTS", ",".join(dict.fromkeys([supervise.HOST, "127.0.0.1", "localhost"])))
    default("SITE_URL", f"http://{supervise.HOST}:{supervise.PORT}")
    if not supervise.env_value("EMAIL_HOST"):
        # No mail server configured: emails go to the log rather than fail on localhost:25.
        default("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    if use_sandbox:
        os.environ["XERO_USE_SANDBOX"] = "true"  # DEBUG off refuses the sandbox otherwise
        supervise.sandbox_environment(VAR_DIR)
    supervise.manage("migrate", "--no-input", "-v", "0")
    supervise.manage("collectstatic", "--no-input", "-v", "0")
    supervise.manage("load_demo_data", "--if-empty")
    about = [
        f"DEBUG off; gunicorn with {os.environ['WEB_CONCURRENCY']} workers, {workers} task "
        f"workers and the scheduler; the {database}",
        f"SECRET_KEY and XERO_TOKEN_KEY kept in {VAR_DIR} unless set",
    ]
    return use_sandbox, workers, about


def main() -> None:
    use_sandbox, workers, about = prepare()
    supervise.print_banner(use_sandbox=use_sandbox, var_dir=VAR_DIR, about=about)
    supervise.start(
        ["web", "worker", "scheduler"] + (["sandbox"] if use_sandbox else []),
        procfile="Procfile.production",
        concurrency=f"worker={workers}",
    )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C before the processes started
        sys.exit(130)
