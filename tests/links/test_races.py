"""Races between two people acting on one contact at once (real row locks: PostgreSQL only)."""

import uuid

import pytest
from django.db import connection
from django.db.models.signals import post_save

from sync.exceptions import LinkError
from sync.links.services import contact_link
from sync.models import ContactLink, LinkEvent, LinkMethod
from tests.concurrency import at_once_overlapping
from tests.factories import ContactFactory, XeroConnectionFactory


@pytest.mark.django_db(transaction=True)
def test_the_second_of_two_people_linking_one_contact_waits_and_is_told_who_won(accountant):
    """The row lock serves them one after the other: the second sees the first one's link
    and is told its name. The first is held just after saving its link, its transaction
    open, until the second is seen waiting on a lock. (Without the contact's lock the second
    would pass the check, wait on the organisation's lock instead, then hit the unique
    constraint and get a vaguer message.)"""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (CI runs this with DATABASE_URL)")
    contact, xero_connection = ContactFactory(), XeroConnectionFactory()
    names = iter(["First", "Second"])
    outcomes: list[str] = []

    def link() -> None:
        contact_link(
            contact=contact,
            connection=xero_connection,
            xero_contact_id=uuid.uuid4(),
            xero_name=next(names),
            method=LinkMethod.EXISTING,
            user=accountant,
        )
        outcomes.append("linked")

    failures = at_once_overlapping(link, signal=post_save, sender=ContactLink)

    assert outcomes == ["linked"]
    winner = ContactLink.objects.get().xero_name
    assert [type(f) for f in failures] == [LinkError]
    assert str(failures[0]) == (
        f"{contact.name} is already linked to {winner} in Xero. "
        "Unlink it first to link another contact."
    )
    assert ContactLink.objects.count() == 1
    assert LinkEvent.objects.count() == 1
