"""Xero's wire format: `/Date(…)/` dates, the response envelope and the error bodies.

Where Xero's text is unknown the message says so, so nobody mistakes a sandbox guess for
Xero's wording. The literal bodies come from:

- 400 ValidationException: the spec's `400Error` (tests/sandbox/openapi/xero_accounting.yaml)
- 400 NoDataProcessedException: https://github.com/XeroAPI/xero-php-oauth2/issues/48
- 400 PostDataInvalidException: https://github.com/XeroAPI/xero-php-oauth2/issues/205
- 401 TokenExpired, the 404 text: pyxero's tests/test_exceptions.py, "Verified response
  from the live API" (https://github.com/freakboy3742/pyxero)
- 401 AuthorizationUnsuccessful: https://github.com/XeroAPI/Xero-NetStandard/issues/298
- 403 AuthenticationUnsuccessful: https://github.com/XeroAPI/xero-python/issues/116
- 500: https://github.com/XeroAPI/xero-node/issues/466
- 501 ApiMethodNotImplementedException: pyxero's tests, "Verified response from the live API"
- 503 text: pyxero's tests, marked there as unconfirmed
- the envelope: xero-python's tests/accounting/api/cassettes/test_get_organisations.yaml
  (https://github.com/XeroAPI/xero-python)
"""

import json
import re
import uuid
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"

NOT_FOUND_TEXT = "The resource you're looking for cannot be found"
OFFLINE_TEXT = "The Xero API is currently offline for maintenance"

_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{2,4})?\)/")


def ms(moment: float) -> int:
    """Epoch seconds as the integer milliseconds Xero's dates carry."""
    return round(moment * 1000)


def ms_datetime(moment: float) -> str:
    """A timestamp field (`UpdatedDateUTC`) as Xero writes it: `/Date(ms+0000)/`."""
    return f"/Date({ms(moment)}+0000)/"


def ms_date(day: str) -> str:
    """A date-only field (`Date`, `DueDate`): UTC midnight of an ISO `YYYY-MM-DD` day."""
    midnight = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return f"/Date({ms(midnight.timestamp())}+0000)/"


def timestamp_string(moment: float) -> str:
    """The companion `UpdatedDateUTCString`, as the spec's examples write it."""
    return datetime.fromtimestamp(moment, UTC).isoformat(sep=" ", timespec="seconds")


def date_string(day: str) -> str:
    """The companion `DateString` Xero sends beside each date field."""
    return f"{day}T00:00:00"


def parse_date(value: object) -> str | None:
    """An incoming date (`/Date(ms)/`, `YYYY-MM-DD` or an ISO timestamp) as `YYYY-MM-DD`.

    Returns None when the value cannot be read; callers turn that into a validation error.
    """
    if not isinstance(value, str) or not value:
        return None
    match = _MS_DATE.fullmatch(value.strip())
    try:
        if match:
            return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).date().isoformat()
        return datetime.fromisoformat(value.strip()).date().isoformat()
    except (ValueError, OverflowError, OSError):  # not a date, or past year 9999
        return None


def parse_timestamp(value: str) -> float | None:
    """An `If-Modified-Since` value as epoch seconds (ISO 8601 as the SDK sends, or RFC 1123)."""
    value = value.strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def today(moment: float) -> str:
    """The calendar day (UTC) of a sandbox-clock moment."""
    return datetime.fromtimestamp(moment, UTC).date().isoformat()


def dumps(payload: object) -> bytes:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError:
        # [sandbox] A lone surrogate (a name saved as half a UTF-16 pair) has no UTF-8 form:
        # it goes escaped (\ud800), as .NET's serialisers write it, and parses back as sent.
        return json.dumps(payload, separators=(",", ":")).encode()


def envelope(now: float, provider: str, answer_id: str = "", **collections: object) -> dict:
    """Wrap a successful Accounting API answer in Xero's envelope.

    `Id` is the answer's `Xero-Correlation-Id` header, as in xero-python's recordings.
    """
    return {
        "Id": answer_id or str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": provider,
        "DateTimeUTC": f"/Date({ms(now)})/",
        **collections,
    }


def validation_error(elements: list[dict]) -> dict:
    """The 400 ValidationException body listing the failed elements."""
    return {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": elements,
    }


def no_data(entity: str) -> dict:
    """The 400 body for a write with no elements (Xero's own misspelling kept)."""
    return {
        "ErrorNumber": 17,
        "Type": "NoDataProcessedException",
        "Message": "No data has been processed for this endpoint. This endpoint is expecting "
        f"{entity} data to be specifed in the request body.",
    }


def post_data_invalid(detail: str) -> dict:
    """The 400 body for a request body that is not JSON."""
    return {
        "ErrorNumber": 14,
        "Type": "PostDataInvalidException",
        "Message": f"JSON request body could not be read, Error {detail}",
    }


def query_parse_error(message: str) -> dict:
    """400 for a `where`/`order` that cannot be read or names an unknown property.

    Xero's text for an unknown property ("No property or field 'Bogus' exists in type
    'Contact'") is kept as it is; the parse failures the sandbox words itself say [sandbox].
    """
    return {"ErrorNumber": 16, "Type": "QueryParseException", "Message": message}


def not_implemented() -> dict:
    """501 for a method the resource does not have (`DELETE /Contacts`, `POST /Organisation`)."""
    return {
        "ErrorNumber": 20,
        "Type": "ApiMethodNotImplementedException",
        "Message": "The Api Method called is not implemented",
    }


def problem(status: int, title: str, detail: str) -> dict:
    """The problem-details body Xero's gateway uses for 401, 403 and 429."""
    return {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }


def token_expired(expired_at: float) -> dict:
    stamp = datetime.fromtimestamp(expired_at, UTC).strftime("%m/%d/%Y %H:%M:%S")
    return {
        "Type": None,
        "Title": "Unauthorized",
        "Status": 401,
        "Detail": f"TokenExpired: token expired at {stamp}",
    }


def server_error() -> dict:
    return {
        "Title": "An error occurred",
        "Detail": "An error occurred in Xero. Check the API Status page "
        "http://status.developer.xero.com for current service status.",
        "Status": 500,
        "Instance": str(uuid.uuid4()),
    }
