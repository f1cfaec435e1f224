"""Races between two people acting on one contact at once (real row locks: PostgreSQL only)."""

import threading
import time
import uuid

import pytest
from django.db import connection, connections

from sync import services
from sync.exceptions import LinkError
from sync.models import ContactLink, LinkEvent, LinkMethod
from sync.services import contact_link

from .factories import ContactFactory, XeroConnectionFactory


@pytest.mark.django_db(transaction=True)
def test_the_second_of_two_people_linking_one_contact_waits_and_is_told_who_won(
    accountant, monkeypatch
):
    """The row lock serves them one after the other: the second sees the first one's link
    and is told its name. (Without the lock both would insert, and the unique constraint
    would refuse the second with a vaguer message.)"""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (CI runs this with DATABASE_URL)")
    contact, xero_connection = ContactFactory(), XeroConnectionFactory()
    audit = services._audit

    def slow_audit(**kwargs):
        # Hold the first link's transaction open long enough for the second to arrive.
        time.sleep(0.5)
        return audit(**kwargs)

    monkeypatch.setattr(services, "_audit", slow_audit)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def link(name: str) -> None:
        start.wait()
        try:
            contact_link(
                contact=contact,
                connection=xero_connection,
                xero_contact_id=uuid.uuid4(),
                xero_name=name,
                method=LinkMethod.EXISTING,
                user=accountant,
            )
            outcomes.append("linked")
        except LinkError as error:
            outcomes.append(str(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=link, args=(name,)) for name in ("First", "Second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("linked") == 1
    refused = next(outcome for outcome in outcomes if outcome != "linked")
    winner = ContactLink.objects.get().xero_name
    assert refused == (
        f"{contact.name} is already linked to {winner} in Xero. "
        "Unlink it first to link another contact."
    )
    assert ContactLink.objects.count() == 1
    assert LinkEvent.objects.count() == 1
