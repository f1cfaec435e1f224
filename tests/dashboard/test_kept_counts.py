"""The dashboard's whole-history counts are kept between views (sync.dashboard.counts): a
page reads them in one query, and they are counted again when something changed them."""

import re
from datetime import timedelta

from django.db.models import F

from sync.links.services import contact_unlink
from sync.models import KeptCounts
from tests.dashboard.test_dashboard import CUSTOMERS, customer, linked
from tests.factories import XeroConnectionFactory

ERRORS = "/accounting/xero/errors/"


def linked_count(client):
    html = client.get(CUSTOMERS, {"show": "all"}).content.decode()
    found = re.search(r"<strong>(\d+)</strong> Linked</a>", html)
    assert found, "the page shows no Linked count"
    return int(found.group(1))


def errors_badge(client):
    html = client.get(CUSTOMERS, {"show": "all"}).content.decode()
    found = re.search(r'href="/accounting/xero/errors/"[^>]*>Errors <span[^>]*>(\d+)</span>', html)
    return int(found.group(1)) if found else 0


def age_kept_counts(seconds):
    KeptCounts.objects.update(counted_at=F("counted_at") - timedelta(seconds=seconds))


def test_an_omni_change_shows_in_the_counts_once_they_are_older_than_the_setting(
    viewer_client, settings
):
    connection = XeroConnectionFactory()
    linked("Aroha Gift Store", connection)
    assert linked_count(viewer_client) == 1
    linked("Bayview Cafe", connection)  # straight into the database: no audit row

    assert linked_count(viewer_client) == 1  # the counts kept, not counted again
    age_kept_counts(settings.DASHBOARD_COUNTS_SECONDS - 1)
    assert linked_count(viewer_client) == 1
    age_kept_counts(2)
    assert linked_count(viewer_client) == 2


def test_an_unlink_shows_in_the_counts_at_once(viewer_client, accountant):
    connection = XeroConnectionFactory()
    link = linked("Aroha Gift Store", connection)
    linked("Bayview Cafe", connection)
    assert linked_count(viewer_client) == 2

    contact_unlink(contact=link.contact, connection=connection, user=accountant)

    assert linked_count(viewer_client) == 1


def test_while_one_request_counts_again_the_others_show_the_counts_kept(viewer_client):
    connection = XeroConnectionFactory()
    linked("Aroha Gift Store", connection)
    assert linked_count(viewer_client) == 1
    linked("Bayview Cafe", connection)
    age_kept_counts(3600)
    counting = KeptCounts.objects.filter(scope="links:sales")
    counting.update(counting_until=F("counted_at") + timedelta(days=2))  # under way

    assert linked_count(viewer_client) == 1

    counting.update(counting_until=F("counted_at"))  # the one counting died long ago
    assert linked_count(viewer_client) == 2


def test_the_errors_badge_is_kept_like_the_link_counts(viewer_client, settings):
    connection = XeroConnectionFactory()
    linked("Aroha Gift Store", connection, status="invalid", invalid_reason="archived")
    assert errors_badge(viewer_client) == 1
    linked("Bayview Cafe", connection, status="invalid", invalid_reason="deleted")

    assert errors_badge(viewer_client) == 1
    age_kept_counts(settings.DASHBOARD_COUNTS_SECONDS + 1)
    assert errors_badge(viewer_client) == 2


def test_a_page_of_an_organisation_never_counted_counts_at_once(viewer_client):
    XeroConnectionFactory()
    customer("Aroha Gift Store")
    assert linked_count(viewer_client) == 0
    assert KeptCounts.objects.filter(scope="links:sales").count() == 1
