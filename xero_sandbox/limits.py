"""Xero's rate limits, counted as Xero counts them.

Limits: https://developer.xero.com/faq/limits; Starter's 1,000 a day:
https://developer.xero.com/faq/pricing-and-policy-updates.

Per organisation: 60 calls in a rolling minute, 5,000 (1,000 on Starter) in a rolling day,
5 in flight at once; per app: 10,000 a minute. Windows run on the sandbox clock, so moving
the clock forward frees them, and `scale` shrinks them for fast tests (scale 60 makes the
"minute" one real second). When disabled the calls are still counted, so the
`X-…-Remaining` headers stay truthful, but nothing is refused.
"""

import math
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field


@dataclass
class Decision:
    allowed: bool
    headers: dict[str, str]
    problem: str = ""  # X-Rate-Limit-Problem when refused
    retry_after: int = 0


@dataclass
class RateLimiter:
    enabled: bool = True
    minute: int = 60
    concurrent: int = 5
    app_minute: int = 10_000
    day_override: int | None = None  # replaces every organisation's own day limit
    scale: float = 1.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _minute_calls: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    _day_calls: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    _app_calls: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    _in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def configure(self, **settings: object) -> dict:
        with self._lock:
            for name in ("enabled", "minute", "concurrent", "app_minute", "day_override", "scale"):
                if name in settings:
                    setattr(self, name, settings[name])
            return self.describe()

    def describe(self) -> dict:
        return {
            "enabled": self.enabled,
            "minute": self.minute,
            "concurrent": self.concurrent,
            "app_minute": self.app_minute,
            "day": self.day_override,
            "scale": self.scale,
        }

    def clear(self) -> None:
        with self._lock:
            self._minute_calls.clear()
            self._day_calls.clear()
            self._app_calls.clear()

    def acquire(self, tenant_id: str, app_id: str, day_limit: int, now: float) -> Decision:
        """Count one call; refuse it (without counting) if a limit is reached."""
        day_limit = self.day_override or day_limit
        minute_window, day_window = 60 / self.scale, 86_400 / self.scale
        with self._lock:
            minute = _trim(self._minute_calls[tenant_id], now - minute_window)
            day = _trim(self._day_calls[tenant_id], now - day_window)
            app = _trim(self._app_calls[app_id], now - minute_window)
            refusal = self._refusal(tenant_id, minute, day, app, day_limit)
            if refusal and self.enabled:
                problem, oldest, window = refusal
                wait = 1 if oldest is None else max(1, math.ceil(oldest + window - now))
                return Decision(False, self._headers(minute, day, app, day_limit), problem, wait)
            for calls in (minute, day, app):
                calls.append(now)
            self._in_flight[tenant_id] += 1
            return Decision(True, self._headers(minute, day, app, day_limit))

    def peek(self, tenant_id: str, app_id: str, day_limit: int, now: float) -> dict[str, str]:
        """The `X-…-Remaining` headers as they stand, without counting a call."""
        day_limit = self.day_override or day_limit
        minute_window, day_window = 60 / self.scale, 86_400 / self.scale
        with self._lock:
            minute = _trim(self._minute_calls.get(tenant_id, deque()), now - minute_window)
            day = _trim(self._day_calls.get(tenant_id, deque()), now - day_window)
            app = _trim(self._app_calls.get(app_id, deque()), now - minute_window)
            return self._headers(minute, day, app, day_limit)

    def _refusal(self, tenant_id, minute, day, app, day_limit):
        window_minute, window_day = 60 / self.scale, 86_400 / self.scale
        if len(day) >= day_limit:
            return "day", day[0], window_day
        if len(minute) >= self.minute:
            return "minute", minute[0], window_minute
        if len(app) >= self.app_minute:
            return "appminute", app[0], window_minute
        if self._in_flight[tenant_id] >= self.concurrent:
            return "concurrent", None, 0
        return None

    def _headers(self, minute: deque, day: deque, app: deque, day_limit: int) -> dict[str, str]:
        return {
            "X-DayLimit-Remaining": str(max(0, day_limit - len(day))),
            "X-MinLimit-Remaining": str(max(0, self.minute - len(minute))),
            "X-AppMinLimit-Remaining": str(max(0, self.app_minute - len(app))),
        }

    def in_flight(self) -> dict[str, int]:
        """Calls being answered now, per organisation (for tests and the state summary)."""
        with self._lock:
            return {tenant: n for tenant, n in self._in_flight.items() if n}

    def release(self, tenant_id: str) -> None:
        with self._lock:
            self._in_flight[tenant_id] = max(0, self._in_flight[tenant_id] - 1)


def _trim(calls: deque, horizon: float) -> deque:
    while calls and calls[0] <= horizon:
        calls.popleft()
    return calls
