"""What the tests of `make run` and `make serve` use to watch the processes they start: free
ports, /proc's view of who is running and whose child it is, and honcho's "started" lines."""

import os
import re
import socket
import time
from pathlib import Path

STARTED = re.compile(r"(\w+\.\d+) started \(pid=(\d+)\)")


def honcho_started(output: str) -> dict[str, int]:
    """What honcho reported starting: process ("web.1", "worker.2") → pid, each the leader
    of its own process group."""
    return {name: int(pid) for name, pid in STARTED.findall(output)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pid: int) -> bool:
    """Running (a zombie has stopped; only its parent has yet to notice)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rpartition(")")[2].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {seconds} s waiting for {what}")
        time.sleep(0.1)


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False  # running, or stopped but not yet reaped
