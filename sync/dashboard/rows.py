"""What a contact's or a transaction's row shows: its badge, its one-line reason and the
actions it offers. One pure function each, from the row's link, the connection's state and
its last upload or sync; every page that shows a row's state asks them, none decides alone."""

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sync.models import ConnectionStatus, ContactLink, InvalidReason, UploadRow, XeroConnection
from sync.syncing.organisations import VOID_IN_XERO
from sync.syncing.refusals import link_refusal
from transactions.models import TO_SYNC, PaymentState, SyncState, TransactionType


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


PAID_IN_XERO = "PAID"  # Xero's status of an invoice or bill with nothing left to pay


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
    # The buttons the row itself shows, in order: "relink" (to `survivor`), "restore" (a
    # link to the contact in Xero, where archived contacts are restored), "upload", "unlink".
    buttons: tuple[str, ...] = field(default=(), kw_only=True)
    survivor: str = field(default="", kw_only=True)  # a merged link's survivor, if mirrored


NO_LINK = Badge("No linked contact", Tone.MUTED)
INVALID_BADGES = {
    InvalidReason.ARCHIVED: "Archived in Xero",
    InvalidReason.DELETED: "Deleted from Xero",
    InvalidReason.GDPR: "GDPR request",
}


def survivor_name(link: ContactLink) -> str:
    """The name of the Xero contact a merged link's contact was merged into, as the mirror
    knows it (with_link annotates it); empty when the mirror does not have it."""
    if link.invalid_reason != InvalidReason.MERGED or link.merged_into_xero_contact_id is None:
        return ""
    return getattr(link, "survivor_name", None) or ""


def invalid_badge(link: ContactLink) -> Badge:
    """Why an invalid link cannot be used, as its badge (a merged one names its survivor)."""
    if link.invalid_reason == InvalidReason.MERGED:
        return Badge("Merged into", Tone.BAD, survivor_name(link) or "another Xero contact")
    return Badge(INVALID_BADGES[InvalidReason(link.invalid_reason)], Tone.BAD)


def invalid_line(link: ContactLink) -> str:
    """What happened to an invalid link's Xero contact, in one line; the row's buttons are
    the ways out."""
    name = link.xero_name
    survivor = survivor_name(link)
    match InvalidReason(link.invalid_reason):
        case InvalidReason.MERGED if survivor:
            return f"{name} was merged into {survivor} in Xero."
        case InvalidReason.MERGED:
            return (
                f"{name} was merged in Xero into a contact omni-xero has not fetched yet: "
                "Check links fetches it."
            )
        case InvalidReason.ARCHIVED:
            return f"{name} is archived in Xero: restore it there, or unlink it."
        case InvalidReason.DELETED:
            return f"{name} no longer exists in Xero: unlink it and link another contact."
        case InvalidReason.GDPR:
            return f"{name} is under a GDPR request in Xero and cannot be used: unlink it."


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

    def row(badge: Badge, reason: str, actions: set[str], buttons: tuple[str, ...]) -> RowState:
        """The row, with the buttons of its own that its actions allow ("restore" is always
        allowed: it only opens Xero)."""
        allowed = can(actions) | {"restore"}
        shown = tuple(button for button in buttons if button in allowed)
        survivor = survivor_name(link) if link is not None else ""
        return RowState(badge, reason, can(actions), buttons=shown, survivor=survivor)

    if link is not None and not link.is_valid:
        # Whatever an earlier upload did, the link cannot be used now: never "Uploaded".
        relink = {"relink"} if link.merged_into_xero_contact_id else set()
        # Its own Relink names the survivor, so it is offered once the mirror has that.
        buttons: tuple[str, ...] = ("relink",) if survivor_name(link) else ()
        if link.invalid_reason == InvalidReason.ARCHIVED:
            buttons += ("restore",)
        return row(
            invalid_badge(link), invalid_line(link), {"unlink", *relink}, (*buttons, "unlink")
        )
    if upload is not None and upload in UploadRow.PENDING:
        label = UploadRow.State(upload).label
        pending = {"unlink"} if link else set()
        return row(Badge(label, Tone.PENDING), "", pending, ("unlink",))
    if link is None:
        if upload in (UploadRow.State.FAILED, UploadRow.State.DUPLICATE):
            # Its result says why, and offers what Xero has; uploading again stays possible.
            return row(Badge("Not uploaded", Tone.BAD), "", {"link", "upload"}, ("upload",))
        reason = (
            "It was uploaded to Xero, then unlinked: link it again or upload it."
            if upload == UploadRow.State.DONE
            else ""
        )
        return row(NO_LINK, reason, {"link", "upload"}, ("upload",))
    if changed:
        return row(
            Badge("Changed", Tone.CHANGED),
            "Its details in Omni differ from what was last uploaded to Xero: Upload sends them.",
            {"upload", "unlink"},
            ("upload", "unlink"),
        )
    label = "Uploaded" if upload == UploadRow.State.DONE else "Linked"
    # Uploading an unchanged contact sends nothing: the row offers only Unlink.
    return row(Badge(label, Tone.OK), "", {"upload", "unlink"}, ("unlink",))


