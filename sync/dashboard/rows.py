"""What a contact's or a transaction's row shows: its badge, its one-line reason and the
actions it offers. One pure function each, from the row's link, the connection's state and
its last upload or sync; every page that shows a row's state asks them, none decides alone."""

from dataclasses import dataclass
from enum import StrEnum

from sync.models import ConnectionStatus, ContactLink, InvalidReason, UploadRow, XeroConnection
from sync.syncing.organisations import VOID_IN_XERO
from sync.syncing.refusals import link_refusal
from transactions.models import TO_SYNC, SyncState


class Connection(StrEnum):
    """The organisation shown, as far as a row cares."""

    NONE = "none"  # never connected: nothing is linked anywhere
    DISCONNECTED = "disconnected"  # disconnected: its links are kept, and shown as kept
    PENDING = "pending"
    NEEDS_RECONNECT = "needs_reconnect"
    ACTIVE = "active"


def connection_state(connection: XeroConnection | None) -> Connection:
    if connection is None:
        return Connection.NONE
    return {
        ConnectionStatus.DISCONNECTED: Connection.DISCONNECTED,
        ConnectionStatus.PENDING: Connection.PENDING,
        ConnectionStatus.NEEDS_RECONNECT: Connection.NEEDS_RECONNECT,
    }.get(ConnectionStatus(connection.status), Connection.ACTIVE)


class Tone(StrEnum):
    """How a badge looks: its CSS class (MUTED is plain grey text, no badge); a transaction's
    sync state has its own, "state-<state>"."""

    OK = "ok"
    BAD = "bad"
    CHANGED = "changed"
    PENDING = "state-ready"
    MUTED = "muted"


@dataclass(frozen=True)
class Badge:
    label: str
    tone: str  # a Tone, or "state-<state>"
    name: str = ""  # a name from Xero after the label, isolated where it is shown


@dataclass(frozen=True)
class RowState:
    badge: Badge
    reason: str  # one line; empty when the badge says it all
    actions: frozenset[str]  # of "link", "upload", "unlink", "relink" (contacts), and
    # "upload", "skip", "reset" (transactions)


NO_LINK = Badge("No linked contact", Tone.MUTED)
INVALID_BADGES = {
    InvalidReason.ARCHIVED: "Archived in Xero",
    InvalidReason.DELETED: "Deleted from Xero",
    InvalidReason.GDPR: "GDPR request",
}


def invalid_badge(link: ContactLink) -> Badge:
    """Why an invalid link cannot be used, as its badge (a merged one names its survivor)."""
    if link.invalid_reason == InvalidReason.MERGED:
        survivor = getattr(link, "survivor_name", None) or "another Xero contact"
        return Badge("Merged into", Tone.BAD, survivor)
    return Badge(INVALID_BADGES[InvalidReason(link.invalid_reason)], Tone.BAD)


def contact_row(
    *,
    link: ContactLink | None,
    connection: Connection,
    upload: str | None,
    changed: bool,
    organisation: str = "",
) -> RowState:
    """A contact's row: `link` is its link in the organisation shown (or, disconnected, in
    the one it was disconnected from), `upload` its latest upload's UploadRow.State while it
    is news (None otherwise), `changed` whether its details differ from the last upload."""
    if connection == Connection.NONE:
        return RowState(NO_LINK, "", frozenset())
    if connection == Connection.DISCONNECTED:
        if link is None:
            return RowState(NO_LINK, "Connect to Xero again to link or upload it.", frozenset())
        return RowState(
            Badge("Link kept", Tone.MUTED),
            f"Linked to {link.xero_name} in {organisation}, which is disconnected: the link "
            "works again when you reconnect.",
            frozenset(),
        )
    active = connection == Connection.ACTIVE

    def can(actions: set[str]) -> frozenset[str]:
        # Until the connection works again only unlinking, which Xero has no part in, is on.
        return frozenset(actions) if active else frozenset(actions) & {"unlink"}

    if link is not None and not link.is_valid:
        # Whatever an earlier upload did, the link cannot be used now: never "Uploaded".
        relink = {"relink"} if link.merged_into_xero_contact_id else set()
        return RowState(invalid_badge(link), link.invalid_message, can({"unlink", *relink}))
    if upload is not None and upload in UploadRow.PENDING:
        label = UploadRow.State(upload).label
        return RowState(Badge(label, Tone.PENDING), "", can({"unlink"} if link else set()))
    if link is None:
        if upload in (UploadRow.State.FAILED, UploadRow.State.DUPLICATE):
            return RowState(Badge("Not uploaded", Tone.BAD), "", can({"link", "upload"}))
        reason = (
            "It was uploaded to Xero, then unlinked: link it again or upload it."
            if upload == UploadRow.State.DONE
            else ""
        )
        return RowState(NO_LINK, reason, can({"link", "upload"}))
    if changed:
        return RowState(
            Badge("Changed", Tone.CHANGED),
            "Its details in Omni differ from what was last uploaded to Xero: Upload sends them.",
            can({"upload", "unlink"}),
        )
    label = "Uploaded" if upload == UploadRow.State.DONE else "Linked"
    return RowState(Badge(label, Tone.OK), "", can({"upload", "unlink"}))


@dataclass(frozen=True)
class TransactionRowState(RowState):
    contact: Badge  # whether its contact can go
    contact_reason: str


def transaction_row(
    *,
    sync_state: str,
    link_status: str | None,
    invalid_reason: str,
    connection: Connection,
    xero_status: str | None,
) -> TransactionRowState:
    """A transaction's row: `link_status` is its contact's link's status in the organisation
    shown (None: no link), `xero_status` its document's status in the local copy of Xero's
    documents (None when there is no copy)."""
    state = SyncState(sync_state)
    if connection in (Connection.NONE, Connection.DISCONNECTED):
        contact, contact_reason = Badge("Not connected", Tone.MUTED), ""
        blocked = False
    else:
        refusal = link_refusal(link_status)
        blocked = refusal is not None
        if link_status is None:
            contact = Badge("Contact not linked", Tone.BAD)
            contact_reason = "Link its contact to a Xero contact before it can sync."
        elif blocked:
            contact = Badge("Contact's link invalid", Tone.BAD)
            contact_reason = f"{InvalidReason(invalid_reason).label}: fix the link to sync it."
        else:
            contact, contact_reason = Badge("Contact linked", Tone.OK), ""
    active = connection == Connection.ACTIVE
    if state == SyncState.SYNCED and xero_status in VOID_IN_XERO:
        word = "Voided" if xero_status == "VOIDED" else "Deleted"
        badge = Badge(f"{word} in Xero", Tone.BAD)
        reason = f"Synced, then {word.lower()} in Xero. Reset it to sync it again."
        actions = {"reset"}
    elif state == SyncState.READY and blocked:  # a refused one says Refused, and why
        badge = Badge("Blocked by its contact", Tone.BAD)
        reason, actions = "", {"skip"}
    else:
        badge = Badge(state.label, f"state-{state}")
        reason = ""
        actions = {"upload", "skip"} if state in (*TO_SYNC, SyncState.FAILED) else {"reset"}
    return TransactionRowState(
        badge, reason, frozenset(actions) if active else frozenset(), contact, contact_reason
    )
