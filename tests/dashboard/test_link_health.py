"""The counts above a contacts subtab, each a link to exactly those contacts, and the chart
of the last 30 days of syncs."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from sync.models import ContactLink, InvalidReason, LinkStatus, SyncItem
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    SupplierFactory,
    SyncItemFactory,
    SyncRunFactory,
    TransactionFactory,
    XeroConnectionFactory,
)

pytestmark = pytest.mark.django_db

CUSTOMERS = "/accounting/xero/sales/customers/"


def text(response) -> str:
    return response.content.decode()


def counts(page: str) -> dict[str, tuple[int, str]]:
    """Each count above the table: its label, its number and where it links."""
    block = page[
        page.index('id="link-counts"') : page.index("</ul>", page.index('id="link-counts"'))
    ]
    found = re.findall(r'<a href="([^"]+)"><strong>(\d+)</strong> ([^<]+)</a>', block)
    return {label: (int(n), href.replace("&amp;", "&")) for href, n, label in found}


def names(page: str) -> set[str]:
    return set(re.findall(r'class="contact-name"[^>]*><bdi>([^<]+)</bdi>', page))


def invalid(name, connection, reason):
    link = ContactLinkFactory(contact=ContactFactory(name=name), connection=connection)
    ContactLink.objects.filter(pk=link.pk).update(status=LinkStatus.INVALID, invalid_reason=reason)
    return link


@pytest.fixture
def organisation(db):
    connection = XeroConnectionFactory()
    ContactLinkFactory(contact=ContactFactory(name="Linked Ltd"), connection=connection)
    changed = ContactLinkFactory(contact=ContactFactory(name="Changed Ltd"), connection=connection)
    for reason in InvalidReason.values:
        invalid(f"{reason.title()} Ltd", connection, reason)
    for link in ContactLink.objects.select_related("contact"):  # as uploaded, unchanged since
        link.uploaded_fingerprint = link.contact.details_fingerprint
        link.save()
    ContactLink.objects.filter(pk=changed.pk).update(uploaded_fingerprint="before")
    ready = ContactFactory(name="Ready Unlinked Ltd")
    TransactionFactory(contact=ready)
    ContactFactory(name="Idle Unlinked Ltd")  # unlinked, nothing ready: not counted
    ContactLinkFactory(contact=SupplierFactory(name="Supplier Ltd"), connection=connection)
    return connection


def test_each_count_is_right_and_links_to_exactly_those_contacts(viewer_client, organisation):
    page = text(viewer_client.get(CUSTOMERS))
    shown = counts(page)
    expected = {
        "Linked": {
            "Linked Ltd",
            "Changed Ltd",
            "Archived Ltd",
            "Merged Ltd",
            "Deleted Ltd",
            "Gdpr Ltd",
        },
        "Unlinked, with transactions ready": {"Ready Unlinked Ltd"},
        "Changed since upload": {"Changed Ltd"},
        "Invalid: archived": {"Archived Ltd"},
        "Invalid: deleted": {"Deleted Ltd"},
        "Invalid: merged": {"Merged Ltd"},
        "Invalid: GDPR request": {"Gdpr Ltd"},
    }
    assert {label: n for label, (n, _) in shown.items()} == {
        label: len(contacts) for label, contacts in expected.items()
    }
    for label, (_, href) in shown.items():
        assert names(text(viewer_client.get(href))) == expected[label], label


def test_the_htmx_table_leaves_the_counts_and_chart_out(viewer_client, organisation):
    assert 'id="link-health"' not in text(
        viewer_client.get(CUSTOMERS, headers={"HX-Request": "true"})
    )


def test_the_chart_shows_30_days_to_today_with_empty_days_and_a_table(viewer_client):
    connection = XeroConnectionFactory()
    run = SyncRunFactory(connection=connection)
    now = timezone.now()

    def item(state, days_ago):
        found = SyncItemFactory(run=run, state=state)
        SyncItem.objects.filter(pk=found.pk).update(updated_at=now - timedelta(days=days_ago))

    for state in ("synced", "synced", "refused", "failed"):
        item(state, 0)
    item("synced", 29)
    item("refused", 30)  # 31 days ago counts as the 31st day: left out
    item("skipped", 1)  # not an outcome the chart shows
    page = text(viewer_client.get(CUSTOMERS))
    chart = page[page.index('id="sync-chart"') : page.index("</figure>")]
    today = timezone.localdate()
    cell = r'<td class="num">(\d+)</td>'
    row = rf'<tr data-day="([\d-]+)"><th scope="row">[^<]+</th>{cell}{cell}{cell}'
    days = re.findall(row, chart)
    assert len(days) == 30
    assert days[-1] == (today.isoformat(), "2", "1", "1")
    assert days[0] == ((today - timedelta(days=29)).isoformat(), "1", "0", "0")
    assert days[15][1:] == ("0", "0", "0")  # an empty day is there, with zeros
    assert "Syncs in the last 30 days: 5 transactions" in chart
    bars = re.findall(r'<g data-day="([\d-]+)">(.*?)</g>', chart)
    assert len(bars) == 30
    todays = dict(bars)[today.isoformat()]
    assert todays.count('class="synced"') == 1 and todays.count('class="failed"') == 1
    heights = [float(h) for h in re.findall(r'height="([\d.]+)"><title>', todays)]
    assert sum(heights) == pytest.approx(100.0)  # the busiest day fills the chart
    assert dict(bars)[(today - timedelta(days=15)).isoformat()] == ""


def test_with_no_syncs_in_30_days_the_chart_says_so_instead_of_an_empty_box(viewer_client):
    XeroConnectionFactory()
    page = text(viewer_client.get(CUSTOMERS))
    assert "No transactions synced, refused or failed in the last 30 days." in page
    assert "<svg" not in page
