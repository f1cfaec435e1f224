"""Races between two people acting on one contact at once (real row locks: PostgreSQL only)."""

import threading
import uuid

import pytest
from django.db import connection, connections

from sync.exceptions import LinkError
from sync.models import ContactLink, LinkEvent, LinkMethod
from sync.services import contact_link

from .factories import ContactFactory, XeroConnectionFactory


@pytest.mark.django_db(transaction=True)
def test_two_people_linking_one_contact_at_once_make_one_link(accountant):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (CI runs this with DATABASE_URL)")
    contact, xero_connection = ContactFactory(), XeroConnectionFactory()
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
    assert "already linked" in refused or "linked by someone else" in refused
    assert ContactLink.objects.count() == 1
    assert LinkEvent.objects.count() == 1
