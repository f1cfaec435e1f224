"""Validate every answer the tests receive against Xero's OpenAPI specs.

The specs are the repository's copy in tests/sandbox/openapi/ (see its README). Declared
statuses go through openapi-core (spec validation off: the official spec writes some
boolean defaults as strings, `default: 'false'`, so strict validation rejects it).
Statuses the spec does not declare (401, 403, 404, 429, 500, 503, and 400 on reads) are
checked against the bodies Xero is known to send (sources in xero_sandbox/wire.py).
A response that fits neither fails the test that received it.

XML answers (what Xero sends a client that does not ask for JSON) are read back into the
JSON shape guided by the spec's schemas, so every element name must be a property the
spec declares, then validated like JSON.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree as ET

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse

SPECS = Path(__file__).resolve().parent / "openapi"
NOT_FOUND_TEXT = "The resource you're looking for cannot be found"


XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
ENVELOPE = {"Id", "Status", "ProviderName", "DateTimeUTC"}
# Properties Xero's own examples send beyond a schema's declared ones (the spec's PUT
# /PurchaseOrders example has `HasErrors` on a PurchaseOrder, which declares none).
UNDECLARED = {"HasErrors"}
# Item elements whose name is neither the items schema's nor the collection's singular.
ITEM_ALIASES = {"Tracking": "TrackingCategory", "Elements": "DataContractBase"}


def read_spec(name: str) -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with (SPECS / name).open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)


def _load(spec: dict) -> OpenAPI:
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


class SpecMismatch(AssertionError):
    pass


@dataclass
class SpecChecker:
    accounting: OpenAPI
    identity: OpenAPI
    raw: dict = field(default_factory=dict)  # the accounting spec as read from YAML
    checked: list[str] = field(default_factory=list)

    @classmethod
    def load(cls) -> "SpecChecker":
        accounting = read_spec("xero_accounting.yaml")
        return cls(_load(accounting), _load(read_spec("xero-identity.yaml")), accounting)

    @property
    def schemas(self) -> dict:
        return self.raw["components"]["schemas"]

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
        if content_type == "text/xml":
            body = json.dumps(self.from_xml(body)).encode()
            content_type = "application/json"
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
        except (ResponseNotFound, OperationNotFound, PathNotFound):
            # Statuses (and methods or paths) the spec does not declare: Xero's known shapes.
            self._undeclared(status, headers, body)
        except Exception as error:  # openapi-core raises several families; all are failures
            raise SpecMismatch(f"{method} {url} {status}: {error!r}\n{body[:500]!r}") from error
        self.checked.append(f"{method} {path} {status}")

    def from_xml(self, body: bytes) -> dict:
        """An XML answer as the JSON Xero would have sent; unknown elements fail."""
        root = ET.fromstring(body)
        if root.tag == "ApiException":
            return _from_xml(root, self.schemas["Error"], self.schemas)
        _expect(root.tag == "Response", "XML root", body)
        # The wrapper schema is named after the collection (`Contacts`); `pagination` and
        # `Warnings` are its properties too.
        collections = [c.tag for c in root if c.tag not in ENVELOPE and c.tag in self.schemas]
        _expect(len(collections) == 1, "one collection", body)
        wrapper = self.schemas[collections[0]].get("properties", {})
        out: dict[str, Any] = {}
        for child in root:
            if child.tag in ENVELOPE:
                out[child.tag] = child.text or ""
                continue
            prop = wrapper.get(child.tag)
            _expect(prop is not None, f"<{child.tag}> in the envelope", body)
            out[child.tag] = _from_xml(child, prop, self.schemas)
        _expect(out.keys() >= ENVELOPE, "XML envelope", body)
        return out

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
        elif status == 501:
            _expect(payload.get("Type") == "ApiMethodNotImplementedException", "501", body)
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


def _resolve(schema: dict, schemas: dict) -> tuple[str, dict]:
    ref = schema.get("$ref", "")
    name = ref.rsplit("/", 1)[-1]
    return name, (schemas[name] if ref else schema)


def _from_xml(element: ET.Element, schema: dict, schemas: dict) -> Any:
    """One element read as the spec's `schema` says: objects, arrays, scalars, ms dates."""
    name, schema = _resolve(schema, schemas)
    if element.get(XSI_TYPE):
        name = element.get(XSI_TYPE, "")
        _expect(name in schemas, "xsi:type", name.encode())
        schema = schemas[name]
    if schema.get("type") == "array":
        item_name, _ = _resolve(schema["items"], schemas)
        allowed = {item_name, element.tag[:-1], element.tag[:-2], ITEM_ALIASES.get(element.tag)}
        items = []
        for child in element:
            _expect(child.tag in allowed, f"<{child.tag}> in <{element.tag}>", child.tag.encode())
            items.append(_from_xml(child, schema["items"], schemas))
        return items
    if "properties" in schema:
        out = {}
        for child in element:
            prop = schema["properties"].get(child.tag)
            if prop is None and child.tag in UNDECLARED:
                prop = {"type": "boolean"}
            _expect(prop is not None, f"<{child.tag}> of {name or element.tag}", child.tag.encode())
            out[child.tag] = _from_xml(child, prop, schemas)
        return out
    return _scalar(element.text or "", schema)


def _scalar(text: str, schema: dict) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        return int(text)
    if kind == "number":
        return float(text)
    if kind == "boolean":
        _expect(text in ("true", "false"), "XML boolean", text.encode())
        return text == "true"
    if schema.get("x-is-msdate") or schema.get("x-is-msdate-time"):
        moment = datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=UTC)
        return f"/Date({round(moment.timestamp() * 1000)}+0000)/"
    return text


def _expect(condition: bool, what: str, body: Any) -> None:
    if not condition:
        raise SpecMismatch(f"{what} does not match Xero's shape: {body[:300]!r}")
