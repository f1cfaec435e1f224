"""Validate every answer the tests receive against Xero's OpenAPI specs.

The specs are the repository's copy in tests/sandbox/openapi/ (see its README). Declared
statuses go through openapi-core (spec validation off: the official spec writes some
boolean defaults as strings, `default: 'false'`, so strict validation rejects it).
Statuses the spec does not declare (401, 403, 404, 429, 500, 503, and 400 on reads) are
checked against the bodies Xero is known to send (sources in xero_sandbox/wire.py).
A response that fits neither fails the test that received it.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse

SPECS = Path(__file__).resolve().parent / "openapi"
NOT_FOUND_TEXT = "The resource you're looking for cannot be found"


def _load(name: str) -> OpenAPI:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with (SPECS / name).open(encoding="utf-8") as handle:
        spec = yaml.load(handle, Loader=loader)
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


class SpecMismatch(AssertionError):
    pass


@dataclass
class SpecChecker:
    accounting: OpenAPI
    identity: OpenAPI
    checked: list[str] = field(default_factory=list)

    @classmethod
    def load(cls) -> "SpecChecker":
        return cls(_load("xero_accounting.yaml"), _load("xero-identity.yaml"))

    def check(self, method: str, url: str, status: int, headers: dict, body: bytes) -> None:
        """Raise SpecMismatch unless the answer fits the spec or Xero's known error shapes."""
        parts = urlsplit(url)
        path = parts.path
        lowered = path.lower()
        if lowered.startswith("/api.xro/2.0"):
            spec, host = self.accounting, "https://api.xero.com"
            path = "/api.xro/2.0" + path[len("/api.xro/2.0") :]
        elif lowered.startswith("/connections"):
            spec, host = self.identity, "https://api.xero.com"
            path = "/Connections" + path[len("/connections") :]
        elif lowered.startswith("/connect/"):
            self._token_shape(status, body)
            return
        else:
            return
        headers = {k.lower(): v for k, v in headers.items()}
        content_type = headers.get("content-type", "application/json").split(";")[0]
        request = MockRequest(
            host,
            method.lower(),
            path,
            args=dict(parse_qsl(parts.query)),
            headers={"xero-tenant-id": "00000000-0000-0000-0000-000000000000"},
        )
        response = MockResponse(
            body, status_code=status, headers=headers, content_type=content_type
        )
        try:
            spec.validate_response(request, response)
        except ResponseNotFound:
            self._undeclared(status, headers, body)
        except Exception as error:  # openapi-core raises several families; all are failures
            raise SpecMismatch(f"{method} {url} {status}: {error!r}\n{body[:500]!r}") from error
        self.checked.append(f"{method} {path} {status}")

    def _undeclared(self, status: int, headers: dict, body: bytes) -> None:
        """Xero's known shapes (see xero_sandbox/wire.py) for statuses the spec does not list."""
        if status == 404:
            _expect(body.decode() == NOT_FOUND_TEXT, "404 body", body)
            return
        if status == 503:
            _expect(b"offline" in body, "503 body", body)
            return
        payload = json.loads(body)
        if status == 400:
            _expect({"ErrorNumber", "Type", "Message"} <= payload.keys(), "400 Error", body)
        elif status in (401, 403, 413):
            # 413 (body over 3.5 MB): Xero's body is unconfirmed; the sandbox uses the same shape.
            title = {401: "Unauthorized", 403: "Forbidden", 413: "Request Entity Too Large"}[status]
            _expect(payload.get("Title") == title and payload.get("Status") == status, "40x", body)
            _expect(isinstance(payload.get("Detail"), str), "Detail", body)
        elif status == 429:
            _expect("retry-after" in headers and "x-rate-limit-problem" in headers, "429", body)
        elif status == 500:
            _expect(payload.get("Title") == "An error occurred", "500 body", body)
            _expect(payload.get("Detail", "").startswith("An error occurred in Xero"), "500", body)
        else:
            raise SpecMismatch(f"status {status} has no known Xero shape: {body[:300]!r}")

    def _token_shape(self, status: int, body: bytes) -> None:
        """Token answers carry only Xero's keys.

        The keys of a real refresh answer recorded by xero-python
        (https://github.com/XeroAPI/xero-python, tests/test_api_client/cassettes/
        test_token_api_refresh_token.yaml).
        """
        if not body:
            return
        payload = json.loads(body)
        if status == 200:
            allowed = {"id_token", "access_token", "expires_in", "token_type", "refresh_token"}
            allowed.add("scope")
            _expect(set(payload) <= allowed, "token keys", body)
            _expect(
                payload["token_type"] == "Bearer" and payload["expires_in"] == 1800, "token", body
            )
        else:
            _expect(set(payload) <= {"error", "error_description"}, "token error", body)


def _expect(condition: bool, what: str, body: Any) -> None:
    if not condition:
        raise SpecMismatch(f"{what} does not match Xero's shape: {body[:300]!r}")
