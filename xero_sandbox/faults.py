"""Faults on demand: make the next N (or an evenly spread share of) Xero-facing calls fail.

Kinds: `status` (answer 500, 503, 429…), `hang` (sleep, then answer normally: the client
should have timed out by then), `drop` (close the connection without doing anything) and
`drop_after_commit` (do the work, then close the connection without answering: the case
idempotency keys exist for).
"""

import threading
from dataclasses import dataclass

from xero_sandbox import wire
from xero_sandbox.web import Response

KINDS = ("status", "hang", "drop", "drop_after_commit")


@dataclass
class Fault:
    kind: str = "status"
    status: int = 500
    count: int | None = 1  # None: until cleared
    share: float | None = None  # the fraction of matching calls hit, instead of `count`
    # The share's part of a hit owed so far; from a half, so that n calls get round(n x share).
    credit: float = 0.5
    seconds: float = 30.0
    path: str = ""  # path prefix, case-insensitive ("/api.xro/2.0/Invoices")
    method: str = ""
    retry_after: int = 1

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return path.lower().startswith(self.path.lower())

    def describe(self) -> dict:
        return dict(self.__dict__)


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []

    def add(self, spec: dict) -> Fault:
        """Add a rule from a control-API body such as `{"status": 503, "count": 2}`."""
        kind = spec.get("kind", "status")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        share = spec.get("share")
        fault = Fault(
            kind=kind,
            status=int(spec.get("status", 500)),
            count=None if share is not None else spec.get("count", 1),
            share=float(share) if share is not None else None,
            seconds=float(spec.get("seconds", 30)),
            path=spec.get("path", ""),
            method=spec.get("method", ""),
            retry_after=int(spec.get("retry_after", 1)),
        )
        with self._lock:
            self._rules.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def describe(self) -> list[dict]:
        with self._lock:
            return [f.describe() for f in self._rules]

    def pick(self, method: str, path: str) -> Fault | None:
        """The fault this call suffers, if any (consuming one of its count)."""
        with self._lock:
            for fault in self._rules:
                if not fault.matches(method, path):
                    continue
                if fault.share is not None:
                    # Spread evenly, not drawn at random: of the first n matching calls the
                    # share hits round(n x share), so a run of a hundred calls meets the share
                    # it asked for (random draws often miss it by a third).
                    fault.credit += fault.share
                    if fault.credit >= 1 - 1e-9:
                        fault.credit -= 1
                        return fault
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._rules.remove(fault)
                return fault
        return None


def status_response(fault: Fault) -> Response:
    """The body Xero sends for the injected status (sources in wire.py)."""
    if fault.status == 503:
        return Response.text(503, wire.OFFLINE_TEXT, "text/plain; charset=utf-8")
    if fault.status == 500:
        return Response.json(500, wire.server_error())
    if fault.status == 429:
        body = wire.problem(429, "Too Many Requests", "Rate limit exceeded (injected fault)")
        headers = {"Retry-After": str(fault.retry_after), "X-Rate-Limit-Problem": "minute"}
        return Response.json(429, body, headers)
    if fault.status == 404:
        return Response.not_found()
    return Response.json(fault.status, wire.problem(fault.status, "Error", "Injected fault"))
