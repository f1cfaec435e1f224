"""An open subtab updates itself: its poller asks what changed since the page was made, and
gets nothing (a 204) or the rows whose link changed, the new job summaries and its new
cursor (sync.dashboard.live)."""

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.urls import reverse
from django.utils import timezone

from sync.links.services import link_mark_invalid
from sync.models import InvalidReason, LinkEvent, Notification, SyncRun
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    LinkEventFactory,
    SyncRunFactory,
    TransactionFactory,
    WebhookDeliveryFactory,
    XeroConnectionFactory,
    XeroContactFactory,
)
from transactions.models import TransactionType

pytestmark = pytest.mark.django_db

CUSTOMERS = reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "customers"})
INVOICES = reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "invoices"})
HTMX = {"HX-Request": "true"}


def linked(name, connection):
    contact = ContactFactory(name=name)
    TransactionFactory(contact=contact)  # ready to sync: the list shows it by default
    return ContactLinkFactory(contact=contact, connection=connection, xero_name=f"{name} Ltd")


def poller(page_html: str) -> str:
    """The address the page's poller asks, with its cursor."""
    found = re.search(r'id="live-updates" hidden hx-get="([^"]+)"', page_html)
    assert found, "the page has no poller"
    return html.unescape(found.group(1))


def poll(client, url: str, *rows, **params):
    """One poll, as contacts.js sends it: the poller's cursor and the rows the page shows."""
    path, _, query = url.partition("?")
    cursor = {key: values for key, values in parse_qs(query).items()}
    return client.get(path, cursor | {"row": [row.pk for row in rows], **params}, headers=HTMX)


def page(client, url=CUSTOMERS) -> str:
    response = client.get(url, {"show": "all"})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("history", [1, 500])
def test_nothing_changed_is_a_204_whose_cost_does_not_grow_with_the_history(
    viewer_client, django_assert_num_queries, history
):
    connection = XeroConnectionFactory()
    tui = linked("Tui Books", connection)
    LinkEvent.objects.bulk_create(
        LinkEventFactory.build(contact=tui.contact, connection=connection) for _ in range(history)
    )
    url = poller(page(viewer_client))
    # 1 session, 2 user, 3-4 the user's permissions (own and group's), 5 the organisation
    # shown, 6 its link events after the cursor (none), 7 the user's notifications made
    # since the page (none), 8 an upload under way that the page does not show (none).
    with django_assert_num_queries(8):
        response = poll(viewer_client, url, tui.contact)
    assert response.status_code == 204 and response.content == b""


def test_a_link_archived_after_the_page_was_made_comes_back_as_its_row_with_the_way_out(
    accountant_client,
):
    connection = XeroConnectionFactory()
    tui, kauri = linked("Tui Books", connection), linked("Kauri Coast", connection)
    url = poller(page(accountant_client))
    link_mark_invalid(link=tui, reason=InvalidReason.ARCHIVED)

    response = poll(accountant_client, url, tui.contact, kauri.contact)

    body = response.content.decode()
    assert response.status_code == 200
    row = re.search(
        rf'<template>\s*<tr id="contact-{tui.contact.pk}" hx-swap-oob="true">.*?</tr>', body, re.S
    )
    assert row, body
    assert "Archived in Xero" in row.group(0)
    assert "Tui Books Ltd is archived in Xero: restore it there, or unlink it." in row.group(0)
    assert "Restore in Xero" in row.group(0) and ">Unlink<" in row.group(0)
    assert f"contact-{kauri.contact.pk}" not in body  # unchanged: left as it is
    counts = re.search(
        r'<ul class="health-counts" id="link-counts" hx-swap-oob="true">.*?</ul>', body, re.S
    )
    assert counts and "<strong>1</strong> Invalid: archived" in counts.group(0)
    assert "Tui Books: Archived in Xero." in response.headers["HX-Trigger-After-Settle"]
    # The poller comes back past the change: the next poll finds nothing.
    assert poll(accountant_client, poller(body), tui.contact).status_code == 204


def test_a_link_merged_after_the_page_was_made_offers_relink_to_its_survivor(accountant_client):
    connection = XeroConnectionFactory()
    tui = linked("Tui Books", connection)
    survivor = XeroContactFactory(connection=connection, name="Tui Books & Stationery")
    url = poller(page(accountant_client))
    link_mark_invalid(link=tui, reason=InvalidReason.MERGED, merged_into=survivor.contact_id)

    body = poll(accountant_client, url, tui.contact).content.decode()

    assert "Merged into" in body and "Relink to Tui Books &amp; Stationery" in body


def test_a_changed_row_not_on_the_page_is_not_sent(accountant_client):
    connection = XeroConnectionFactory()
    tui, kauri = linked("Tui Books", connection), linked("Kauri Coast", connection)
    url = poller(page(accountant_client))
    link_mark_invalid(link=tui, reason=InvalidReason.ARCHIVED)

    response = poll(accountant_client, url, kauri.contact)  # Tui is on another page

    assert response.status_code == 200  # the poller moves past the change
    assert f"contact-{tui.contact.pk}" not in response.content.decode()


