"""What a row shows (sync.dashboard.rows): every combination of link, connection and last
upload or sync, and the badge it gets; and the pages that once contradicted themselves."""

import re
import uuid

import pytest
from django.urls import reverse

from sync.dashboard.rows import Connection, contact_row, transaction_row
from sync.models import ConnectionStatus, ContactLink, InvalidReason, LinkStatus, UploadRow
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    MirroredDocumentFactory,
    TransactionFactory,
    UploadRowFactory,
    XeroConnectionFactory,
    XeroContactFactory,
)
from transactions.models import SyncState

CUSTOMERS = reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "customers"})
INVOICES = reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "invoices"})


def link_of(kind: str) -> ContactLink | None:
    """A link as a row has it (unsaved: the function reads it, nothing else)."""
    if kind == "none":
        return None
    if kind in ("valid", "changed"):
        return ContactLink(xero_name="Tui Books Ltd", status=LinkStatus.VALID)
    link = ContactLink(
        xero_name="Tui Books Ltd", status=LinkStatus.INVALID, invalid_reason=InvalidReason(kind)
    )
    if kind == InvalidReason.MERGED:
        link.merged_into_xero_contact_id = uuid.uuid4()
        link.survivor_name = "Tui Group"  # type: ignore[attr-defined]
    return link


UPLOADS = [None, *UploadRow.State.values]  # None: no upload, or none that is news
# The badge of each link (row) for each latest upload (column, in UPLOADS' order: none,
# queued, sending, done, failed, duplicate, skipped), the organisation connected.
CONTACT_BADGES = {
    "none": [
        "No linked contact",
        "Waiting to upload",
        "Uploading",
        "No linked contact",  # uploaded, then unlinked: never "Uploaded"
        "Not uploaded",
        "Not uploaded",
        "No linked contact",
    ],
    "valid": [
        "Linked",
        "Waiting to upload",
        "Uploading",
        "Uploaded",
        "Linked",  # failed or a duplicate since: the row's result says why
        "Linked",
        "Linked",
    ],
    "changed": [
        "Changed",
        "Waiting to upload",
        "Uploading",
        "Changed",  # uploaded, then changed again in Omni
        "Changed",
        "Changed",
        "Changed",
    ],
    # An invalid link wins over whatever an upload did: it cannot be used.
    "archived": ["Archived in Xero"] * 7,
    "merged": ["Merged into Tui Group"] * 7,
    "deleted": ["Deleted from Xero"] * 7,
    "gdpr": ["GDPR request"] * 7,
}
CONTACT_TABLE = [
    (kind, upload, badge)
    for kind, badges in CONTACT_BADGES.items()
    for upload, badge in zip(UPLOADS, badges, strict=True)
]


def shown(badge) -> str:
    return f"{badge.label} {badge.name}".strip()


@pytest.mark.parametrize(("kind", "upload", "badge"), CONTACT_TABLE)
def test_every_contact_row_state_gets_its_badge(kind, upload, badge):
    for connection in (Connection.ACTIVE, Connection.PENDING, Connection.NEEDS_RECONNECT):
        state = contact_row(
            link=link_of(kind), connection=connection, upload=upload, changed=kind == "changed"
        )
        assert shown(state.badge) == badge
        if connection != Connection.ACTIVE:  # nothing goes to Xero; unlinking is ours
            assert state.actions <= {"unlink"}


@pytest.mark.parametrize(("kind", "upload", "_"), CONTACT_TABLE)
def test_every_contact_row_without_a_connection_says_so(kind, upload, _):
    never = contact_row(link=None, connection=Connection.NONE, upload=upload, changed=False)
    assert (shown(never.badge), never.actions) == ("No linked contact", frozenset())
    kept = contact_row(
        link=link_of(kind),
        connection=Connection.DISCONNECTED,
        upload=upload,
        changed=kind == "changed",
        organisation="Demo Company (NZ)",
    )
    assert kept.actions == frozenset()
    if kind == "none":
        assert shown(kept.badge) == "No linked contact"
    else:
        assert shown(kept.badge) == "Link kept"
        assert "Linked to Tui Books Ltd in Demo Company (NZ)" in kept.reason


