"""Errors and Discrepancies a page at a time: each page shows its own rows, its links lead
to the others, and a page costs the same queries however many rows there are."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sync.dashboard import admin_tab as sync_views
from sync.models import SyncItem, SyncSettings
from sync.syncing import errors
from tests.factories import (
    ContactFactory,
    LineItemFactory,
    MirroredDocumentFactory,
    SyncItemFactory,
    SyncRunFactory,
    TransactionFactory,
    XeroConnectionFactory,
)
from transactions.models import LineAmountType, SyncState, Transaction

ERRORS = reverse("sync:errors")
DISCREPANCIES = reverse("sync:discrepancies")


@pytest.fixture
def connection():
    found = XeroConnectionFactory()
    SyncSettings.objects.update_or_create(
        connection=found, defaults={"documents_checked_at": timezone.now()}
    )
    return found


def voided(connection, n):
    """A synced transaction whose document was voided in Xero, dated n days into 2026."""
    mirrored = MirroredDocumentFactory(connection=connection, status="VOIDED")
    txn = TransactionFactory(
        sync_state=SyncState.SYNCED,
        number=f"INV-{n:04d}",
        xero_id=mirrored.document_id,
        date=date(2026, 1, 1) + timedelta(days=n),
    )
    LineItemFactory(transaction=txn, quantity=Decimal("1"), unit_price=Decimal("100"))
    return txn


def refused(n, connection):
    contact = ContactFactory(name=f"Contact {n:02d}")
    txn = TransactionFactory(contact=contact, sync_state=SyncState.REFUSED)
    LineItemFactory(transaction=txn)
    SyncItemFactory(
        run=SyncRunFactory(connection=connection),
        transaction=txn,
        state=SyncItem.State.REFUSED,
        refusal=SyncItem.Refusal.UNLINKED,
        message="Not linked.",
    )
    return contact


def shown(html, kind):
    return [int(pk) for pk in re.findall(rf'<tr id="{kind}-(\d+)"', html)]


def queries(client, url):
    """The queries of the page as a reader sees it again (its whole-history counts kept by
    the first view: sync.dashboard.counts)."""
    client.get(url)
    with CaptureQueriesContext(db) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_discrepancies_show_a_page_at_a_time_with_links_to_the_next(
    viewer_client, connection, monkeypatch
):
    monkeypatch.setattr(sync_views, "PAGE_SIZE", 2)
    found = [voided(connection, n) for n in range(5)]

    first = viewer_client.get(DISCREPANCIES).content.decode()
    assert shown(first, "discrepancy") == [found[0].pk, found[1].pk]
    assert "Page 1 of 3 · 5 in all" in first and 'href="?page=2"' in first

    second = viewer_client.get(DISCREPANCIES, {"page": 2}).content.decode()
    assert shown(second, "discrepancy") == [found[2].pk, found[3].pk]
    assert 'href="?page=1"' in second and 'href="?page=3"' in second

    last = viewer_client.get(DISCREPANCIES, {"page": 3}).content.decode()
    assert shown(last, "discrepancy") == [found[4].pk] and "page=4" not in last


def test_the_pager_keeps_show_resolved(viewer_client, connection, monkeypatch):
    monkeypatch.setattr(sync_views, "PAGE_SIZE", 2)
    for n in range(3):
        voided(connection, n)
    html = viewer_client.get(DISCREPANCIES, {"resolved": "1"}).content.decode()
    assert 'href="?resolved=1&amp;page=2"' in html


def test_a_long_list_counts_a_few_pages_ahead_and_says_more_than(
    viewer_client, connection, monkeypatch
):
    monkeypatch.setattr(sync_views, "PAGE_SIZE", 2)
    for n in range(11):
        voided(connection, n)

    first = viewer_client.get(DISCREPANCIES).content.decode()
    # Counted up to two pages past this one: 6 rows known, and there are more.
    assert "Page 1 of 4+ · more than 6 in all" in first

    fourth = viewer_client.get(DISCREPANCIES, {"page": 4}).content.decode()
    assert "Page 4 of 6 · 11 in all" in fourth and len(shown(fourth, "discrepancy")) == 2


@pytest.mark.parametrize("url", [ERRORS, DISCREPANCIES])
def test_a_page_costs_the_same_queries_however_many_pages_follow(
    viewer_client, connection, monkeypatch, url
):
    monkeypatch.setattr(sync_views, "PAGE_SIZE", 2)
    monkeypatch.setattr(errors, "CONTACTS_PER_PAGE", 2)
    made = 0

    def more(count):
        nonlocal made
        for _ in range(count):
            voided(connection, made)
            refused(made, connection)
            made += 1

    more(3)
    few = queries(viewer_client, url)
    more(12)
    assert queries(viewer_client, url) == few
    assert queries(viewer_client, f"{url}?page=5") == few


def test_errors_pages_list_their_own_contacts(viewer_client, connection, monkeypatch):
    monkeypatch.setattr(errors, "CONTACTS_PER_PAGE", 2)
    contacts = [refused(n, connection) for n in range(5)]

    def on(html):
        return [c.pk for c in contacts if f'id="problems-{c.pk}"' in html]

    first = viewer_client.get(ERRORS).content.decode()
    assert on(first) == [contacts[0].pk, contacts[1].pk] and "Page 1 of 3 · 5 in all" in first
    second = viewer_client.get(ERRORS, {"page": 2}).content.decode()
    assert on(second) == [contacts[2].pk, contacts[3].pk]


LINES = [
    # (line amount type, [(quantity, unit price, tax type)]): halves of a cent, several
    # lines, inclusive and tax-free prices, none at all.
    (LineAmountType.EXCLUSIVE, [("1", "0.0333", "OUTPUT2")]),
    (LineAmountType.EXCLUSIVE, [("3", "12.345", "OUTPUT2"), ("2", "0.1", "NONE")]),
    (LineAmountType.EXCLUSIVE, [("7", "1.1", "INPUT2"), ("1", "99.99", "OUTPUT2")]),
    (LineAmountType.INCLUSIVE, [("3", "12.345", "OUTPUT2"), ("1", "0.05", "OUTPUT2")]),
    (LineAmountType.NO_TAX, [("2.5", "3.3333", "OUTPUT2")]),
    (LineAmountType.EXCLUSIVE, []),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("amounts", "lines"), LINES)
def test_the_total_in_sql_is_the_total_the_rows_show(amounts, lines):
    txn = TransactionFactory(line_amount_type=amounts)
    for quantity, price, tax in lines:
        LineItemFactory(
            transaction=txn, quantity=Decimal(quantity), unit_price=Decimal(price), tax_type=tax
        )
    in_sql = Transaction.objects.with_total().get(pk=txn.pk).omni_total
    assert Decimal(str(in_sql)).quantize(Decimal("0.01")) == txn.totals.total
