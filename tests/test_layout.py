"""The architecture, checked: leaf apps stay leaves, one package speaks to Xero, the
repository needs nothing outside itself."""

import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(folder: str) -> dict[str, set[str]]:
    """Every module each .py file under a folder imports (absolute names)."""
    return {
        str(path.relative_to(ROOT)): imported_modules_of(path)
        for path in (ROOT / folder).rglob("*.py")
    }


def imported_modules_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("leaf", ["contacts", "transactions"])
def test_omni_apps_import_nothing_from_sync(leaf):
    offenders = {
        path: sorted(n for n in names if n == "sync" or n.startswith("sync."))
        for path, names in imported_modules(leaf).items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_only_the_xero_package_imports_xero_python():
    offenders = []
    # bench/ and tests/ drive the SDK itself against the sandbox, on purpose.
    for folder in ("omni_xero", "contacts", "transactions", "sync", "scripts"):
        for path, names in imported_modules(folder).items():
            if path.startswith("sync/xero/"):
                continue
            if any(n == "xero_python" or n.startswith("xero_python.") for n in names):
                offenders.append(path)
    assert offenders == []


def test_the_xero_package_writes_nothing_to_the_database():
    for path, names in imported_modules("sync/xero").items():
        assert not {n for n in names if n.startswith("django.db") or n == "sync.models"}, path
        assert ".models" not in (ROOT / path).read_text(), path


def test_no_file_needs_anything_outside_the_repository():
    listed = subprocess.run(
        # Patterns spelled so that this file does not match itself.
        ["git", "grep", "-l", "-e", r"\.\./shar[e]d", "-e", r"XERO\.m[d]", "--", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if listed.returncode not in (0, 1):
        pytest.skip("not a git checkout")
    assert listed.stdout.split() == []


# The domain's modules: the services and read paths every view, task and command calls.
DOMAIN = [
    "sync/models",
    "sync/jobs.py",
    "sync/connections/services.py",
    "sync/links/services.py",
    "sync/links/health.py",
    "sync/links/mirror.py",
    "sync/links/same_contact.py",
    "sync/links/normalise.py",
    "sync/links/suggestions.py",
    "sync/uploads/services.py",
    "sync/imports/services.py",
    "sync/imports/xero_export.py",
    "sync/syncing",
]
# What builds pages: URLs, HTML, responses, messages shown on the next page.
PAGE_MAKERS = {
    "django.urls",
    "django.utils.html",
    "django.utils.safestring",
    "django.shortcuts",
    "django.contrib.messages",
    "django.http",
}


def test_domain_code_builds_no_urls_or_pages():
    found = {}
    for folder in DOMAIN:
        modules = (
            {folder: imported_modules_of(ROOT / folder)}
            if folder.endswith(".py")
            else imported_modules(folder)
        )
        for path, names in modules.items():
            made = sorted(
                n for n in names if any(n == p or n.startswith(p + ".") for p in PAGE_MAKERS)
            )
            if made:
                found[path] = made
    assert found == {}
