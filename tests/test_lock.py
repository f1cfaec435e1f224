"""Installs come from the lock: it pins the whole tree with hashes, and it matches the pins
in pyproject.toml (edit a pin without `make lock` and these fail)."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PINS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(lock: str) -> dict[str, tuple[str, list[str]]]:
    """Each package of a lock: its version and the hashes of its files."""
    text = (ROOT / "requirements" / f"{lock}.lock").read_text()
    entries = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        m = re.match(r"([A-Za-z0-9_.-]+)==([^\s;\\]+)", block)
        if m:
            entries[normal(m.group(1))] = (m.group(2), re.findall(r"--hash=sha256:\w{64}", block))
    return entries


def pinned(requirements: list[str]) -> dict[str, str]:
    out = {}
    for requirement in requirements:
        name, version = requirement.split("==")
        out[normal(name.split("[")[0])] = version
    return out


@pytest.mark.parametrize(
    ("lock", "groups"), [("base", ["dependencies"]), ("dev", ["dependencies", "dev"])]
)
def test_every_pin_of_pyproject_is_in_the_lock_at_its_version(lock, groups):
    wanted = {}
    for group in groups:
        wanted |= pinned(
            PINS[group] if group == "dependencies" else PINS["optional-dependencies"][group]
        )
    entries = locked(lock)
    assert {name: entries.get(name, ("missing",))[0] for name in wanted} == wanted


@pytest.mark.parametrize("lock", ["base", "dev"])
def test_every_package_of_the_lock_is_pinned_with_its_hashes(lock):
    entries = locked(lock)
    assert len(entries) > len(PINS["dependencies"])  # the whole tree, not only the pins
    assert [name for name, (_, hashes) in entries.items() if not hashes] == []


def test_the_development_lock_holds_the_runtime_tree_at_the_same_versions():
    base, dev = locked("base"), locked("dev")
    assert {name: dev.get(name, ("missing",))[0] for name in base} == {
        name: version for name, (version, _) in base.items()
    }


def check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/lock.py", "--check"], cwd=root, capture_output=True, text=True
    )


def test_the_locks_were_made_from_the_pins_pyproject_has_now():
    result = check(ROOT)
    assert result.returncode == 0, result.stderr


def test_a_pin_changed_without_relocking_is_refused_with_what_to_run(tmp_path):
    for part in (
        "pyproject.toml",
        "scripts/lock.py",
        "requirements/base.lock",
        "requirements/dev.lock",
    ):
        (tmp_path / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / part, tmp_path / part)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"requests==2.34.2"', '"requests==2.34.3"'))
    result = check(tmp_path)
    assert result.returncode == 1
    assert "requirements/base.lock was made from other pins: run `make lock`" in result.stderr
