"""Run one action in several threads at the same instant, as two people or workers would."""

import threading
from collections.abc import Callable

from django.db import connections


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
