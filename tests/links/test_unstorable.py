"""One bad record from Xero never stops an organisation: text a database refuses is cleaned
on its way in, and a contact that still cannot be stored is left out, shown on the Errors
view, while the rest of the refresh and the syncs go on (most telling on PostgreSQL)."""

import pytest
from django.db import connection as db
from django.urls import reverse

from sync.links import mirror
from sync.models import UnmirroredContact, XeroContact
from sync.syncing import runs
from tests.factories import ContactFactory
from tests.syncing.test_sync import linked, transaction_of
from transactions.models import SyncState

pytestmark = pytest.mark.django_db

REFUSED_NAME = "Refused Rentals Ltd"


def test_a_nul_in_a_xero_contacts_name_stops_neither_the_refresh_nor_a_sync(connection, sandbox):
    kea = linked(connection, sandbox, ContactFactory(name="Kea Outfitters"))
    nul, surrogate = sandbox.seed_contacts(
        sandbox.demo_tenant_id, [{"Name": "Tui\x00 Books"}, {"Name": "Half\ud800 Pair Ltd"}]
    )

    result = mirror.xero_contacts_refresh(connection=connection)

    assert result.received == XeroContact.objects.count() == 3
    tui = XeroContact.objects.get(contact_id=nul)
    assert (tui.name, tui.cleaned_fields) == ("Tui Books", "name")
    half = XeroContact.objects.get(contact_id=surrogate)
    assert (half.name, half.cleaned_fields) == ("Half\ufffd Pair Ltd", "name")
    assert XeroContact.objects.get(name="Kea Outfitters").cleaned_fields == ""
    connection.refresh_from_db()
    assert connection.contacts_refresh_error == ""

    # A sync checks the links against a fresh mirror first: it goes.
    txn = transaction_of(kea)
    run = runs.sync_start(connection=connection, transactions=[txn])
    assert run is not None
    runs.sync_run(run=run)
    txn.refresh_from_db()
    assert txn.sync_state == SyncState.SYNCED, txn.last_error


@pytest.fixture
def database_refuses_a_name():
    """The mirror's table refuses one name, as a database refuses a row it cannot store."""
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse_name() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.name = '{REFUSED_NAME}' THEN RAISE EXCEPTION 'value refused'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse_name BEFORE INSERT OR UPDATE ON sync_xerocontact "
                "FOR EACH ROW EXECUTE FUNCTION refuse_name()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER refuse_name BEFORE INSERT ON sync_xerocontact "
                f"WHEN NEW.name = '{REFUSED_NAME}' BEGIN SELECT RAISE(ABORT, 'value refused'); END"
            )
    yield
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            cursor.execute("DROP TRIGGER refuse_name ON sync_xerocontact")
            cursor.execute("DROP FUNCTION refuse_name()")
        else:
            cursor.execute("DROP TRIGGER refuse_name")


def test_a_contact_the_database_refuses_is_left_out_and_shown_on_the_errors_view(
    connection, sandbox, viewer_client, database_refuses_a_name
):
    kea = linked(connection, sandbox, ContactFactory(name="Kea Outfitters"))
    sandbox.generate_contacts(sandbox.demo_tenant_id, 3)
    (refused,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": REFUSED_NAME}])

    result = mirror.xero_contacts_refresh(connection=connection)

    assert result.received == 5
    assert XeroContact.objects.count() == 4  # all but the refused one
    assert not XeroContact.objects.filter(contact_id=refused).exists()
    connection.refresh_from_db()
    assert connection.contacts_refresh_error == ""
    html = viewer_client.get(reverse("sync:errors")).content.decode()
    assert f"Xero contact “<bdi>{REFUSED_NAME}</bdi>” could not be mirrored: " in html
    assert "value refused" in html
    assert "Nothing to fix" not in html

    txn = transaction_of(kea)
    run = runs.sync_start(connection=connection, transactions=[txn])
    assert run is not None
    runs.sync_run(run=run)
    txn.refresh_from_db()
    assert txn.sync_state == SyncState.SYNCED, txn.last_error


def test_a_contact_left_out_is_no_problem_once_it_is_mirrored(connection, sandbox):
    (refused,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": REFUSED_NAME}])
    UnmirroredContact.objects.create(
        connection=connection, contact_id=refused, name=REFUSED_NAME, reason="value refused"
    )

    mirror.xero_contacts_refresh(connection=connection, full=True)

    assert XeroContact.objects.filter(contact_id=refused).exists()
    assert not UnmirroredContact.objects.exists()
