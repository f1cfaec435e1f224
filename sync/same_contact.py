"""What "the same contact" means across Omni and Xero, asked by every caller: Upload's
duplicate guard, the match suggestions, the Search column, the import and relinking.

- The normaliser: the keys of a name, an email address, a tax number and an account number.
  Two names are "the same once normalised" when their keys are equal: case, accents,
  punctuation, spacing, "&" against "and", and a legal form at the end ("Ltd", "Limited",
  "Pty", "Inc", "GmbH", ...) do not count. The keys are stored on the Xero contact mirror
  (indexed), filled by this normaliser and no other.
- The Xero contacts an Omni contact may be linked to: active (neither archived nor under a
  GDPR request), not merged into another, and not linked to another Omni contact of the
  organisation (a caller that shows or allows linked ones says so).
- The mirror's index: the candidates of many Omni contacts from one query over those keys.
- Likely the same: a Xero contact with the same name once normalised, email address, tax
  number or account number (Omni's account number as Xero's account or contact number), each
  piece of evidence a code (`Evidence`) that templates put in words.
"""

import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db.models import Q

if TYPE_CHECKING:
    from contacts.models import Contact

    from .models import XeroConnection, XeroContact, XeroContactQuerySet

# --- The normaliser ----------------------------------------------------------------------------

# Legal forms and the like that a business name may carry or drop; only trailing ones go.
LEGAL_FORMS = frozenset(
    {
        "ltd",
        "limited",
        "pty",
        "proprietary",
        "plc",
        "llc",
        "llp",
        "lp",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "nz",
        "gmbh",
        "ag",
        "bv",
        "sa",
        "sarl",
    }
)
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", plain.replace("&", " and ").replace("'", "")).split()


def name_key(name: str) -> str:
    """The name with case, accents, punctuation, spacing and trailing legal forms ignored
    ("Tui Books Limited" and "TUI  BOOKS LTD." give "tui books"). A name that is nothing but
    legal forms keeps its last word."""
    words = _words(name)
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
    return " ".join(words)[:255]


def name_prefix(name: str) -> str:
    """The first two words of the name's key: where names that are only similar (a typo, a
    different ending) are looked for."""
    return " ".join(name_key(name).split()[:2])[:255]


def email_key(email: str) -> str:
    return email.strip().casefold()[:255]


def number_key(number: str) -> str:
    """A tax or account number with case, spaces and separators ignored ("12-345-678" and
    "12 345 678" are one)."""
    return re.sub(r"[^0-9A-Z]", "", number.upper())[:50]


def match_keys(
    *, name: str, email: str, tax_number: str, account_number: str, contact_number: str
) -> dict[str, str]:
    """A Xero contact's keys, by the names of the mirror's columns that hold them."""
    return {
        "name_key": name_key(name),
        "name_prefix": name_prefix(name),
        "email_key": email_key(email),
        "tax_key": number_key(tax_number),
        "account_key": number_key(account_number),
        "number_key": number_key(contact_number),
    }


def omni_keys(contact: "Contact") -> dict[str, str]:
    """An Omni contact's keys; its account number is looked for as Xero's account number
    and as its contact number."""
    return match_keys(
        name=contact.name,
        email=contact.email,
        tax_number=contact.tax_number,
        account_number=contact.account_number,
        contact_number=contact.account_number,
    )


# --- Likely the same ---------------------------------------------------------------------------


class Evidence(StrEnum):
    """Why a Xero contact is likely the same as an Omni contact (templates word it)."""

    NAME = "name"  # the same name once normalised
    EMAIL = "email"
    TAX_NUMBER = "tax_number"
    ACCOUNT_NUMBER = "account_number"  # as Xero's account number or its contact number


def evidence_codes(text: str) -> tuple[Evidence, ...]:
    """Evidence stored as text (comma-separated codes), read back."""
    return tuple(Evidence(code) for code in text.split(",") if code)


def likely(keys: Mapping[str, str], xero: "XeroContact") -> tuple[Evidence, ...]:
    """What makes the Xero contact likely the same as the Omni contact of these keys
    (omni_keys); nothing when it is not. This is the one rule: the guard blocks an upload,
    and a suggestion is a likely match, exactly when it says something."""
    found = []
    if keys["name_key"] and keys["name_key"] == xero.name_key:
        found.append(Evidence.NAME)
    if keys["email_key"] and keys["email_key"] == xero.email_key:
        found.append(Evidence.EMAIL)
    if keys["tax_key"] and keys["tax_key"] == xero.tax_key:
        found.append(Evidence.TAX_NUMBER)
    if keys["account_key"] and keys["account_key"] in (xero.account_key, xero.number_key):
        found.append(Evidence.ACCOUNT_NUMBER)
    return tuple(found)


# --- The Xero contacts one may link, and the index of them --------------------------------------


def linkable_xero_contacts(
    connection: "XeroConnection", *, include_linked: bool = False
) -> "XeroContactQuerySet":
    """The mirrored Xero contacts an Omni contact may be linked to: active (not archived, not
    under a GDPR request), not merged into another, and not linked to another Omni contact
    of the organisation. With `include_linked`, linked ones too: for callers that show them
    with whom they are linked to (the Search column, suggestions) or that let one business's
    customer and supplier records share one (linking refuses the others, saying why)."""
    from .models import ContactLink, XeroContact

    rows = XeroContact.objects.filter(
        connection=connection, merged_into_xero_contact_id=None
    ).active()
    if not include_linked:
        rows = rows.exclude(
            contact_id__in=ContactLink.objects.filter(connection=connection).values(
                "xero_contact_id"
            )
        )
    return rows


def is_linkable(xero: "XeroContact") -> bool:
    """A contact Xero returned (or the mirror holds) may be linked: active and not merged.
    Xero marks a merged contact ARCHIVED with MergedToContactID; both are checked, so that
    a merge Xero reports either way is never linked."""
    from .models import XeroContact

    return xero.status == XeroContact.Status.ACTIVE and xero.merged_into_xero_contact_id is None


def lookups(keys: Mapping[str, str]) -> set[tuple[str, str]]:
    """The (mirror column, value) pairs an Omni contact's candidates are found by."""
    pairs = {(column, value) for column, value in keys.items() if value}
    if keys["account_key"]:
        pairs.add(("number_key", keys["account_key"]))
    return pairs


def candidates(
    connection: "XeroConnection",
    wanted_pairs: set[tuple[str, str]],
    *,
    include_linked: bool = True,
    fields: tuple[str, ...] = (),
) -> dict[tuple[str, str], list["XeroContact"]]:
    """The index of the mirror: the linkable rows having any of the (column, value) pairs,
    by each pair they have. One query however many pairs."""
    from .models import MATCH_KEYS

    wanted: dict[str, set[str]] = defaultdict(set)
    for column, value in wanted_pairs:
        wanted[column].add(value)
    by_pair: dict[tuple[str, str], list[XeroContact]] = defaultdict(list)
    if not wanted:
        return by_pair
    # The organisation in every branch of the OR: each then uses its own (connection, key)
    # index, where one condition outside the OR makes the database scan the organisation.
    query = Q()
    for column, values in wanted.items():
        query |= Q(connection=connection, **{f"{column}__in": sorted(values)})
    rows = linkable_xero_contacts(connection, include_linked=include_linked).filter(query)
    if fields:
        rows = rows.only(*fields, *MATCH_KEYS)
    for row in rows.order_by():
        for column in wanted:
            pair = (column, getattr(row, column))
            if pair in wanted_pairs:
                by_pair[pair].append(row)
    return by_pair
