"""Xero's XML answers: the same envelope and error bodies as the JSON ones, in elements.

Xero answers in XML unless the request's `Accept` asks for `application/json` (the SDK
always does). The shapes follow responses recorded from the live API in pyxero's tests
(https://github.com/freakboy3742/pyxero, tests/mock_data.py and tests/test_exceptions.py):
`<Response>` with `Id`, `Status`, `ProviderName`, `DateTimeUTC` and the collection
(`<Contacts><Contact>…</Contact></Contacts>`); errors as `<ApiException>` with
`ErrorNumber`, `Type`, `Message` and `<Elements><DataContractBase xsi:type="Invoice">`;
dates as ISO timestamps (`2013-05-31T06:04:20.78`) instead of `/Date(…)/`.
"""

import re
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

XML = "text/xml; charset=utf-8"
XSD = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# A collection's item element; the rest drop their plural "s".
SINGULAR = {
    "Addresses": "Address",
    "Tracking": "TrackingCategory",
    "SalesTrackingCategories": "SalesTrackingCategory",
    "PurchasesTrackingCategories": "PurchasesTrackingCategory",
    "Elements": "DataContractBase",
}
_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


def singular(collection: str) -> str:
    """`Contacts` → `Contact`, `Addresses` → `Address`: the element of one item."""
    if collection in SINGULAR:
        return SINGULAR[collection]
    return collection[:-1] if collection.endswith("s") else collection


def wants_json(accept: str) -> bool:
    """Only an `Accept` naming JSON gets JSON; anything else (or none) gets XML."""
    return "application/json" in accept.lower()


def is_api_body(payload: Any) -> bool:
    """The bodies Xero also sends as XML: the envelope and ApiException-style errors."""
    return isinstance(payload, dict) and (
        ("Id" in payload and "Status" in payload) or {"ErrorNumber", "Type"} <= payload.keys()
    )


def render(payload: dict, element_type: str) -> bytes:
    """An API body as Xero's XML; `element_type` names failed elements (`Invoice`)."""
    name = "ApiException" if "ErrorNumber" in payload else "Response"
    root = ET.Element(name, {"xmlns:xsd": XSD, "xmlns:xsi": XSI})
    _fill(root, payload, element_type)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _fill(parent: ET.Element, record: dict, element_type: str) -> None:
    for key, value in record.items():
        if value is None or _is_date_companion(key, record):
            continue
        child = ET.SubElement(parent, key)
        if isinstance(value, dict):
            _fill(child, value, element_type)
        elif isinstance(value, list):
            for item in value:
                _item(child, key, item, element_type)
        else:
            child.text = _text(key, value)


def _item(parent: ET.Element, collection: str, item: Any, element_type: str) -> None:
    if item is None:
        return
    attributes = {"xsi:type": element_type} if collection == "Elements" else {}
    child = ET.SubElement(parent, singular(collection), attributes)
    if isinstance(item, dict):
        _fill(child, item, element_type)
    else:
        child.text = _text(collection, item)


def _is_date_companion(key: str, record: dict) -> bool:
    """`DateString` and friends repeat a date for JSON readers; XML dates are ISO already."""
    return key.endswith("String") and key[: -len("String")] in record


def _text(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.2f}" if round(value, 2) == value else repr(value)
    if isinstance(value, str):
        match = _MS_DATE.fullmatch(value)
        try:
            if match:
                return iso(int(match.group(1)), utc_marker=key == "DateTimeUTC")
        except (ValueError, OverflowError, OSError):
            pass  # text that merely looks like a date (a Reference of "/Date(…)/")
    return str(value)


def iso(milliseconds: int, *, utc_marker: bool = False) -> str:
    """Epoch milliseconds as Xero's XML writes a date: `2024-01-02T03:04:05.678`."""
    moment = datetime.fromtimestamp(milliseconds / 1000, UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + ("Z" if utc_marker else "")
