"""Run one action in several threads at the same instant, as two people or workers would."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection, connections
from django.dispatch import Signal

WAIT_SECONDS = 30


def at_once(action: Callable[[], object], times: int = 2) -> list[Exception]:
    """Start `action` in `times` threads released together; the exceptions they raised.

    Each thread closes its database connections when done, as a request or a worker would.
    """
    barrier = threading.Barrier(times)
    failures: list[Exception] = []

    def run() -> None:
        barrier.wait()
        try:
            action()
        except Exception as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def at_once_overlapping(
    action: Callable[[], object], *, signal: Signal, sender: type[Any]
) -> list[Exception]:
    """Two threads doing `action` at once, arranged so that they overlap for certain: the
    first to send `signal` for `sender` (inside its transaction, its locks held) is held there
    until the other is seen waiting on a database lock, then let go; the exceptions raised.

    Were the lock under test gone, the other would not wait there: it would run into the
    held transaction's work, or wait somewhere else (a unique index, a later UPDATE) and
    then go on as if alone, and the test's own assertions see what came of it.
    """
    reached, released = threading.Event(), threading.Event()
    first = threading.Lock()

    def hold(**kwargs: object) -> None:
        if first.acquire(blocking=False):
            reached.set()
            released.wait(WAIT_SECONDS)

    signal.connect(hold, sender=sender, weak=False)
    barrier = threading.Barrier(2)
    failures: list[Exception] = []

    def run() -> None:
        barrier.wait()
        try:
            action()
        except Exception as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        if reached.wait(WAIT_SECONDS):
            lock_waiter_seen()
    finally:
        released.set()
        for thread in threads:
            thread.join()
        signal.disconnect(hold, sender=sender)
    return failures


def lock_waiter_seen(timeout: float = 10) -> bool:
    """Whether another session of this database is (or, within `timeout`, comes to be)
    waiting on a lock. PostgreSQL only: it reads pg_stat_activity."""
    pause = threading.Event()  # never set: its wait() is the poll's interval
    for _ in range(int(timeout / 0.01)):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            (waiting,) = cursor.fetchone()
        if waiting:
            return True
        pause.wait(0.01)
    return False