def contact_row_of(contact: Any, links_of: XeroConnection | None) -> RowState:
    """contact_row for a contact as the lists read it (SyncContact with_link and its upload
    result): `links_of` is the organisation whose link it shows."""
    result = contact.upload_result
    return contact_row(
        link=contact.link,
        connection=connection_state(links_of),
        upload=result.state if result else None,
        changed=contact.is_changed,
        organisation=links_of.organisation_name if links_of else "",
    )


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
    xero_paid: Decimal | None = None,
    xero_due: Decimal | None = None,
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
    elif state == SyncState.SYNCED and xero_status == PAID_IN_XERO:
        badge, reason, actions = Badge("Paid in Xero", Tone.OK), "", {"reset"}
    elif state == SyncState.SYNCED and xero_paid:
        badge = Badge("Part paid in Xero", Tone.CHANGED)
        reason = f"{xero_paid:,.2f} paid, {xero_due or 0:,.2f} due in Xero."
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


def transaction_row_of(transaction: Any, connection: XeroConnection | None) -> TransactionRowState:
    """transaction_row for a transaction as the subtab's list annotates it (its contact's link
    and its document's status in the organisation shown)."""
    return transaction_row(
        sync_state=transaction.sync_state,
        link_status=getattr(transaction, "link_status", None),
        invalid_reason=getattr(transaction, "link_invalid_reason", None) or "",
        connection=connection_state(connection),
        xero_status=getattr(transaction, "xero_status", None),
        xero_paid=getattr(transaction, "xero_paid", None),
        xero_due=getattr(transaction, "xero_due", None),
    )


# What each payable document is called on a payment's row.
DOCUMENT_WORDS = {
    TransactionType.SALES_INVOICE: "invoice",
    TransactionType.SUPPLIER_INVOICE: "bill",
    TransactionType.SALES_CREDIT_NOTE: "credit note",
    TransactionType.SUPPLIER_CREDIT_NOTE: "credit note",
}


def payment_row(*, sync_state: str, transaction_type: str, last_error: str) -> RowState:
    """A payment's row: its badge, the one line of why (Xero's reason for a refused one,
    what it waits for), and whether Upload applies."""
    state = PaymentState(sync_state)
    if state == PaymentState.WAITING:
        word = DOCUMENT_WORDS.get(TransactionType(transaction_type), "document")
        badge = Badge(f"Waiting for its {word}", Tone.PENDING)
        reason = last_error or f"It goes once its {word} is synced to Xero."
    else:
        badge = Badge(state.label, f"state-{state}")
        reason = "" if state == PaymentState.SYNCED else last_error
    actions = frozenset() if state == PaymentState.SYNCED else frozenset({"upload"})
    return RowState(badge, reason, actions)
