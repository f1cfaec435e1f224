"""Match suggestions: for unlinked Omni contacts, the Xero contacts of the mirror that look
like them, each with a score and the evidence the score is made of.

Candidates come from the mirror's index (sync.links.same_contact): the same normalised name, email
address, tax number, or account number (Xero's account or contact number). A suggestion is a
likely match exactly when same_contact.likely says so: Upload's duplicate guard asks these
suggestions, so that a row never shows a likely match that Upload would create anyway.

Each piece of evidence adds its points; a different name among otherwise matching
details adds points for how similar it is (rapidfuzz). The evidence shown is exactly what
was scored. A suggestion is unambiguous, and may be accepted with the others at once, only
when it is the contact's one strong candidate, no other contact in the batch has it as theirs,
and it is not linked to another Omni contact.
"""

import dataclasses
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from contacts.models import Contact
from sync.exceptions import LinkError
from sync.links import normalise, same_contact
from sync.links.services import contact_link
from sync.models import (
    Actor,
    ContactLink,
    DismissedSuggestion,
    LinkMethod,
    XeroConnection,
    XeroContact,
)

POINTS = {"email": 40, "tax number": 40, "account number": 30, "name": 40}
NEARLY_SAME_NAME = 35  # equal once case, punctuation and "Ltd" are set aside
SIMILAR_NAME = 20  # at most, for a name rapidfuzz finds SIMILARITY % alike or more
SIMILARITY = 80
STRONG = 35  # the least score one may accept with others at once
SHOWN = 3  # suggestions shown per contact


@dataclass(frozen=True)
class Suggestion:
    xero: XeroContact
    score: int
    same: tuple[str, ...]  # details that are the same ("email", "tax number", ...)
    other: tuple[str, ...]  # other evidence ("nearly the same name", "similar name (91%)")
    linked_to: tuple[str, ...] = ()  # Omni contacts already linked to this Xero contact
    unambiguous: bool = False
    likely: tuple[same_contact.Evidence, ...] = ()  # what makes it a likely match
    blocked: bool = False  # linked to another Omni contact it may not share with: no Accept

    @property
    def evidence(self) -> str:
        """What the score is made of, in words: "same email and tax number"."""
        parts = []
        if self.same:
            *rest, last = self.same
            parts.append("same " + (f"{', '.join(rest)} and {last}" if rest else last))
        parts.extend(self.other)
        return "; ".join(parts)


def contact_keys(contact: Contact) -> dict[str, str]:
    return normalise.omni_keys(contact)


def score(
    name: str, keys: dict[str, str], xero: XeroContact
) -> tuple[int, tuple[str, ...], tuple[str, ...]]:
    """The points a Xero contact scores as a match for an Omni contact (its name and
    contact_keys), and the evidence they are made of."""
    same: list[str] = []
    other: list[str] = []
    if keys["email_key"] and keys["email_key"] == xero.email_key:
        same.append("email")
    if keys["tax_key"] and keys["tax_key"] == xero.tax_key:
        same.append("tax number")
    if keys["account_key"] and keys["account_key"] in (xero.account_key, xero.number_key):
        same.append("account number")
    if same_name := " ".join(name.casefold().split()) == " ".join(xero.name.casefold().split()):
        same.append("name")
    points = sum(POINTS[evidence] for evidence in same)
    if not same_name:
        if keys["name_key"] and keys["name_key"] == xero.name_key:
            points += NEARLY_SAME_NAME
            other.append("nearly the same name")
        else:
            similarity = round(fuzz.token_sort_ratio(keys["name_key"], xero.name_key))
            if similarity >= SIMILARITY:
                points += round(SIMILAR_NAME * similarity / 100)
                other.append(f"similar name ({similarity}%)")
    return min(points, 100), tuple(same), tuple(other)