@pytest.mark.parametrize(
    ("kind", "actions"),
    [
        ("none", {"link", "upload"}),
        ("valid", {"upload", "unlink"}),
        ("changed", {"upload", "unlink"}),
        ("archived", {"unlink"}),
        ("merged", {"unlink", "relink"}),
        ("deleted", {"unlink"}),
        ("gdpr", {"unlink"}),
    ],
)
def test_each_contact_row_offers_the_actions_that_fit(kind, actions):
    state = contact_row(
        link=link_of(kind), connection=Connection.ACTIVE, upload=None, changed=kind == "changed"
    )
    assert state.actions == actions


LINKS = [None, LinkStatus.VALID, LinkStatus.INVALID]
XERO = [None, "AUTHORISED", "VOIDED", "DELETED"]  # its document's status in the local copy
# The badge of each sync state and contact link (row) for each status in Xero (column, in
# XERO's order), the organisation connected.
BLOCKED = "Blocked by its contact"
TRANSACTION_BADGES = {
    (SyncState.READY, None): [BLOCKED] * 4,
    (SyncState.READY, LinkStatus.VALID): ["Ready to sync"] * 4,
    (SyncState.READY, LinkStatus.INVALID): [BLOCKED] * 4,
    # Refused already: it says so, its last error why, and its contact's badge what blocks.
    **{(SyncState.REFUSED, link): ["Refused"] * 4 for link in LINKS},
    **{
        (SyncState.SYNCED, link): ["Synced", "Synced", "Voided in Xero", "Deleted in Xero"]
        for link in LINKS
    },
    **{(SyncState.FAILED, link): ["Failed"] * 4 for link in LINKS},
    **{(SyncState.SKIPPED, link): ["Skipped"] * 4 for link in LINKS},
}
CONTACT_OF_TRANSACTION = {
    None: "Contact not linked",
    LinkStatus.VALID: "Contact linked",
    LinkStatus.INVALID: "Contact's link invalid",
}
TRANSACTION_TABLE = [
    (sync_state, link, xero, badge)
    for (sync_state, link), badges in TRANSACTION_BADGES.items()
    for xero, badge in zip(XERO, badges, strict=True)
]


@pytest.mark.parametrize(("sync_state", "link", "xero", "badge"), TRANSACTION_TABLE)
def test_every_transaction_row_state_gets_its_badge(sync_state, link, xero, badge):
    state = transaction_row(
        sync_state=sync_state,
        link_status=link,
        invalid_reason=InvalidReason.ARCHIVED if link == LinkStatus.INVALID else "",
        connection=Connection.ACTIVE,
        xero_status=xero,
    )
    assert shown(state.badge) == badge
    assert shown(state.contact) == CONTACT_OF_TRANSACTION[link]
    if badge == BLOCKED:
        assert "upload" not in state.actions and state.contact.tone == "bad"
    if link == LinkStatus.INVALID:
        assert state.contact_reason.startswith("Archived in Xero")
    # Without a connection, its state in Omni, and nothing said of a link it cannot see.
    for connection in (Connection.NONE, Connection.DISCONNECTED):
        offline = transaction_row(
            sync_state=sync_state,
            link_status=None,
            invalid_reason="",
            connection=connection,
            xero_status=None,
        )
        assert shown(offline.badge) == SyncState(sync_state).label
        assert (shown(offline.contact), offline.actions) == ("Not connected", frozenset())


# --- The pages: what once contradicted itself --------------------------------------------------


def row(html: str, prefix: str, pk: int) -> str:
    match = re.search(rf'<tr id="{prefix}-{pk}">.*?</tr>', html, re.S)
    assert match, f"no row {prefix}-{pk}"
    return match.group(0)


