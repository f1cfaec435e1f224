"""The rule that says which organisation a transaction is for, and that every way of asking
it (a list's filter, one transaction's answer, the "none yet" list) gives the same answer."""

import pytest
from django.db import IntegrityError

from sync.models import ConnectionStatus, SyncItem, TransactionEvent, TransactionOrganisation
from sync.syncing.organisations import (
    MoveRefused,
    for_organisation,
    transaction_move,
    transaction_organisation,
    transactions_settle,
    without_organisation,
)
from tests.factories import (
    BranchOrganisationFactory,
    ContactFactory,
    ContactLinkFactory,
    SyncItemFactory,
    TransactionFactory,
    XeroConnectionFactory,
)
from transactions.models import Transaction

pytestmark = pytest.mark.django_db


def answers() -> dict[str, str | None]:
    """Each transaction's organisation, asked one at a time."""
    return {
        t.number: getattr(transaction_organisation(transaction=t), "organisation_name", None)
        for t in Transaction.objects.all()
    }


def assert_callers_agree(*connections) -> None:
    """The lists of each organisation and of none partition the transactions, as the
    one-at-a-time answers do."""
    one_by_one = answers()
    for connection in connections:
        listed = set(
            for_organisation(Transaction.objects.all(), connection).values_list("number", flat=True)
        )
        assert listed == {n for n, org in one_by_one.items() if org == connection.organisation_name}
    nowhere = set(without_organisation(Transaction.objects.all()).values_list("number", flat=True))
    assert nowhere == {n for n, org in one_by_one.items() if org is None}


def test_with_one_organisation_every_transaction_is_its():
    only = XeroConnectionFactory(organisation_name="Only Ltd")
    TransactionFactory(number="INV-1")  # its contact linked nowhere
    TransactionFactory(number="INV-2", branch="Napier")

    assert answers() == {"INV-1": "Only Ltd", "INV-2": "Only Ltd"}
    assert_callers_agree(only)


def test_with_several_the_branch_mapping_then_the_contacts_only_link_decide():
    north = XeroConnectionFactory(organisation_name="North Ltd")
    south = XeroConnectionFactory(organisation_name="South Ltd")
    both = ContactFactory()
    ContactLinkFactory(contact=both, connection=north)
    ContactLinkFactory(contact=both, connection=south)
    south_only = ContactLinkFactory(connection=south).contact
    BranchOrganisationFactory(branch="Auckland", connection=north)
    TransactionFactory(number="INV-MAPPED", contact=south_only, branch="Auckland")
    TransactionFactory(number="INV-LINKED", contact=south_only, branch="Napier")
    TransactionFactory(number="INV-BOTH", contact=both)
    TransactionFactory(number="INV-NONE")

    assert answers() == {
        "INV-MAPPED": "North Ltd",  # the branch's mapping comes first
        "INV-LINKED": "South Ltd",
        "INV-BOTH": None,  # linked in both: an admin chooses
        "INV-NONE": None,
    }
    assert_callers_agree(north, south)


def test_a_settled_transaction_stays_whatever_the_rule_says_now():
    north = XeroConnectionFactory(organisation_name="North Ltd")
    south = XeroConnectionFactory(organisation_name="South Ltd")
    txn = TransactionFactory(number="INV-7", branch="Auckland")
    mapping = BranchOrganisationFactory(branch="Auckland", connection=north)
    assert transactions_settle(connection=north, ids=[txn.pk]) == [txn.pk]
    mapping.connection = south
    mapping.save()

    assert answers() == {"INV-7": "North Ltd"}
    assert transactions_settle(connection=south, ids=[txn.pk]) == []
    assert_callers_agree(north, south)


def test_a_disconnected_organisation_takes_no_new_transactions():
    gone = XeroConnectionFactory(status=ConnectionStatus.DISCONNECTED)
    kept = XeroConnectionFactory(organisation_name="Kept Ltd")
    link = ContactLinkFactory(connection=gone)
    TransactionFactory(number="INV-8", contact=link.contact)

    assert answers() == {"INV-8": "Kept Ltd"}  # the one organisation still connected
    assert_callers_agree(gone, kept)


def test_the_database_refuses_a_second_organisation_for_one_transaction():
    txn = TransactionFactory()
    TransactionOrganisation.objects.create(transaction=txn, connection=XeroConnectionFactory())

    with pytest.raises(IntegrityError):
        TransactionOrganisation.objects.create(transaction=txn, connection=XeroConnectionFactory())


def test_a_transaction_waiting_in_a_sync_is_not_moved():
    north = XeroConnectionFactory(organisation_name="North Ltd")
    south = XeroConnectionFactory(organisation_name="South Ltd")
    item = SyncItemFactory(connection=north, run__connection=north, state=SyncItem.State.QUEUED)
    TransactionOrganisation.objects.create(transaction=item.transaction, connection=north)

    with pytest.raises(MoveRefused, match="is in a sync now"):
        transaction_move(transaction=item.transaction, connection=south, user=None)
    assert answers() == {item.transaction.number: "North Ltd"}


def test_choosing_the_organisation_of_one_the_rule_cannot_place_is_audited(admin_user):
    XeroConnectionFactory(organisation_name="North Ltd")
    south = XeroConnectionFactory(organisation_name="South Ltd")
    txn = TransactionFactory(number="INV-9")

    transaction_move(transaction=txn, connection=south, user=admin_user)

    assert answers() == {"INV-9": "South Ltd"}
    event = TransactionEvent.objects.get()
    assert (event.actor, event.detail) == (admin_user, "From no organisation to South Ltd.")
