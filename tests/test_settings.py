"""Production settings fail closed, and `check --deploy` is clean with them.

Each test starts Django in a subprocess with an environment it spells out, as a deployment
would: settings are read once, at start-up, so they cannot be changed from inside this one.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# What a production deployment sets; each test adds or blanks what it is about.
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3V9-q_x7LmT2pRz8WcYb1NfHs4JdGa6UeOiQ0vXyZ5tBnM-wKj_rPlE",
    "ALLOWED_HOSTS": "omni-xero.example.com",
    "XERO_CLIENT_ID": "5A1C0FFEE0DDBA11CAFEBABE00000001",
    "XERO_CLIENT_SECRET": "s3cr3t-from-developer-xero-com-app-manage-0123456789",
}
# Variables whose defaults these tests are about: one set in a local `.env` (which the
# settings read for anything the environment leaves out) would decide the outcome instead.
DEFAULTS_UNDER_TEST = {
    "XERO_USE_SANDBOX",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
}
MISSING_SECRET_KEY = (
    "SECRET_KEY is not set: with DEBUG off "
    "omni-xero needs a long random SECRET_KEY (see .env.example)."
)
MISSING_XERO_CREDENTIALS = (
    "XERO_CLIENT_ID and XERO_CLIENT_SECRET are "
    "not set: omni-xero needs the Xero app's credentials "
    "(https://developer.xero.com/app/manage), or XERO_USE_SANDBOX=true to use the Xero "
    "sandbox at XERO_SANDBOX_URL instead."
)


def env_file_sets() -> set[str]:
    env_file = ROOT / ".env"
    if not env_file.exists():
        return set()
    lines = env_file.read_text().splitlines()
    return {line.partition("=")[0].strip() for line in lines if not line.startswith("#")}


def run(args: list[str], tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    """Run a command of the project's in an environment of exactly these variables."""
    overridden = (env_file_sets() & DEFAULTS_UNDER_TEST) - variables.keys()
    if overridden:
        pytest.skip(f".env sets {', '.join(sorted(overridden))}, whose defaults this tests")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "omni_xero.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **variables,
    }
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def manage(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "manage.py", *args], tmp_path, **variables)


def setting(tmp_path: Path, name: str, **variables: str) -> str:
    """The value a setting gets in that environment, as `repr`."""
    code = f"from django.conf import settings; print(repr(settings.{name}))"
    result = manage(tmp_path, "shell", "--no-imports", "-c", code, **variables)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_settings_pass_check_deploy_without_a_warning(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("System check identified no issues")


def test_check_deploy_would_warn_without_the_production_defaults(tmp_path):
    """The clean run above is clean because of the defaults, not because nothing is checked."""
    insecure = {
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
    }
    result = manage(tmp_path, "check", "--deploy", **PRODUCTION, **insecure)
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


def test_without_a_secret_key_production_refuses_to_start(tmp_path):
    result = manage(tmp_path, "check", **{**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert result.stderr.strip() == f"omni-xero cannot start: {MISSING_SECRET_KEY}"


def test_without_a_secret_key_gunicorn_refuses_to_start_and_says_why(tmp_path):
    """gunicorn runs no system checks: only an error at settings import stops it."""
    gunicorn = [str(BIN / "gunicorn"), "--check-config", "omni_xero.wsgi"]
    result = run(gunicorn, tmp_path, **{**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert MISSING_SECRET_KEY in result.stderr


def test_with_debug_a_local_secret_key_is_enough(tmp_path):
    result = manage(tmp_path, "check", DEBUG="true", SECRET_KEY="")
    assert result.returncode == 0, result.stderr


def test_without_xero_credentials_production_refuses_to_start(tmp_path):
    variables = {**PRODUCTION, "XERO_CLIENT_ID": "", "XERO_CLIENT_SECRET": ""}
    result = manage(tmp_path, "check", **variables)
    assert result.returncode != 0
    assert result.stderr.strip() == f"omni-xero cannot start: {MISSING_XERO_CREDENTIALS}"


def test_a_client_id_without_its_secret_refuses_to_start_naming_the_secret(tmp_path):
    result = manage(tmp_path, "check", **{**PRODUCTION, "XERO_CLIENT_SECRET": ""})
    assert result.returncode != 0
    assert result.stderr.startswith("omni-xero cannot start: XERO_CLIENT_SECRET is not set:")


def test_production_may_opt_into_the_sandbox_and_check_deploy_says_so(tmp_path):
    variables = {
        **PRODUCTION,
        "XERO_CLIENT_ID": "",
        "XERO_CLIENT_SECRET": "",
        "XERO_USE_SANDBOX": "true",
        "XERO_SANDBOX_URL": "http://sandbox.example.com:8010",
    }
    assert manage(tmp_path, "check", **variables).returncode == 0
    assert setting(tmp_path, "XERO_API_URL", **variables) == "'http://sandbox.example.com:8010'"
    deploy = manage(tmp_path, "check", "--deploy", **variables)
    assert "sync.W002" in deploy.stderr
    assert "talks to the Xero sandbox at http://sandbox.example.com:8010" in deploy.stderr


def test_with_debug_and_no_credentials_the_sandbox_is_used(tmp_path):
    """What `make run` does: DEBUG on, no XERO_* set."""
    variables = {"DEBUG": "true", "XERO_CLIENT_ID": "", "XERO_CLIENT_SECRET": ""}
    assert setting(tmp_path, "XERO_API_URL", **variables) == "'http://127.0.0.1:8010'"


def test_production_talks_to_real_xero(tmp_path):
    assert setting(tmp_path, "XERO_API_URL", **PRODUCTION) == "'https://api.xero.com'"


def test_behind_a_proxy_the_https_header_is_trusted_only_when_named(tmp_path):
    assert setting(tmp_path, "SECURE_PROXY_SSL_HEADER", **PRODUCTION) == "None"
    proxied = {**PRODUCTION, "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https"}
    header = setting(tmp_path, "SECURE_PROXY_SSL_HEADER", **proxied)
    assert header == "('HTTP_X_FORWARDED_PROTO', 'https')"
