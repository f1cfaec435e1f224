"""Resolve pyproject.toml's pins into the locks `make` installs from: every package of the
tree, pinned, with the hashes of its files, for CPython 3.12 and 3.13 on any platform.

    python scripts/lock.py          write requirements/base.lock and requirements/dev.lock
    python scripts/lock.py --check  exit 1 when a lock no longer matches pyproject.toml

Locking needs uv and the package index (`make lock` installs uv in var/lock-tools first);
checking and installing need neither.
"""

import hashlib
import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = {"base": [], "dev": ["dev"]}  # lock name -> the optional groups it adds
STAMP = "# pyproject-pins-sha256: "


def pins() -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        "dependencies": project["dependencies"],
        **{f"optional-dependencies.{k}": v for k, v in project["optional-dependencies"].items()},
    }


def pins_digest() -> str:
    """A digest of the pin tables: a lock records the one it was made from."""
    return hashlib.sha256(json.dumps(pins(), sort_keys=True).encode()).hexdigest()


def lock_path(name: str) -> Path:
    return ROOT / "requirements" / f"{name}.lock"


def write(uv: str) -> None:
    for name, extras in LOCKS.items():
        out = lock_path(name)
        command = [uv, "pip", "compile", "pyproject.toml", "--quiet", "--generate-hashes"]
        command += ["--universal", "--python-version", "3.12", "--no-header"]
        command += [arg for extra in extras for arg in ("--extra", extra)]
        resolved = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
        with_extras = f" with {', '.join(extras)}" if extras else ""
        header = (
            f"# The whole dependency tree of pyproject.toml's pins{with_extras},\n"
            "# with hashes. Made by `make lock` (scripts/lock.py); do not edit by hand.\n"
            f"{STAMP}{pins_digest()}\n"
        )
        out.parent.mkdir(exist_ok=True)
        out.write_text(header + resolved.stdout)
        print(f"wrote {out.relative_to(ROOT)}")


def stale() -> list[str]:
    """Why the locks do not match pyproject.toml; empty when they do."""
    problems = []
    digest = pins_digest()
    for name in LOCKS:
        path = lock_path(name)
        if not path.exists():
            problems.append(f"{path.relative_to(ROOT)} is missing")
        elif f"{STAMP}{digest}\n" not in path.read_text():
            problems.append(f"{path.relative_to(ROOT)} was made from other pins")
    return problems


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        problems = stale()
        for problem in problems:
            print(f"{problem}: run `make lock`", file=sys.stderr)
        sys.exit(1 if problems else 0)
    write(sys.argv[1] if len(sys.argv) > 1 else "uv")