def suggestions_for(
    *,
    connection: XeroConnection | None,
    contacts: Iterable[Contact],
    shown: int | None = SHOWN,
) -> dict[int, list[Suggestion]]:
    """The best suggestions for each unlinked contact given, best first, by contact pk.

    Three queries however many contacts: the candidates, the dismissals, the links."""
    contacts = list(contacts)
    if connection is None or not contacts:
        return {}
    keys = {contact.pk: contact_keys(contact) for contact in contacts}
    lookups = {contact.pk: same_contact.lookups(keys[contact.pk]) for contact in contacts}
    by_lookup = same_contact.candidates(
        connection,
        set().union(*lookups.values()),
        fields=("contact_id", "name", "email", "account_number", "contact_number"),
    )
    if not by_lookup:
        return {}
    candidate_ids = {row.contact_id for rows in by_lookup.values() for row in rows}
    dismissed = set(
        DismissedSuggestion.objects.filter(
            connection=connection, contact__in=[c.pk for c in contacts]
        ).values_list("contact_id", "xero_contact_id")
    )
    linked: dict[uuid.UUID, list[Contact]] = defaultdict(list)
    for link in ContactLink.objects.filter(
        connection=connection, xero_contact_id__in=candidate_ids
    ).select_related("contact"):
        linked[link.xero_contact_id].append(link.contact)
    found: dict[int, list[Suggestion]] = {}
    for contact in contacts:
        mine = {row.contact_id: row for pair in lookups[contact.pk] for row in by_lookup[pair]}
        scored = []
        for xero in mine.values():
            if (contact.pk, xero.contact_id) in dismissed:
                continue
            points, same, other = score(contact.name, keys[contact.pk], xero)
            if same or other:
                holders = linked.get(xero.contact_id, [])
                others = tuple(c.name for c in holders if c.pk != contact.pk)
                likely = same_contact.likely(keys[contact.pk], xero)
                blocked = bool(same_contact.blocking(contact, holders))
                scored.append(
                    Suggestion(xero, points, same, other, others, likely=likely, blocked=blocked)
                )
        if scored:
            scored.sort(key=lambda s: (-s.score, s.xero.name, str(s.xero.contact_id)))
            found[contact.pk] = scored
    _mark_unambiguous(found)
    return {pk: found_[:shown] for pk, found_ in found.items()}


def _mark_unambiguous(found: dict[int, list[Suggestion]]) -> None:
    """The one strong, free candidate of a contact that no other contact has as theirs."""
    only: dict[int, Suggestion] = {}
    for pk, suggestions in found.items():
        strong = [s for s in suggestions if s.score >= STRONG]
        if len(strong) == 1 and not strong[0].linked_to:
            only[pk] = strong[0]
    claims: dict[uuid.UUID, int] = defaultdict(int)
    for suggestion in only.values():
        claims[suggestion.xero.contact_id] += 1
    for pk, suggestion in only.items():
        if claims[suggestion.xero.contact_id] == 1:
            found[pk] = [
                dataclasses.replace(s, unambiguous=True) if s is suggestion else s
                for s in found[pk]
            ]


def suggestion_dismiss(
    *, connection: XeroConnection, contact: Contact, xero_contact_id: uuid.UUID | str, user: Actor
) -> None:
    """Never suggest this Xero contact for this Omni contact again."""
    try:
        wanted = uuid.UUID(str(xero_contact_id))
    except ValueError:
        raise LinkError("That is not a Xero contact: pick one from the list.") from None
    DismissedSuggestion.objects.get_or_create(
        connection=connection,
        contact=contact,
        xero_contact_id=wanted,
        defaults={"dismissed_by": user if user.is_authenticated else None},
    )


@dataclass(frozen=True)
class AcceptResult:
    linked: list[tuple[Contact, str]]
    refused: list[tuple[Contact, str]]


def suggestions_accept_unambiguous(
    *, connection: XeroConnection, contacts: Iterable[Contact], user: Actor
) -> AcceptResult:
    """Link each of the contacts to its unambiguous suggestion; the others stay as they are."""
    contacts = list(contacts)
    taken = set(
        ContactLink.objects.filter(connection=connection, contact__in=contacts).values_list(
            "contact_id", flat=True
        )
    )
    unlinked = [c for c in contacts if c.pk not in taken]
    found = suggestions_for(connection=connection, contacts=unlinked)
    linked, refused = [], []
    for contact in unlinked:
        best = next((s for s in found.get(contact.pk, []) if s.unambiguous), None)
        if best is None:
            continue
        try:
            contact_link(
                contact=contact,
                connection=connection,
                xero_contact_id=best.xero.contact_id,
                xero_name=best.xero.name,
                method=LinkMethod.EXISTING,
                user=user,
            )
        except LinkError as error:
            refused.append((contact, str(error)))
        else:
            linked.append((contact, best.xero.name))
    return AcceptResult(linked, refused)
