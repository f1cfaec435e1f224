"""The few errors Xero's failures become; each message is fit to show an accountant."""

from dataclasses import dataclass, field
from typing import Any

from ..exceptions import UserFacingError


class XeroError(UserFacingError):
    """Something Xero refused or could not do; the message says what, for an accountant."""


class NotConnected(XeroError):
    def __init__(self, message: str = "omni-xero is not connected to Xero. Connect it first."):
        super().__init__(message)


class NeedsReconnecting(XeroError):
    """Xero no longer accepts this connection's tokens: a person must reconnect."""


class GrantRefused(XeroError):
    """The identity service refused a code, a refresh token or client credentials.

    `reason` says why in a few words ("the sign-in expired or was revoked in Xero").
    """

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"Xero refused the sign-in: {reason}.")


class RateLimited(XeroError):
    def __init__(self, *, wait_seconds: float, problem: str):
        self.wait_seconds = wait_seconds
        self.problem = problem
        limit = {"minute": "per-minute", "day": "daily", "concurrent": "concurrent"}.get(
            problem, problem or "a"
        )
        super().__init__(
            f"Xero's {limit} call limit for this organisation is used up. "
            f"Try again in {duration(wait_seconds)}."
        )


@dataclass(frozen=True)
class ElementError:
    """The validation messages Xero gave for one element of a request (index in the batch)."""

    index: int
    messages: list[str]
    element: dict[str, Any] = field(repr=False, default_factory=dict)


class ValidationFailed(XeroError):
    def __init__(self, errors: list[ElementError], message: str = ""):
        self.errors = errors
        detail = "; ".join(m for e in errors for m in e.messages)
        super().__init__(message or f"Xero refused the request: {detail or 'no reason given'}")


class NotFound(XeroError):
    pass


class XeroUnavailable(XeroError):
    def __init__(self, detail: str = ""):
        super().__init__(
            "Xero did not answer in time or is unavailable right now; nothing was lost. "
            "Try again in a few minutes." + (f" ({detail})" if detail else "")
        )


def duration(seconds: float) -> str:
    """A wait in words: "45 seconds", "3 minutes", "2 hours"."""
    whole = max(1, round(seconds))
    if whole < 120:
        return f"{whole} seconds"
    if whole < 7200:
        return f"{round(whole / 60)} minutes"
    return f"{round(whole / 3600)} hours"


def refused_message(errors: list[str]) -> str:
    """Xero's validation messages for one element, as a sentence or two."""
    text = " ".join(e.strip().rstrip(".") + "." for e in errors if e.strip())
    return f"Xero refused it: {text}" if text else "Xero refused it without saying why."
