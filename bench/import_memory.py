"""Measure what reading each hostile spreadsheet costs: peak memory over baseline, and time.

Each file (the bombs and damaged workbooks of tests/xero_export.py, and for comparison a
legitimate export of 50,000 contacts) is built here, then read in a fresh subprocess through
`contacts_file_read` and, for a workbook, `contacts_file_as_csv` (the dashboard keeps the
CSV), as both imports read it. The subprocess reports its peak resident size (VmHWM) minus
its size once Django and openpyxl are imported and the file is in memory, and the time.
Target: no file, hostile or the largest legitimate one, costs more than 50 MB; the bench
exits 1 if one does.

Usage:

    .venv/bin/python bench/import_memory.py [--only NAME] [--cell-mb 60] [--bomb-mb 1024]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MB = 50.0


def _status(field: str) -> int:
    """A /proc/self/status size in bytes (VmHWM: the peak resident size)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def measure(path: str) -> None:
    """In the subprocess: read the file as both imports do, print what it cost (JSON)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omni_xero.settings_test")
    import django

    django.setup()
    import openpyxl  # noqa: F401  (imported before the baseline, as a server has it)

    from sync.imports.xero_export import ImportFileError, contacts_file_as_csv, contacts_file_read

    data = Path(path).read_bytes()
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM starts again from here
    baseline = _status("VmHWM")
    started = time.monotonic()
    outcome = ""
    try:
        read = contacts_file_read(name=Path(path).name, data=data)
        kept = contacts_file_as_csv(name=Path(path).name, data=data)
        outcome = f"read: {len(read.rows):,} contacts, {len(kept) / 2**20:.1f} MB kept"
    except ImportFileError as error:
        outcome = f"refused: {error}"
    seconds = time.monotonic() - started
    print(
        json.dumps({"mb": (_status("VmHWM") - baseline) / 2**20, "s": seconds, "outcome": outcome})
    )


def files(cell_mb: int, bomb_mb: int) -> dict[str, tuple[Callable[[], bytes], bool]]:
    """Each file's maker, and whether it is held to the target (all are)."""
    import importlib

    from tests import xero_export as make

    load = importlib.import_module("bench.import")

    def legitimate() -> bytes:
        return load.make_file(load.export_rows(50_000), xlsx=True)  # type: ignore[no-any-return]

    return {
        "declared-dimension-bomb.xlsx": (make.dimension_bomb, True),
        f"one-{cell_mb}-mb-shared-string.xlsx": (
            lambda: make.huge_shared_cell(cell_mb * 2**20),
            True,
        ),
        f"one-{cell_mb}-mb-inline-string.xlsx": (
            lambda: make.huge_inline_cell(cell_mb * 2**20),
            True,
        ),
        "one-100-kb-shared-string.xlsx": (lambda: make.huge_shared_cell(100_000), True),
        f"zip-bomb-{bomb_mb}-mb.xlsx": (lambda: make.zip_bomb(bomb_mb * 2**20), True),
        "zip-bomb-50-mb.xlsx": (lambda: make.zip_bomb(50 * 2**20), True),
        "too-many-columns.xlsx": (make.too_many_columns, True),
        "300000-tiny-shared-strings.xlsx": (lambda: make.many_shared_strings(300_000), True),
        "1400000-tiny-shared-strings.xlsx": (lambda: make.many_shared_strings(1_400_000), True),
        "styles-bomb-200000-formats.xlsx": (lambda: make.styles_bomb(200_000), True),
        "too-many-rows.xlsx": (lambda: make.too_many_rows(50_001), True),
        "truncated-sheet.xlsx": (make.truncated_sheet, True),
        "external-entity.xlsx": (make.external_entity, True),
        "billion-laughs.xlsx": (make.billion_laughs, True),
        "nul-after-8-kb.csv": (make.csv_with_nul, True),
        "legitimate-50000-contacts.xlsx": (legitimate, True),
        "legitimate-50000-contacts.csv": (
            lambda: load.make_file(load.export_rows(50_000), xlsx=False),
            True,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="only the files whose name holds this")
    parser.add_argument("--cell-mb", type=int, default=60, help="the huge cell's size")
    parser.add_argument("--bomb-mb", type=int, default=1024, help="the zip bomb's unpacked size")
    parser.add_argument("--measure", default="", help=argparse.SUPPRESS)  # the subprocess
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omni_xero.settings_test")
    import django

    django.setup()
    folder = Path(tempfile.mkdtemp(prefix="bench-import-memory-"))
    missed = []
    print(f"{'file':<36} {'size':>9} {'peak over baseline':>19} {'time':>8}  outcome")
    for name, (build, hostile) in files(args.cell_mb, args.bomb_mb).items():
        if args.only not in name:
            continue
        path = folder / name
        path.write_bytes(build())
        answer = subprocess.run(
            [sys.executable, __file__, "--measure", str(path)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        got = json.loads(answer.stdout.splitlines()[-1])
        over = hostile and got["mb"] > TARGET_MB
        if over:
            missed.append(name)
        print(
            f"{name:<36} {path.stat().st_size / 2**10:>6.0f} KB {got['mb']:>16.1f} MB "
            f"{got['s']:>6.2f} s  {'OVER ' if over else ''}{got['outcome'][:70]}"
        )
        path.unlink()
    print(
        f"files over {TARGET_MB:.0f} MB: {', '.join(missed)}"
        if missed
        else f"every file under {TARGET_MB:.0f} MB"
    )
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
