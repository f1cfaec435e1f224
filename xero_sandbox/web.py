"""Request and response values and a tiny router, independent of the HTTP server."""

import html
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from xero_sandbox import wire

# Xero's bodies are a few levels deep (Invoices → LineItems → Tracking); anything far deeper
# is refused before it can reach a recursive renderer or the state file's encoder.
MAX_JSON_DEPTH = 64


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]  # keys lower-cased: Xero's query names are case-insensitive
    headers: dict[str, str]  # keys lower-cased
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)
    raw_query: str = ""

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def arg(self, name: str, default: str = "") -> str:
        return self.query.get(name.lower(), default)

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean query value; the SDK sends Python's `True`/`False`."""
        value = self.arg(name)
        return value.strip().lower() == "true" if value else default

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)

    def json(self) -> Any:
        """The body as JSON; ValueError if it is not JSON or is nested absurdly deep."""
        if not self.body.strip():
            return None
        too_deep = f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels"
        try:
            payload = json.loads(self.body.decode("utf-8"))
        except RecursionError:
            raise ValueError(too_deep) from None
        if not _shallow(payload, MAX_JSON_DEPTH):
            raise ValueError(too_deep)
        return payload


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Set by a drop_after_commit fault: the server closes the socket instead of answering.
    drop: bool = False

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> "Response":
        return cls(status, wire.dumps(payload), {"Content-Type": wire.JSON, **(headers or {})})

    @classmethod
    def text(cls, status: int, text: str, content_type: str = wire.HTML) -> "Response":
        return cls(status, text.encode(), {"Content-Type": content_type})

    @classmethod
    def html(cls, page: str, status: int = 200) -> "Response":
        return cls(status, page.encode(), {"Content-Type": wire.HTML})

    @classmethod
    def redirect(cls, url: str) -> "Response":
        return cls(302, b"", {"Location": url})

    @classmethod
    def not_found(cls) -> "Response":
        return cls.text(404, wire.NOT_FOUND_TEXT)


Handler = Callable[[Request], Response]


def _shallow(value: Any, limit: int) -> bool:
    """No list or object in `value` lies deeper than `limit` (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        if children and depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children)
    return True


class Router[H]:
    """Routes by method and a path pattern with `{name}` parameters (case-insensitive)."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], H]] = []
        self.patterns: list[tuple[str, str]] = []  # as written, for documentation checks

    def add(self, method: str, pattern: str, handler: H) -> None:
        self.patterns.append((method, pattern))
        regex = re.sub(
            r"\{(\w+)\}",
            r"(?P<\1>[^/]+)",
            re.escape(pattern).replace(r"\{", "{").replace(r"\}", "}"),
        )
        self.routes.append((method, re.compile(f"^{regex}/?$", re.IGNORECASE), handler))

    def match(self, method: str, path: str) -> tuple[H | None, dict[str, str], bool]:
        """The handler and path parameters; the flag says the path exists for another verb."""
        path_known = False
        for verb, regex, handler in self.routes:
            found = regex.match(path)
            if found:
                if verb == method:
                    return handler, found.groupdict(), True
                path_known = True
        return None, {}, path_known


def with_query(url: str, **params: str) -> str:
    joiner = "&" if "?" in url else "?"
    return url + joiner + urlencode({k: v for k, v in params.items() if v is not None})


def escape(value: Any) -> str:
    return html.escape("" if value is None else str(value))


@dataclass
class LoggedRequest:
    at: float
    method: str
    path: str
    status: int
    milliseconds: float


class RequestLog:
    """The latest Xero-facing requests (not the control API's), for the web UI."""

    def __init__(self, capacity: int = 2000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[LoggedRequest] = deque(maxlen=capacity)

    def add(self, method: str, path: str, status: int, started: float) -> None:
        took = (time.monotonic() - started) * 1000
        with self._lock:
            self._entries.append(LoggedRequest(time.time(), method, path, status, took))

    def newest_first(self) -> list[LoggedRequest]:
        with self._lock:
            return list(reversed(self._entries))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
