"""The normaliser of "the same contact" (sync.links.same_contact): the keys of a name, an email
address, a tax number and an account number. A leaf: the mirror's model fills its indexed
columns with it."""

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contacts.models import Contact

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
