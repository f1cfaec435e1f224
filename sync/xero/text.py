"""Text from Xero made storable: the one place that cleans what a database would refuse.

PostgreSQL refuses NUL in text, and no database takes a lone surrogate (half a UTF-16 pair,
which JSON can carry as an escape but UTF-8 cannot encode). One such character in one
contact's name used to fail every refresh of the organisation's mirror, and with it every
sync. Every record the boundary hands back passes through `from_xero`.
"""

import logging
import re
from dataclasses import fields, is_dataclass, replace
from typing import Any

logger = logging.getLogger(__name__)

NUL = "\x00"
# In a Python str from JSON, a code point in this range is always alone: pairs are joined.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable(text: str) -> str:
    """The text without NUL, and with U+FFFD for each lone surrogate."""
    if not _UNSTORABLE.search(text):
        return text
    return _UNSTORABLE.sub(lambda m: "" if m.group() == NUL else REPLACEMENT, text)


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list | tuple) and any(isinstance(v, str) for v in value):
        return type(value)(storable(v) if isinstance(v, str) else v for v in value)
    return value


def from_xero[R](record: R) -> R:
    """The record with every text field storable. A record with a `cleaned_fields` field
    says there which fields were cleaned; each cleaning is logged with the record's ID."""
    assert is_dataclass(record) and not isinstance(record, type)
    changes = {}
    for field in fields(record):
        value = getattr(record, field.name)
        cleaned = _cleaned(value)
        if cleaned != value:
            changes[field.name] = cleaned
    if not changes:
        return record
    names = sorted(changes)
    identity = next((getattr(record, f.name) for f in fields(record) if f.name.endswith("_id")), "")
    logger.warning(
        "Xero's %s %s held characters a database cannot store (NUL or a lone surrogate) "
        "in %s: removed",
        type(record).__name__,
        identity,
        ", ".join(names),
    )
    if any(f.name == "cleaned_fields" for f in fields(record)):
        changes["cleaned_fields"] = ",".join(names)
    return replace(record, **changes)