@pytest.mark.django_db
def test_an_uploaded_contact_unlinked_or_invalid_since_has_no_uploaded_badge(viewer_client):
    connection = XeroConnectionFactory()
    unlinked = ContactFactory(name="Tui Books")
    invalid = ContactFactory(name="Harbour Cafe")
    still = ContactFactory(name="Bayview Cafe")
    for contact in (unlinked, invalid, still):
        TransactionFactory(contact=contact)
        UploadRowFactory(job__connection=connection, contact=contact, state=UploadRow.State.DONE)
    ContactLinkFactory(
        contact=invalid,
        connection=connection,
        status=LinkStatus.INVALID,
        invalid_reason=InvalidReason.ARCHIVED,
    )
    # Uploaded: its details in Xero are those it has in Omni.
    ContactLinkFactory(
        contact=still, connection=connection, uploaded_fingerprint=still.details_fingerprint
    )
    page = viewer_client.get(CUSTOMERS).content.decode()
    for contact in (unlinked, invalid):
        assert "Uploaded" not in row(page, "contact", contact.pk)
        assert "badge ok" not in row(page, "contact", contact.pk)
    assert "It was uploaded to Xero, then unlinked" in row(page, "contact", unlinked.pk)
    assert "Archived in Xero</span>" in row(page, "contact", invalid.pk)
    assert '<span class="badge ok">Uploaded</span>' in row(page, "contact", still.pk)


@pytest.mark.django_db
def test_after_disconnect_the_rows_show_their_links_as_kept(viewer_client):
    connection = XeroConnectionFactory(
        organisation_name="Demo Company (NZ)", status=ConnectionStatus.DISCONNECTED
    )
    linked = ContactFactory(name="Tui Books")
    TransactionFactory(contact=linked)
    ContactLinkFactory(contact=linked, connection=connection, xero_name="Tui Books Ltd")
    never = ContactFactory(name="Bayview Cafe")
    TransactionFactory(contact=never)

    page = viewer_client.get(CUSTOMERS).content.decode()
    kept = row(page, "contact", linked.pk)
    assert "No linked contact" not in kept
    assert '<span class="muted">Link kept</span>' in kept
    assert "in Demo Company (NZ), which is disconnected" in kept
    assert "Unlink" not in kept  # nothing can be done until it is connected again
    assert "No linked contact" in row(page, "contact", never.pk)
    detail = viewer_client.get(
        reverse("sync:contact_detail", kwargs={"tab": "sales", "pk": linked.pk})
    ).content.decode()
    assert "Link kept" in detail and "No linked contact" not in detail


@pytest.mark.django_db
def test_a_transaction_voided_in_xero_since_its_sync_no_longer_says_synced(viewer_client):
    connection = XeroConnectionFactory()
    contact = ContactFactory()
    ContactLinkFactory(contact=contact, connection=connection)
    voided = TransactionFactory(
        contact=contact, sync_state=SyncState.SYNCED, xero_id=uuid.uuid4(), number="INV-0001"
    )
    MirroredDocumentFactory(connection=connection, document_id=voided.xero_id, status="VOIDED")
    still = TransactionFactory(
        contact=contact, sync_state=SyncState.SYNCED, xero_id=uuid.uuid4(), number="INV-0002"
    )
    MirroredDocumentFactory(connection=connection, document_id=still.xero_id)

    page = viewer_client.get(INVOICES).content.decode()
    assert ">Synced<" not in row(page, "transaction", voided.pk)
    assert '<span class="badge bad">Voided in Xero</span>' in row(page, "transaction", voided.pk)
    assert "Reset it to sync it again" in row(page, "transaction", voided.pk)
    assert '<span class="badge state-synced">Synced</span>' in row(page, "transaction", still.pk)


