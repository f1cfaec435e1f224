"""sync 0012 gives today's transactions the organisation that sent them (the sync log says
which); those never sent, the only organisation, else the one their contact is linked in."""

import uuid
from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("sync", "0010_transaction_sync"), ("transactions", "0003_refused_state")]
AFTER = [("sync", "0012_transaction_organisation"), ("transactions", "0004_transaction_branch")]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def migrate():
    """Migrate to a state and hand back its models; the latest state again afterwards."""

    def to(targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    yield to
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def make(apps, *, organisations: int):
    """Organisations, one customer linked in the first, one linked in every one, and one
    transaction of theirs each."""
    XeroConnection = apps.get_model("sync", "XeroConnection")
    Contact = apps.get_model("contacts", "Contact")
    ContactLink = apps.get_model("sync", "ContactLink")
    Transaction = apps.get_model("transactions", "Transaction")
    connections = [
        XeroConnection.objects.create(organisation_name=f"Org {n}", tenant_id=uuid.uuid4())
        for n in range(organisations)
    ]
    only_first = Contact.objects.create(name="Rimu Traders", is_customer=True)
    everywhere = Contact.objects.create(name="Kauri Group", is_customer=True)
    for organisation in connections:
        for contact in [everywhere, *([only_first] if organisation == connections[0] else [])]:
            ContactLink.objects.create(
                contact=contact,
                connection=organisation,
                xero_contact_id=uuid.uuid4(),
                xero_name=contact.name,
                method="existing",
            )

    def transaction(number, contact):
        return Transaction.objects.create(
            contact=contact, type="sales_invoice", number=number, date=date(2026, 11, 1)
        )

    return connections, transaction, only_first, everywhere


def send(apps, transaction, organisation, state):
    SyncRun = apps.get_model("sync", "SyncRun")
    SyncItem = apps.get_model("sync", "SyncItem")
    run = SyncRun.objects.create(connection=organisation, state="done")
    SyncItem.objects.create(run=run, connection=organisation, transaction=transaction, state=state)


def settled(apps) -> dict[str, str]:
    rows = apps.get_model("sync", "TransactionOrganisation").objects.select_related(
        "transaction", "connection"
    )
    return {row.transaction.number: row.connection.organisation_name for row in rows}


def test_each_transaction_goes_to_the_organisation_that_sent_it_or_its_contacts(migrate):
    apps = migrate(BEFORE)
    (first, second), transaction, only_first, everywhere = make(apps, organisations=2)
    synced_by_second = transaction("INV-1", everywhere)
    send(apps, synced_by_second, second, "synced")  # the one that holds its document
    send(apps, synced_by_second, first, "refused")  # a later sync of the other tried it too
    refused_by_second = transaction("INV-2", everywhere)
    send(apps, refused_by_second, second, "refused")
    transaction("INV-3", only_first)  # never sent: its contact is linked in one
    transaction("INV-4", everywhere)  # never sent, linked in both: left to the rule

    assert settled(migrate(AFTER)) == {"INV-1": "Org 1", "INV-2": "Org 1", "INV-3": "Org 0"}


def test_with_one_organisation_every_transaction_is_its(migrate):
    apps = migrate(BEFORE)
    _, transaction, only_first, _ = make(apps, organisations=1)
    transaction("INV-5", only_first)
    transaction(
        "INV-6",
        apps.get_model("contacts", "Contact").objects.create(name="Unlinked", is_customer=True),
    )

    assert settled(migrate(AFTER)) == {"INV-5": "Org 0", "INV-6": "Org 0"}
