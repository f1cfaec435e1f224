"""The Errors view's fixes (Relink, Upload, Unlink on the contacts selected there, Re-sync once
the cause is gone) and the Discrepancies view's Mark resolved and Reset, against the sandbox
where Xero is called."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from sync.links import mirror
from sync.links.services import contact_link
from sync.models import (
    AccountMapping,
    ContactLink,
    InvalidReason,
    LinkEvent,
    LinkMethod,
    LinkStatus,
    SyncItem,
    SyncRun,
    SyncSettings,
    TransactionEvent,
)
from sync.syncing import errors
from tests.factories import (
    ChartAccountFactory,
    ContactFactory,
    ContactLinkFactory,
    LineItemFactory,
    MirroredDocumentFactory,
    SyncItemFactory,
    SyncRunFactory,
    TaxRateFactory,
    TransactionFactory,
)
from transactions.models import SyncState, Transaction

pytestmark = pytest.mark.django_db

ERRORS = reverse("sync:errors")
FIX = reverse("sync:errors_fix")
DISCREPANCIES = reverse("sync:discrepancies")


def refused(contact, connection, refusal=SyncItem.Refusal.UNLINKED, message="Not linked.", **line):
    """A transaction of the contact a sync refused, with the reason."""
    txn = TransactionFactory(contact=contact, sync_state=SyncState.REFUSED)
    LineItemFactory(transaction=txn, **line)
    SyncItemFactory(
        run=SyncRunFactory(connection=connection),
        transaction=txn,
        state=SyncItem.State.REFUSED,
        refusal=refusal,
        message=message,
    )
    return txn


def section(html: str, contact) -> str:
    """The contact's entry on the Errors view, without the <bdi> around outside names."""
    match = re.search(rf'<section [^>]*id="problems-{contact.pk}".*?</section>', html, re.S)
    assert match, contact.name
    return re.sub("</?bdi>", "", match.group(0))


def linked(contact, connection, xero_id, name):
    return contact_link(
        contact=contact,
        connection=connection,
        xero_contact_id=xero_id,
        xero_name=name,
        method=LinkMethod.EXISTING,
        user=None,
    )


# --- Fixes in bulk -----------------------------------------------------------------------------


def test_relink_on_errors_moves_the_merged_one_and_says_why_the_others_were_skipped(
    connection, sandbox, accountant_client, accountant
):
    old, survivor, archived = sandbox.seed_contacts(
        sandbox.demo_tenant_id,
        [{"Name": "Bayview Cafe"}, {"Name": "Bayview Cafe Ltd"}, {"Name": "Moa Motors Ltd"}],
    )
    mirror.xero_contacts_refresh(connection=connection)
    bayview = ContactFactory(name="Bayview Cafe")
    moa = ContactFactory(name="Moa Motors")
    kea = ContactFactory(name="Kea Outfitters")
    linked(bayview, connection, old, "Bayview Cafe")
    linked(moa, connection, archived, "Moa Motors Ltd")
    sandbox.merge(old, into=survivor)
    sandbox.archive(archived)
    mirror.xero_contacts_refresh(connection=connection)  # both links go bad
    for contact in (bayview, moa, kea):
        refused(contact, connection)

    response = accountant_client.post(
        FIX, {"action": "relink", "contact": [bayview.pk, moa.pk, kea.pk]}, follow=True
    )

    html = response.content.decode()
    assert "Bayview Cafe: done. Now linked to Bayview Cafe Ltd." in section(html, bayview)
    assert "Moa Motors: skipped. Not linked to a merged Xero contact" in section(html, moa)
    assert "archived in Xero" in section(html, moa)
    assert "Kea Outfitters: skipped. It has no linked contact." in section(html, kea)
    link = ContactLink.objects.get(contact=bayview)
    assert str(link.xero_contact_id) == survivor and link.is_valid
    assert LinkEvent.objects.get(action="relink").actor == accountant
    assert not ContactLink.objects.get(contact=moa).is_valid