def test_a_change_in_another_organisation_never_shows(accountant_client):
    shown = XeroConnectionFactory(connected_at=timezone.now() + timedelta(days=1))
    other = XeroConnectionFactory(organisation_name="Other Org", connected_at=timezone.now())
    tui = linked("Tui Books", shown)
    elsewhere = ContactLinkFactory(contact=tui.contact, connection=other)
    url = poller(page(accountant_client))
    link_mark_invalid(link=elsewhere, reason=InvalidReason.ARCHIVED)

    response = poll(accountant_client, url, tui.contact)

    assert response.status_code == 204


def test_a_page_of_another_organisation_than_the_one_shown_now_gets_nothing(accountant_client):
    connection = XeroConnectionFactory()
    tui = linked("Tui Books", connection)
    url = poller(page(accountant_client)).replace(
        f"connection={connection.pk}", f"connection={connection.pk + 1}"
    )
    link_mark_invalid(link=tui, reason=InvalidReason.ARCHIVED)

    assert poll(accountant_client, url, tui.contact).status_code == 204


def test_a_transaction_whose_contact_link_went_bad_comes_back_blocked(accountant_client):
    connection = XeroConnectionFactory()
    tui = linked("Tui Books", connection)
    invoice = TransactionFactory(
        contact=tui.contact, type=TransactionType.SALES_INVOICE, number="INV-7"
    )
    other = TransactionFactory(type=TransactionType.SALES_INVOICE, number="INV-8")
    url = poller(page(accountant_client, INVOICES))
    link_mark_invalid(link=tui, reason=InvalidReason.ARCHIVED)

    response = poll(accountant_client, url, invoice, other)

    body = response.content.decode()
    assert f'<tr id="transaction-{invoice.pk}" hx-swap-oob="true">' in body
    assert "Contact&#x27;s link invalid" in body and "Blocked by its contact" in body
    assert f"transaction-{other.pk}" not in body
    assert "INV-7: Contact's link invalid." in response.headers["HX-Trigger-After-Settle"]


def test_a_job_summary_made_after_the_page_shows_once(accountant_client, accountant):
    connection = XeroConnectionFactory()
    tui = linked("Tui Books", connection)
    url = poller(page(accountant_client))
    Notification.objects.create(
        user=accountant, kind="upload", job_id=7, state="done", counts={"done": 5}
    )

    response = poll(accountant_client, url, tui.contact)

    body = response.content.decode()
    assert '<div id="live-notices" hx-swap-oob="afterbegin">' in body
    assert 'data-notification="' in body
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert poll(accountant_client, poller(body), tui.contact).status_code == 204


def test_the_summary_of_a_job_whose_progress_the_page_shows_is_left_to_its_bar(
    accountant_client, accountant
):
    connection = XeroConnectionFactory()
    tui = linked("Tui Books", connection)
    url = poller(page(accountant_client))
    Notification.objects.create(user=accountant, kind="upload", job_id=7, state="done")

    response = poll(accountant_client, url, tui.contact, upload=[7])

    assert response.status_code == 204
    assert Notification.objects.filter(read_at__isnull=True).exists()


def test_a_sync_started_elsewhere_shows_its_progress_on_the_open_page(accountant_client):
    connection = XeroConnectionFactory()
    invoice = TransactionFactory(type=TransactionType.SALES_INVOICE, number="INV-7")
    url = poller(page(accountant_client, INVOICES))
    run = SyncRunFactory(connection=connection, state=SyncRun.State.RUNNING)

    body = poll(accountant_client, url, invoice).content.decode()

    assert '<div id="sync-progress" hx-swap-oob="true"' in body
    assert f'data-sync="{run.pk}"' in body
    # Once the page shows it (its bar polls itself), the poller leaves it to the bar.
    assert poll(accountant_client, poller(body), invoice, sync=[run.pk]).status_code == 204


def test_polling_needs_a_login_and_the_permission_to_see_the_dashboard(client, outsider):
    url = reverse("sync:live_changes", kwargs={"tab": "sales", "subtab": "customers"})
    assert client.get(url).status_code == 302
    client.force_login(outsider)
    assert client.get(url).status_code == 403


def test_an_htmx_fragment_of_the_list_keeps_the_page_s_poller(viewer_client):
    XeroConnectionFactory()
    fragment = viewer_client.get(CUSTOMERS, {"show": "all"}, headers=HTMX).content.decode()
    assert 'id="live-updates"' not in fragment


def test_when_a_webhook_changes_a_link_the_line_saying_how_changes_arrive_turns_live(
    accountant_client, settings
):
    settings.XERO_WEBHOOK_KEY = "a-key"
    connection = XeroConnectionFactory()
    tui = linked("Tui Books", connection)
    first = page(accountant_client)
    assert "no webhook delivery has arrived yet" in first
    WebhookDeliveryFactory(signed=True)  # the archive's delivery, after the page was made
    link_mark_invalid(link=tui, reason=InvalidReason.ARCHIVED)

    body = poll(accountant_client, poller(first), tui.contact).content.decode()

    line = re.search(
        r'<p class="webhook-mode[^"]*" id="webhook-mode" hx-swap-oob="true".*?</p>', body, re.S
    )
    assert line, body
    assert "Xero reports changes as they happen (webhooks)" in line.group(0)