@pytest.mark.django_db
def test_each_transaction_row_says_whether_its_contact_can_go(viewer_client):
    connection = XeroConnectionFactory()
    survivor = XeroContactFactory(connection=connection)
    good, unlinked, invalid = ContactFactory(), ContactFactory(), ContactFactory()
    ContactLinkFactory(contact=good, connection=connection)
    ContactLinkFactory(
        contact=invalid,
        connection=connection,
        status=LinkStatus.INVALID,
        invalid_reason=InvalidReason.MERGED,
        merged_into_xero_contact_id=survivor.contact_id,
    )
    rows = {c: TransactionFactory(contact=c) for c in (good, unlinked, invalid)}
    page = viewer_client.get(INVOICES).content.decode()
    assert '<span class="badge ok">Contact linked</span>' in row(page, "transaction", rows[good].pk)
    assert "Ready to sync" in row(page, "transaction", rows[good].pk)
    blocked = row(page, "transaction", rows[unlinked].pk)
    assert "Contact not linked</span>" in blocked and "Blocked by its contact" in blocked
    assert "Link its contact to a Xero contact" in blocked
    merged = row(page, "transaction", rows[invalid].pk)
    assert "Contact&#x27;s link invalid</span>" in merged
    assert "Merged into another Xero contact: fix the link" in merged


@pytest.mark.parametrize(
    ("kind", "buttons", "line"),
    [
        ("merged", ("relink", "unlink"), "Tui Books Ltd was merged into Tui Group in Xero."),
        ("archived", ("restore", "unlink"), "Tui Books Ltd is archived in Xero: restore it"),
        ("deleted", ("unlink",), "Tui Books Ltd no longer exists in Xero: unlink it"),
        ("gdpr", ("unlink",), "Tui Books Ltd is under a GDPR request in Xero"),
    ],
)
def test_an_invalid_row_says_what_happened_in_one_line_and_offers_its_ways_out(kind, buttons, line):
    state = contact_row(
        link=link_of(kind), connection=Connection.ACTIVE, upload=None, changed=False
    )
    assert state.reason.startswith(line) and "\n" not in state.reason
    assert state.buttons == buttons
    assert state.survivor == ("Tui Group" if kind == "merged" else "")
    # Until the connection works again, only unlinking and opening Xero are offered.
    waiting = contact_row(
        link=link_of(kind), connection=Connection.NEEDS_RECONNECT, upload=None, changed=False
    )
    assert waiting.buttons == tuple(b for b in buttons if b in ("restore", "unlink"))


def test_a_merged_row_whose_survivor_is_not_mirrored_yet_offers_no_relink_to_it():
    link = link_of("merged")
    link.survivor_name = None  # type: ignore[attr-defined]
    state = contact_row(link=link, connection=Connection.ACTIVE, upload=None, changed=False)
    assert shown(state.badge) == "Merged into another Xero contact"
    assert "has not fetched yet: Check links fetches it" in state.reason
    assert state.buttons == ("unlink",) and "relink" in state.actions  # the bar says why not


@pytest.mark.parametrize(
    ("kind", "upload", "buttons"),
    [
        ("none", None, ("upload",)),
        ("none", UploadRow.State.FAILED, ("upload",)),
        ("none", UploadRow.State.QUEUED, ()),
        ("changed", None, ("upload", "unlink")),
        ("valid", None, ("unlink",)),  # nothing to send: no Upload of its own
        ("valid", UploadRow.State.SENDING, ("unlink",)),
    ],
)
def test_a_row_offers_its_own_upload_only_when_it_has_something_to_send(kind, upload, buttons):
    state = contact_row(
        link=link_of(kind), connection=Connection.ACTIVE, upload=upload, changed=kind == "changed"
    )
    assert state.buttons == buttons


@pytest.mark.django_db
def test_an_archived_row_links_to_its_contact_in_xero_to_restore_it(accountant_client):
    connection = XeroConnectionFactory()
    contact = ContactFactory(name="Kauri Coast")
    TransactionFactory(contact=contact)
    link = ContactLinkFactory(
        contact=contact,
        connection=connection,
        status=LinkStatus.INVALID,
        invalid_reason=InvalidReason.ARCHIVED,
    )
    html = row(accountant_client.get(CUSTOMERS).content.decode(), "contact", contact.pk)
    restore = f'href="https://go.xero.com/Contacts/View/{link.xero_contact_id}" target="_blank"'
    assert restore in html and ">Restore in Xero</a>" in html
    assert 'aria-label="Unlink Kauri Coast"' in html and "Relink" not in html
