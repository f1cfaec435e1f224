"""The ID of the request that the code running now works for, or of the request that started
the job a worker runs: the log formatter prints it, and every Xero API call record and job
made meanwhile keeps it. A leaf: it imports nothing of the app."""

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# What a caller's X-Request-ID may be to be kept as it is (it fits the models' columns, and
# is safe in a log line and a header); anything else is replaced by a new ID.
SANE = re.compile(r"[A-Za-z0-9._:-]{1,64}")
MAX_LENGTH = 64

_current: ContextVar[str] = ContextVar("request_id", default="")


def current() -> str:
    """The request ID in force, or "" outside any request or job that has one."""
    return _current.get()


@contextmanager
def bound(value: str) -> Iterator[None]:
    """Make `value` the request ID for the duration of the block (a request, a task)."""
    token = _current.set(value)
    try:
        yield
    finally:
        _current.reset(token)


def begin(value: str) -> None:
    """Make `value` the request ID from now on: for a request, from its first middleware
    until it is finished (Django logs a 4xx or 5xx after the middleware returned)."""
    _current.set(value)


def end(**kwargs: object) -> None:
    """No request ID in force any more (connected to `request_finished`)."""
    _current.set("")


def from_header(value: str | None) -> str:
    """The caller's request ID if it is sane, else a new uuid4."""
    if value and SANE.fullmatch(value):
        return value
    return str(uuid.uuid4())