def test_upload_on_errors_creates_the_unlinked_contact_and_skips_the_invalid_link(
    connection, sandbox, accountant_client
):
    (archived,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Moa Motors Ltd"}])
    mirror.xero_contacts_refresh(connection=connection)
    moa = ContactFactory(name="Moa Motors")
    linked(moa, connection, archived, "Moa Motors Ltd")
    sandbox.archive(archived)
    mirror.xero_contacts_refresh(connection=connection)
    kea = ContactFactory(name="Kea Outfitters Unique")
    refused(kea, connection)
    refused(moa, connection)

    html = accountant_client.post(
        FIX, {"action": "upload", "contact": [kea.pk, moa.pk]}, follow=True
    ).content.decode()

    assert "Kea Outfitters Unique: done. Uploaded to Xero and linked." in section(html, kea)
    assert "Moa Motors: skipped." in section(html, moa)
    assert "archived in Xero" in section(html, moa)
    assert ContactLink.objects.get(contact=kea).is_valid
    found = sandbox.call("GET", f"/_sandbox/organisations/{sandbox.demo_tenant_id}/contacts")
    names = [c["Name"] for c in found]
    assert names.count("Kea Outfitters Unique") == 1 and "Moa Motors" not in names


def test_unlink_on_errors_asks_first_then_unlinks_and_skips_the_unlinked(
    connection, accountant_client, accountant
):
    moa = ContactFactory(name="Moa Motors")
    ContactLinkFactory(
        contact=moa,
        connection=connection,
        xero_name="Moa Motors Ltd",
        status=LinkStatus.INVALID,
        invalid_reason=InvalidReason.ARCHIVED,
    )
    kea = ContactFactory(name="Kea Outfitters")
    refused(kea, connection)
    chosen = {"action": "unlink", "contact": [moa.pk, kea.pk]}

    confirm = accountant_client.post(FIX, chosen).content.decode()

    assert "Unlink 2 contacts?" in confirm and "Moa Motors Ltd" in confirm
    assert "has no linked contact: it is skipped" in confirm
    assert ContactLink.objects.filter(contact=moa).exists()

    html = accountant_client.post(FIX, chosen | {"confirmed": "yes"}, follow=True).content.decode()

    assert not ContactLink.objects.filter(contact=moa).exists()
    assert LinkEvent.objects.get(action="unlink").actor == accountant
    assert "Moa Motors: done. Unlinked from Moa Motors Ltd." in html  # its row left the list
    assert "Kea Outfitters: skipped. It has no linked contact." in section(html, kea)


def test_a_fix_posted_from_another_organisations_page_does_nothing(connection, accountant_client):
    moa = ContactLinkFactory(connection=connection).contact
    refused(moa, connection)
    chosen = {"action": "unlink", "confirmed": "yes", "contact": [moa.pk]}

    html = accountant_client.post(
        FIX, chosen | {"connection": connection.pk + 1}, follow=True
    ).content.decode()

    assert "nothing was done" in html
    assert ContactLink.objects.filter(contact=moa).exists()


def test_viewers_cannot_fix_from_errors(connection, viewer_client):
    moa = ContactLinkFactory(connection=connection).contact
    refused(moa, connection)
    html = viewer_client.get(ERRORS).content.decode()
    assert 'name="contact"' not in html and "Relink to survivor" not in html
    assert viewer_client.post(FIX, {"action": "unlink", "contact": [moa.pk]}).status_code == 403
    assert ContactLink.objects.filter(contact=moa).exists()


# --- Re-sync once the cause is gone ------------------------------------------------------------


@pytest.fixture
def chart(connection):
    ChartAccountFactory(connection=connection, code="200", name="Sales")
    TaxRateFactory(connection=connection, tax_type="OUTPUT2", name="GST on Income")


def test_resync_is_hidden_while_the_contact_is_unlinked_and_offered_once_linked(
    connection, chart, accountant_client
):
    kea = ContactFactory(name="Kea Outfitters")
    txn = refused(kea, connection, tax_type="OUTPUT2")

    entry = section(accountant_client.get(ERRORS).content.decode(), kea)
    assert "Re-sync" not in entry.replace("Re-sync once fixed", "")
    assert "Re-sync once fixed: Kea Outfitters isn&#x27;t linked to a Xero contact." in entry
    accountant_client.post(reverse("sync:errors_resync", args=[kea.pk]))
    assert not SyncItem.objects.filter(transaction=txn, state=SyncItem.State.QUEUED).exists()

    ContactLinkFactory(contact=kea, connection=connection)

    entry = section(accountant_client.get(ERRORS).content.decode(), kea)
    assert "Re-sync 1 refused" in entry and "Fixed: it can be synced again." in entry
    accountant_client.post(reverse("sync:errors_resync", args=[kea.pk]))
    assert SyncRun.objects.latest("pk").items.get().transaction == txn


def test_resync_waits_for_the_tax_mapping_to_be_fixed(connection, chart, accountant_client):
    kea = ContactFactory(name="Kea Outfitters")
    ContactLinkFactory(contact=kea, connection=connection)
    txn = refused(kea, connection, SyncItem.Refusal.TAX, "Tax type 'GONE' ...", tax_type="GONE")

    entry = section(accountant_client.get(ERRORS).content.decode(), kea)
    assert "Re-sync 1" not in entry and "Re-sync once fixed: Tax type &#x27;GONE&#x27;" in entry

    AccountMapping.objects.create(
        connection=connection, transaction_type=txn.type, tax_type="OUTPUT2"
    )

    assert "Re-sync 1 refused" in section(accountant_client.get(ERRORS).content.decode(), kea)


def test_errors_is_paged_by_contact_and_shows_a_bounded_number_of_each(connection, viewer_client):
    busy = ContactFactory(name="Aaa Busy Ltd")
    for _ in range(errors.TRANSACTIONS_SHOWN + 3):
        refused(busy, connection)
    others = [ContactFactory(name=f"Contact {n:02d}") for n in range(errors.CONTACTS_PER_PAGE)]
    for contact in others:
        refused(contact, connection)

    first = viewer_client.get(ERRORS).content.decode()
    second = viewer_client.get(ERRORS + "?page=2").content.decode()

    assert first.count('<tr id="problem-transaction-') == errors.TRANSACTIONS_SHOWN + 19
    assert "And 3 more failed or refused, not shown" in section(first, busy)
    assert f'id="problems-{others[-1].pk}"' not in first
    assert f'id="problems-{others[-1].pk}"' in second and "Page 2 of 2" in second


def test_a_fix_on_all_contacts_with_errors_reaches_every_page(connection, accountant_client):
    count = errors.CONTACTS_PER_PAGE + 3
    archived = []
    for n in range(count):
        contact = ContactFactory(name=f"Moa {n:02d}")
        ContactLinkFactory(
            contact=contact,
            connection=connection,
            xero_name=f"Moa {n:02d} Ltd",
            status=LinkStatus.INVALID,
            invalid_reason=InvalidReason.ARCHIVED,
        )
        archived.append(contact)
    page = accountant_client.get(ERRORS).content.decode()
    assert f"Select all {count} matching contacts with errors (every page)" in page

    everything = {"action": "unlink", "scope": "matching"}
    confirm = accountant_client.post(FIX, everything).content.decode()
    assert f"Unlink {count} contacts?" in confirm and f"and {count - 20} more" in confirm
    assert 'name="scope" value="matching"' in confirm and 'name="contact"' not in confirm

    accountant_client.post(FIX, everything | {"confirmed": "yes"})
    assert not ContactLink.objects.filter(contact__in=archived).exists()


# --- Discrepancies -----------------------------------------------------------------------------


def synced(connection, status="VOIDED", **document):
    mirrored = MirroredDocumentFactory(connection=connection, status=status, **document)
    txn = TransactionFactory(
        sync_state=SyncState.SYNCED,
        number=mirrored.number,
        xero_id=mirrored.document_id,
        xero_number=mirrored.number,
    )
    LineItemFactory(transaction=txn, quantity=Decimal("1"), unit_price=Decimal("100"))
    mirrored.total = txn.totals.total
    mirrored.save()
    SyncSettings.objects.update_or_create(
        connection=connection, defaults={"documents_checked_at": timezone.now()}
    )
    return txn, mirrored


def test_a_discrepancy_marked_resolved_is_audited_hidden_and_shown_with_show_resolved(
    connection, accountant_client, accountant
):
    txn, document = synced(connection)
    assert f'id="discrepancy-{txn.pk}"' in accountant_client.get(DISCREPANCIES).content.decode()

    accountant_client.post(reverse("sync:discrepancy_resolve"), {"transaction": txn.pk})

    event = TransactionEvent.objects.get(action=TransactionEvent.Action.RESOLVE)
    assert (event.transaction, event.actor, event.discrepancy) == (txn, accountant, "voided")
    assert f'id="discrepancy-{txn.pk}"' not in accountant_client.get(DISCREPANCIES).content.decode()
    shown = accountant_client.get(DISCREPANCIES + "?resolved=1").content.decode()
    row = re.search(rf'<tr id="discrepancy-{txn.pk}">.*?</tr>', shown, re.S).group(0)
    row = re.sub("</?bdi>", "", row)
    assert "Resolved by Alex Accountant" in row and "Mark resolved" not in row

    document.status, document.amount_paid = "AUTHORISED", Decimal("10")
    document.save()  # paid since: another discrepancy, listed again

    assert f'id="discrepancy-{txn.pk}"' in accountant_client.get(DISCREPANCIES).content.decode()


def test_reset_for_resync_on_discrepancies_makes_the_transaction_ready(
    connection, accountant_client, accountant
):
    txn, _ = synced(connection, "DELETED")

    accountant_client.post(reverse("sync:discrepancy_reset"), {"transaction": txn.pk})

    txn.refresh_from_db()
    assert txn.sync_state == SyncState.READY and txn.xero_id is not None  # updated, not new
    event = TransactionEvent.objects.get()
    assert (event.action, event.actor) == (TransactionEvent.Action.RESET, accountant)
    assert f'id="discrepancy-{txn.pk}"' not in accountant_client.get(DISCREPANCIES).content.decode()


def test_viewers_neither_resolve_nor_reset(connection, viewer_client):
    txn, _ = synced(connection)
    html = viewer_client.get(DISCREPANCIES).content.decode()
    assert "Mark resolved" not in html and "Reset for re-sync" not in html
    for name in ("sync:discrepancy_resolve", "sync:discrepancy_reset"):
        assert viewer_client.post(reverse(name), {"transaction": txn.pk}).status_code == 403
    assert not TransactionEvent.objects.exists()
    assert Transaction.objects.get(pk=txn.pk).sync_state == SyncState.SYNCED
