"""What a list shows and what its bulk actions act on, decided once: the filters of each
subtab, the rows they match, the rows an action takes (the ticked ones, or "all N
matching", which the server finds again from the filter, never from a list of ids sent by
the page), and the last filter each user chose on each list, kept for their next visit."""

from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import QueryDict

from contacts.models import Contact
from sync import filters
from sync.models import Actor, KeptFilter, SyncContact, SyncContactQuerySet, XeroConnection
from sync.models.preferences import KEPT_QUERY_LENGTH
from sync.syncing import errors as problems
from sync.syncing.organisations import for_organisation, without_organisation
from transactions.models import SyncState, Transaction, TransactionQuerySet

# The form field of an action bar that asks for every row matching the list's filter; the
# filter itself travels with it under this prefix ("matching-q", ...).
SCOPE, MATCHING = "scope", "matching"


class ContactFilters(filters.Filters):
    show = filters.choice(["all"], "Show")
    linked = filters.choice(SyncContactQuerySet.LINK_FILTERS, "Link")
    q = filters.Search(label="Search")
    sort = filters.choice(
        [f"{d}{key}" for key in SyncContactQuerySet.SORTS for d in ("", "-")], "Sort"
    )


class TransactionFilters(filters.Filters):
    state = filters.choice(SyncState.values, "Sync state")
    q = filters.Search(label="Search")


# What is kept of each list's filter: not the page (a list opened again starts at its top).
KEPT = {ContactFilters: ("show", "linked", "q", "sort"), TransactionFilters: ("state", "q")}


def to_sync(connection: XeroConnection | None) -> QuerySet[Transaction]:
    """What a contact list counts as ready: the organisation's transactions waiting to be
    synced, and those no organisation is for yet (with several connected, an unlinked
    contact's; linking the contact here makes them this organisation's)."""
    ready = Transaction.objects.ready_to_sync()
    return for_organisation(ready, connection) | without_organisation(ready, connection)


def contacts_matching(
    tab: str, connection: XeroConnection | None, wanted: dict[str, Any]
) -> SyncContactQuerySet:
    """The contacts of a tab that a contacts list with these filters shows (any order)."""
    contacts = SyncContact.objects.for_tab(tab)
    if not wanted["show"]:
        contacts = contacts.ready(to_sync(connection))
    return contacts.search(wanted["q"]).link_filter(wanted["linked"], connection)


def transactions_matching(
    transaction_type: str, connection: XeroConnection | None, wanted: dict[str, Any]
) -> TransactionQuerySet:
    """The organisation's transactions of a type that a transactions list with these filters
    shows (any order)."""
    of_type = for_organisation(Transaction.objects.of_type(transaction_type), connection)
    return of_type.search(wanted["q"]).in_state(wanted["state"])


def wants_all_matching(posted: QueryDict) -> bool:
    return posted.get(SCOPE) == MATCHING


def matching_filter(posted: QueryDict, kind: type[filters.Filters]) -> dict[str, Any]:
    """The list filter posted with "all N matching" (BadParameter if it cannot be used)."""
    return kind.read(posted, prefix=MATCHING)


def selected_contacts(
    posted: QueryDict, tab: str, connection: XeroConnection | None
) -> SyncContactQuerySet:
    """The contacts an action bar's action takes: every one matching the posted filter, or the
    ticked ones of this tab (an id from elsewhere is ignored)."""
    if wants_all_matching(posted):
        return contacts_matching(tab, connection, matching_filter(posted, ContactFilters))
    return SyncContact.objects.for_tab(tab).filter(pk__in=filters.ids_posted(posted, "contact"))


def selected_transactions(
    posted: QueryDict, transaction_type: str, connection: XeroConnection | None
) -> QuerySet[Transaction]:
    """The transactions a subtab's action takes: every one matching the posted filter, or the
    ticked ones of this organisation and type."""
    if wants_all_matching(posted):
        wanted = matching_filter(posted, TransactionFilters)
        return transactions_matching(transaction_type, connection, wanted)
    of_type = for_organisation(Transaction.objects.of_type(transaction_type), connection)
    return of_type.filter(pk__in=filters.ids_posted(posted, "transaction"))


def selected_problem_contacts(
    posted: QueryDict, connection: XeroConnection | None
) -> QuerySet[Contact]:
    """The contacts a fix on the Errors view takes: every contact the view lists (on every
    page), or the ticked ones."""
    if wants_all_matching(posted):
        return problems.contacts_with_problems(connection)
    return Contact.objects.filter(pk__in=filters.ids_posted(posted, "contact"))


def matching_fields(kind: type[filters.Filters], wanted: dict[str, Any]) -> list[tuple[str, str]]:
    """The hidden fields an action bar posts with "all N matching": the list's filter."""
    return [(f"{MATCHING}-{name}", str(wanted.get(name) or "")) for name in KEPT[kind]]


# --- Filters kept per user ---------------------------------------------------------------------


def _query(kind: type[filters.Filters], wanted: dict[str, Any]) -> str:
    kept = {name: wanted[name] for name in KEPT[kind] if wanted.get(name)}
    return urlencode(kept)[:KEPT_QUERY_LENGTH]


def filter_keep(
    user: Actor,
    list_key: str,
    kind: type[filters.Filters],
    wanted: dict[str, Any],
) -> None:
    """Remember the filter a user chose on a list."""
    if not user.is_authenticated:
        return
    # One statement (an upsert), whatever was kept before.
    KeptFilter.objects.bulk_create(
        [KeptFilter(user_id=user.pk, list_key=list_key, query=_query(kind, wanted))],
        update_conflicts=True,
        unique_fields=["user", "list_key"],
        update_fields=["query", "updated_at"],
    )


def filter_kept(user: Actor, list_key: str, kind: type[filters.Filters]) -> str:
    """The query string of the filter the user chose last on this list, if it is one the list
    can still read (a choice since removed is forgotten); empty when there is none."""
    if not user.is_authenticated:
        return ""
    query = (
        KeptFilter.objects.filter(user=user, list_key=list_key)
        .values_list("query", flat=True)
        .first()
    )
    if not query:
        return ""
    try:
        kind.read(QueryDict(query))
    except filters.BadParameter:
        KeptFilter.objects.filter(user=user, list_key=list_key).delete()
        return ""
    return query
