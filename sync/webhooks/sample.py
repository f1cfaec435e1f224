"""The Admin tab's Test of the webhook endpoint: Xero's intent-to-receive pair, replayed.

Xero enables a webhook only when its endpoint answers a correctly signed request 200 with an
empty body and a wrongly signed one 401, within 5 seconds, without a redirect (it follows
none). The Test sends the same pair over HTTP to the address Xero is given, so it goes
through whatever stands in front of omni-xero (a proxy, TLS, the HTTPS redirect).
https://developer.xero.com/documentation/guides/webhooks/configuring-your-server/
"""

import json
import secrets
import time
from dataclasses import dataclass

import requests
from django.conf import settings

from sync.exceptions import UserFacingError
from sync.webhooks.services import SAMPLE_ENTROPY, body_signature

TIMEOUT = 5.0  # seconds: Xero's limit for an answer


class Problem:
    """Why an answer is not the one Xero wants (codes; the page words them)."""

    REFUSED = "refused"  # no connection (refused, unknown host, TLS)
    TIMEOUT = "timeout"
    REDIRECT = "redirect"
    BODY = "body"  # 200, but with a body
    STATUS = "status"  # another status than expected


@dataclass(frozen=True)
class Attempt:
    signed: bool  # signed with the webhook key (else with another key)
    expected: int
    status: int | None
    ms: int
    problem: str = ""  # a Problem, or "" when the answer is the one Xero wants
    detail: str = ""  # where a redirect points, or the connection's error

    @property
    def ok(self) -> bool:
        return not self.problem


def webhook_test(*, url: str) -> list[Attempt]:
    """POST a correctly signed intent-to-receive sample to `url`, then a wrongly signed one;
    each answer, its time and what is wrong with it. Raises UserFacingError without a key."""
    key = settings.XERO_WEBHOOK_KEY
    if not key:
        raise UserFacingError(
            "No webhook key is set (XERO_WEBHOOK_KEY), so every delivery is refused: set the "
            "key Xero's developer portal shows for the webhook, then test again."
        )
    body = json.dumps(
        {
            "events": [],
            "firstEventSequence": 0,
            "lastEventSequence": 0,
            "entropy": SAMPLE_ENTROPY + secrets.token_hex(8),
        },
        separators=(",", ":"),
    ).encode()
    wrong_key = secrets.token_urlsafe(32)
    return [
        _post(url, body, body_signature(body, key), signed=True, expected=200),
        _post(url, body, body_signature(body, wrong_key), signed=False, expected=401),
    ]


def _post(url: str, body: bytes, signed_with: str, *, signed: bool, expected: int) -> Attempt:
    started = time.monotonic()

    def attempt(status: int | None, problem: str = "", detail: str = "") -> Attempt:
        ms = round((time.monotonic() - started) * 1000)
        return Attempt(signed, expected, status, ms, problem, detail[:300])

    try:
        response = requests.post(
            url,
            data=body,
            headers={"Content-Type": "application/json", "x-xero-signature": signed_with},
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except requests.Timeout:
        return attempt(None, Problem.TIMEOUT)
    except requests.RequestException as error:
        return attempt(None, Problem.REFUSED, type(error).__name__)
    if response.is_redirect:
        return attempt(response.status_code, Problem.REDIRECT, response.headers.get("Location", ""))
    if response.status_code != expected:
        return attempt(response.status_code, Problem.STATUS)
    if expected == 200 and response.content:
        return attempt(response.status_code, Problem.BODY)
    return attempt(response.status_code)
