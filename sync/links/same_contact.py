"""What "the same contact" means across Omni and Xero, asked by every caller: Upload's
duplicate guard, the match suggestions, the Search column, the import and relinking.

- The normaliser: the keys of a name, an email address, a tax number and an account number.
  Two names are "the same once normalised" when their keys are equal: case, accents,
  punctuation, spacing, "&" against "and", and a legal form at the end ("Ltd", "Limited",
  "Pty", "Inc", "GmbH", ...) do not count. The keys are stored on the Xero contact mirror
  (indexed), filled by this normaliser and no other.
- The Xero contacts an Omni contact may be linked to: active (neither archived nor under a
  GDPR request), not merged into another, and not linked to another Omni contact of the
  organisation (a caller that shows or allows linked ones says so), except that one
  business's customer record and its supplier record may share one (`blocking`).
- The mirror's index: the candidates of many Omni contacts from one query over those keys.
- Likely the same: a Xero contact with the same name once normalised, email address, tax
  number or account number (Omni's account number as Xero's account or contact number), each
  piece of evidence a code (`Evidence`) that templates put in words.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db.models import Q

from sync.links.normalise import omni_keys

if TYPE_CHECKING:
    from contacts.models import Contact
    from sync.models import XeroConnection, XeroContact, XeroContactQuerySet


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
    from sync.models import ContactLink, XeroContact

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
    from sync.models import XeroContact

    return xero.status == XeroContact.Status.ACTIVE and xero.merged_into_xero_contact_id is None


def may_share(first: "Contact", second: "Contact") -> bool:
    """One business's customer record and its supplier record may share a Xero contact: one
    is only a customer, the other only a supplier, and they have the same name once
    normalised, tax number or email address."""
    roles = {(c.is_customer, c.is_supplier) for c in (first, second)}
    if roles != {(True, False), (False, True)}:
        return False
    mine, theirs = omni_keys(first), omni_keys(second)
    return any(
        mine[key] and mine[key] == theirs[key] for key in ("name_key", "tax_key", "email_key")
    )


def blocking(contact: "Contact", linked: Iterable["Contact"]) -> list["Contact"]:
    """The Omni contacts, of those linked to a Xero contact, that keep `contact` from being
    linked to it too: none when no other is linked, or only its own record of the other
    role (may_share); else every other one."""
    others = [other for other in linked if other.pk != contact.pk]
    if len(others) == 1 and may_share(others[0], contact):
        return []
    return others


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
    from sync.models import MATCH_KEYS

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
