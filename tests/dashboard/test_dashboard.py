"""The Xero integration dashboard: who may see and do what, and what each tab shows."""

import re
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sync.dashboard import contacts as views
from sync.dashboard import tabs
from sync.links import views as link_views
from sync.models import (
    ConnectionStatus,
    ContactLink,
    InvalidReason,
    LinkEvent,
    LinkStatus,
    SyncContact,
)
from sync.uploads import views as upload_views
from sync.webhooks import views as webhook_views
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    LineItemFactory,
    LinkEventFactory,
    SupplierFactory,
    TransactionFactory,
    UserFactory,
    XeroConnectionFactory,
    XeroContactFactory,
)
from transactions.models import SyncState, TransactionType

pytestmark = pytest.mark.django_db

CUSTOMERS = reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "customers"})
SUPPLIERS = reverse("sync:subtab", kwargs={"tab": "purchases", "subtab": "suppliers"})
SALES_ACTION = reverse("sync:contacts_action", kwargs={"tab": "sales"})
SWITCH = reverse("sync:switch_organisation")
HOSTILE = "<script>alert(1)</script>"


def ready(contact, count=1):
    """Give a contact transactions ready to sync: the list shows it by default."""
    for _ in range(count):
        TransactionFactory(contact=contact)
    return contact


def customer(name, count=1, **fields):
    return ready(ContactFactory(name=name, **fields), count)


def linked(name, connection, count=1, **fields):
    return ContactLinkFactory(contact=customer(name, count), connection=connection, **fields)


def unlink_url(contact, tab="sales"):
    return reverse("sync:unlink", kwargs={"tab": tab, "pk": contact.pk})


def detail_url(contact, tab="sales"):
    return reverse("sync:contact_detail", kwargs={"tab": tab, "pk": contact.pk})


def names_in_order(html, *names):
    """The names, in the order the page lists them."""
    return sorted(names, key=html.index)


def row(html, contact):
    match = re.search(rf'<tr id="contact-{contact.pk}">.*?</tr>', html, re.S)
    assert match, f"no row for {contact.name}"
    return match.group(0)


# Who may see the pages


def test_anonymous_is_sent_to_login(client):
    response = client.get(CUSTOMERS)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_page_logs_a_user_in(client, accountant):
    page = client.get(reverse("login"))
    assert b"Log in" in page.content
    response = client.post(
        reverse("login"), {"username": "alex", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert client.get(response.url, follow=True).request["PATH_INFO"] == CUSTOMERS


def test_user_outside_the_groups_is_refused_every_page(client, outsider):
    contact = customer("Bayview Cafe")
    client.force_login(outsider)
    assert client.get(CUSTOMERS).status_code == 403
    assert client.get(SUPPLIERS).status_code == 403
    assert client.get(detail_url(contact)).status_code == 403
    assert client.post(SALES_ACTION, {"action": "check_links"}).status_code == 403
    assert client.post(SWITCH, {"connection": XeroConnectionFactory().pk}).status_code == 403


def test_dashboard_opens_on_sales_customers(accountant_client):
    response = accountant_client.get(reverse("sync:dashboard"))
    assert response.url == CUSTOMERS


def test_unknown_tab_is_404(viewer_client):
    assert viewer_client.get("/accounting/xero/payroll/customers/").status_code == 404
    assert viewer_client.get("/accounting/xero/sales/suppliers/").status_code == 404


# The list


def test_list_shows_by_default_only_contacts_with_a_transaction_ready_to_sync(viewer_client):
    customer("Bayview Cafe")
    ContactFactory(name="Quiet Customer")
    TransactionFactory(contact=ContactFactory(name="All Skipped Ltd"), sync_state=SyncState.SKIPPED)
    page = viewer_client.get(CUSTOMERS).content.decode()
    assert "Bayview Cafe" in page
    assert "Quiet Customer" not in page and "All Skipped Ltd" not in page
    everyone = viewer_client.get(CUSTOMERS, {"show": "all"}).content.decode()
    assert "Bayview Cafe" in everyone and "Quiet Customer" in everyone
    assert "All Skipped Ltd" in everyone


def test_with_nothing_ready_the_list_offers_all_contacts(viewer_client):
    ContactFactory(name="Quiet Customer")
    page = viewer_client.get(CUSTOMERS).content.decode()
    assert "No customers have transactions ready to sync." in page
    assert f'href="{CUSTOMERS}?show=all"' in page


def test_customers_tab_lists_customers_and_suppliers_tab_suppliers(viewer_client):
    customer("Bayview Cafe")
    ready(SupplierFactory(name="Kiwi Coffee Roasters"))
    customers = viewer_client.get(CUSTOMERS).content.decode()
    assert "Bayview Cafe" in customers and "Kiwi Coffee Roasters" not in customers
    suppliers = viewer_client.get(SUPPLIERS).content.decode()
    assert "Kiwi Coffee Roasters" in suppliers and "Bayview Cafe" not in suppliers


def test_a_row_shows_the_contact_its_ready_count_and_no_linked_contact(viewer_client):
    contact = customer(
        "Bayview Cafe", count=3, first_name="Mere", last_name="Ngata", account_number="C1001"
    )
    html = row(viewer_client.get(CUSTOMERS).content.decode(), contact)
    assert f'name="contact" value="{contact.pk}"' in html
    assert f'href="{detail_url(contact)}"' in html
    assert "<bdi>Mere</bdi> <bdi>Ngata</bdi>" in html and "C1001" in html and contact.email in html
    assert '<td class="num" data-label="Ready to sync">3</td>' in html
    assert '<span class="muted">No linked contact</span>' in html
    assert "Not connected to Xero yet" in viewer_client.get(CUSTOMERS).content.decode()


def test_linked_contact_column_says_why_a_link_is_invalid(viewer_client):
    connection = XeroConnectionFactory(organisation_name="Demo Company (NZ)")
    survivor = XeroContactFactory(connection=connection, name="Seaside Surf Group")
    good = linked("Tui Books", connection, xero_name="Tui Books Limited")
    archived = linked(
        "Harbour Cafe",
        connection,
        xero_name="Harbour Cafe Ltd",
        status=LinkStatus.INVALID,
        invalid_reason=InvalidReason.ARCHIVED,
    )
    merged = linked(
        "Seaside Surf",
        connection,
        xero_name="Seaside Surf Shop",
        status=LinkStatus.INVALID,
        invalid_reason=InvalidReason.MERGED,
        merged_into_xero_contact_id=survivor.contact_id,
    )
    deleted = linked(
        "Gone Ltd",
        connection,
        status=LinkStatus.INVALID,
        invalid_reason=InvalidReason.DELETED,
    )
    gdpr = linked(
        "Private Person", connection, status=LinkStatus.INVALID, invalid_reason=InvalidReason.GDPR
    )
    page = viewer_client.get(CUSTOMERS).content.decode()
    assert "Demo Company (NZ)</bdi></strong>" in page
    assert "Tui Books Limited" in row(page, good.contact)
    assert "badge bad" not in row(page, good.contact)
    assert "Archived in Xero</span>" in row(page, archived.contact)
    assert "Harbour Cafe Ltd is archived in Xero" in row(page, archived.contact)
    assert "Merged into <bdi>Seaside Surf Group</bdi></span>" in row(page, merged.contact)
    assert "Deleted from Xero</span>" in row(page, deleted.contact)
    assert "GDPR request</span>" in row(page, gdpr.contact)
    assert '<span class="muted">No linked contact</span>' not in page


def test_a_survivor_missing_from_the_mirror_is_named_as_another_contact(viewer_client):
    link = linked(
        "Seaside Surf",
        XeroConnectionFactory(),
        status=LinkStatus.INVALID,
        invalid_reason=InvalidReason.MERGED,
        merged_into_xero_contact_id=uuid.uuid4(),
    )
    page = viewer_client.get(CUSTOMERS).content.decode()
    assert "Merged into <bdi>another Xero contact</bdi></span>" in row(page, link.contact)


def test_a_contact_changed_since_its_last_upload_has_a_changed_badge(viewer_client):
    connection = XeroConnectionFactory()
    changed = linked("Tui Books", connection)
    same = linked("Bayview Cafe", connection)
    ContactLink.objects.filter(pk=same.pk).update(
        uploaded_fingerprint=same.contact.details_fingerprint
    )
    page = viewer_client.get(CUSTOMERS).content.decode()
    assert ">Changed</span>" in row(page, changed.contact)
    assert ">Changed</span>" not in row(page, same.contact)


def test_link_filters_and_search(viewer_client):
    connection = XeroConnectionFactory()
    tui = linked("Tui Books", connection)
    bayview = customer("Bayview Cafe")
    seaside = linked(
        "Seaside Surf", connection, status=LinkStatus.INVALID, invalid_reason=InvalidReason.DELETED
    )
    ContactLink.objects.filter(pk=seaside.pk).update(
        uploaded_fingerprint=seaside.contact.details_fingerprint
    )

    def listed(**params):
        html = viewer_client.get(CUSTOMERS, params).content.decode()
        return {c.name for c in (tui.contact, bayview, seaside.contact) if c.name in html}

    assert listed(linked="unlinked") == {"Bayview Cafe"}
    assert listed(linked="linked") == {"Tui Books", "Seaside Surf"}
    assert listed(linked="invalid") == {"Seaside Surf"}
    assert listed(linked="changed") == {"Tui Books"}
    assert listed(q="bayview") == {"Bayview Cafe"}
    assert listed(q="seaside", linked="unlinked") == set()


def test_linked_filter_without_a_connection_shows_nothing(viewer_client):
    customer("Bayview Cafe")
    page = viewer_client.get(CUSTOMERS, {"linked": "linked"}).content.decode()
    assert "Bayview Cafe" not in page and "No customers match this search." in page


def test_sorting_by_name_ready_count_and_linked_contact(viewer_client):
    connection = XeroConnectionFactory()
    linked("Aroha Bakery", connection, count=1, xero_name="Zeal Bakery Ltd")
    customer("Bayview Cafe", count=5)
    linked("Cobalt Print", connection, count=2, xero_name="Acme Print Ltd")
    names = ("Aroha Bakery", "Bayview Cafe", "Cobalt Print")

    def order(sort):
        return names_in_order(viewer_client.get(CUSTOMERS, {"sort": sort}).content.decode(), *names)

    assert order("") == ["Aroha Bakery", "Bayview Cafe", "Cobalt Print"]
    assert order("-name") == ["Cobalt Print", "Bayview Cafe", "Aroha Bakery"]
    assert order("-ready") == ["Bayview Cafe", "Cobalt Print", "Aroha Bakery"]
    assert order("ready") == ["Aroha Bakery", "Cobalt Print", "Bayview Cafe"]
    # By the Xero name; contacts with no linked contact come last either way.
    assert order("linked") == ["Cobalt Print", "Aroha Bakery", "Bayview Cafe"]
    assert order("-linked") == ["Aroha Bakery", "Cobalt Print", "Bayview Cafe"]


def test_contacts_with_the_same_sort_value_keep_one_order_across_pages(viewer_client, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    twins = [customer("Same Name Ltd") for _ in range(5)]
    seen = []
    for number in (1, 2, 3):
        html = viewer_client.get(CUSTOMERS, {"sort": "-ready", "page": number}).content.decode()
        seen += [int(pk) for pk in re.findall(r'name="contact" value="(\d+)"', html)]
    assert seen == [c.pk for c in twins]


def test_column_headers_sort_and_say_which_way(viewer_client):
    customer("Bayview Cafe")
    page = viewer_client.get(CUSTOMERS).content.decode()
    assert page.count("aria-sort=") == 1
    assert f'aria-sort="ascending"><a class="sort" href="{CUSTOMERS}?sort=-name"' in page
    assert f'href="{CUSTOMERS}?sort=-ready"' in page  # biggest first on the first click
    flipped = viewer_client.get(CUSTOMERS, {"sort": "-ready", "q": "bay"}).content.decode()
    toggled = f'aria-sort="descending"><a class="sort" href="{CUSTOMERS}?q=bay&amp;sort=ready"'
    assert toggled in flipped


def test_pagination_keeps_filters_search_and_sort(viewer_client, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for n in range(5):
        customer(f"Kauri {n} Ltd")
    ContactFactory(name="Kauri Quiet Ltd")
    params = {"show": "all", "linked": "unlinked", "q": "kauri", "sort": "-name"}
    first = viewer_client.get(CUSTOMERS, params).content.decode()
    assert "Page 1 of 3 · 6 in all" in first
    next_link = f"{CUSTOMERS}?show=all&amp;linked=unlinked&amp;q=kauri&amp;sort=-name&amp;page=2"
    assert f'href="{next_link}"' in first
    second = viewer_client.get(CUSTOMERS, params | {"page": 2}).content.decode()
    assert names_in_order(second, "Kauri 2 Ltd", "Kauri 3 Ltd") == ["Kauri 3 Ltd", "Kauri 2 Ltd"]
    assert "Kauri Quiet Ltd" not in second and "Kauri 1 Ltd" not in second
    assert f'href="{next_link.replace("page=2", "page=3")}"' in second
    # The action bar comes back to this very page.
    assert f'name="next" value="{next_link}"' in second


@pytest.mark.parametrize("page_size", [5, 25])
def test_contacts_tab_query_count_does_not_grow_with_page_size(
    viewer_client, django_assert_num_queries, monkeypatch, page_size
):
    monkeypatch.setattr(views, "PAGE_SIZE", page_size)
    connection = XeroConnectionFactory()
    survivor = XeroContactFactory(connection=connection)
    for n in range(30):
        link = linked(f"Kauri {n:02} Ltd", connection)
        if n % 3 == 0:
            ContactLink.objects.filter(pk=link.pk).update(
                status=LinkStatus.INVALID,
                invalid_reason=InvalidReason.MERGED,
                merged_into_xero_contact_id=survivor.contact_id,
            )
    viewer_client.get(CUSTOMERS, {"sort": "linked"})  # counts the link counts and errors
    # As seen again: 1 session, 2 user, 3-4 the user's permissions (own and group's), 5 the
    # organisation shown, 6 the organisations for the switcher, 7 its mirrored Xero contacts
    # count, 8 the user's unread notifications (none), 9 the live poller's cursor (the last
    # link event), 10 the link counts kept, 11 the 30 days of syncs, 12 contacts count (bounded),
    # 13 the page of contacts, 14 their links with the merged ones' survivor names, 15 their
    # recent uploads, 16 the page's ready counts, 17 the linked ones' balances, 18 the
    # uploads under way, 19-20 the webhook mode (the last signed delivery, the events
    # waiting), 21 the Errors link's count kept, 22 the filter kept for the user's next visit.
    with django_assert_num_queries(22):
        response = viewer_client.get(CUSTOMERS, {"sort": "linked"})
    assert response.content.decode().count('name="contact"') == page_size


def test_htmx_request_gets_the_table_alone(viewer_client):
    customer("Bayview Cafe")
    html = viewer_client.get(CUSTOMERS, headers={"HX-Request": "true"}).content.decode()
    assert "Bayview Cafe" in html and 'aria-sort="ascending"' in html
    assert 'id="contacts-actions"' in html
    assert "<html" not in html and "<h1>" not in html and 'id="contacts-filters"' not in html


def test_transaction_subtab_lists_its_type_with_totals_and_state(viewer_client):
    invoice = TransactionFactory(number="INV-0042", contact=ContactFactory(name="Tui Books"))
    LineItemFactory(transaction=invoice)  # 2 x 24.50 + 15% GST
    TransactionFactory(
        number="PO-0007", type=TransactionType.PURCHASE_ORDER, contact=SupplierFactory()
    )
    TransactionFactory(
        number="INV-0043", sync_state=SyncState.FAILED, last_error="The contact has been archived."
    )
    page = viewer_client.get(
        reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "invoices"})
    ).content.decode()
    assert "INV-0042" in page and "PO-0007" not in page
    assert "56.35" in page
    assert "Ready to sync" in page and "The contact has been archived." in page
    orders = viewer_client.get(
        reverse("sync:subtab", kwargs={"tab": "purchases", "subtab": "orders"})
    ).content.decode()
    assert "PO-0007" in orders and "INV-0042" not in orders


def test_transaction_subtab_htmx_request_gets_only_the_rows(viewer_client):
    TransactionFactory(number="INV-0042")
    invoices = reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "invoices"})
    html = viewer_client.get(invoices, headers={"HX-Request": "true"}).content.decode()
    assert "INV-0042" in html and "<thead>" not in html


# Permissions on the actions


def test_viewer_sees_the_actions_disabled_and_why(viewer_client):
    linked("Tui Books", XeroConnectionFactory())
    page = viewer_client.get(CUSTOMERS).content.decode()
    for label, action in [
        ("Upload", "upload"),
        ("Unlink", "unlink"),
        ("Relink to survivor", "relink"),
        ("Check links", "check_links"),
    ]:
        button = re.search(rf'<button type="submit" name="action" value="{action}"[^>]*>', page)
        assert button and "disabled" in button.group(0), label
    assert tabs.VIEWER_REASON in page
    assert 'title="Viewers can look but not change anything.' in page
    assert ">Unlink</a>" not in page  # no per-row Unlink either


def test_accountant_sees_the_actions_enabled(accountant_client):
    linked("Tui Books", XeroConnectionFactory())
    page = accountant_client.get(CUSTOMERS).content.decode()
    assert 'value="unlink" id="action-unlink" >' in page
    assert tabs.VIEWER_REASON not in page


def test_without_a_connection_the_actions_are_disabled_and_say_so(accountant_client):
    customer("Bayview Cafe")
    page = accountant_client.get(CUSTOMERS).content.decode()
    assert f'disabled title="{tabs.NOT_CONNECTED_REASON}"' in page


def test_actions_must_be_posted_by_an_accountant(client, viewer, outsider):
    link = linked("Tui Books", XeroConnectionFactory())
    data = {"action": "unlink", "confirmed": "yes", "contact": link.contact.pk}
    anonymous = client.post(SALES_ACTION, data)
    assert anonymous.status_code == 302 and "/login/" in anonymous.url
    for person in (viewer, outsider):
        client.force_login(person)
        assert client.post(SALES_ACTION, data).status_code == 403
        assert client.get(unlink_url(link.contact)).status_code == 403
    client.force_login(UserFactory(username="root", is_superuser=True))
    assert client.get(SALES_ACTION).status_code == 405
    assert ContactLink.objects.filter(pk=link.pk).exists()
    assert not LinkEvent.objects.exists()


# The action bar


def test_an_action_needing_rows_asks_for_a_selection(accountant_client):
    XeroConnectionFactory()
    response = accountant_client.post(SALES_ACTION, {"action": "upload"}, follow=True)
    assert "Select at least one contact" in response.content.decode()


def test_actions_dispatch_the_tabs_selected_contacts_in_the_organisation_shown(
    accountant_client, monkeypatch
):
    connection = XeroConnectionFactory()
    mine = customer("Bayview Cafe")
    supplier = ready(SupplierFactory(name="Kiwi Coffee Roasters"))
    calls = []
    for module, name in ((upload_views, "upload_selected"), (link_views, "relink_selected")):
        monkeypatch.setattr(
            module,
            name,
            lambda request, *, connection, contacts, name=name: calls.append(
                (name, connection, sorted(c.name for c in contacts))
            ),
        )
    monkeypatch.setattr(
        webhook_views,
        "check_links",
        lambda request, *, connection: calls.append(("check", connection)),
    )
    for action in ("upload", "relink", "check_links"):
        accountant_client.post(SALES_ACTION, {"action": action, "contact": [mine.pk, supplier.pk]})
    assert calls == [
        ("upload_selected", connection, ["Bayview Cafe"]),
        ("relink_selected", connection, ["Bayview Cafe"]),
        ("check", connection),
    ]


def test_contacts_from_another_tab_count_as_not_selected(accountant_client):
    XeroConnectionFactory()
    supplier = ready(SupplierFactory(name="Kiwi Coffee Roasters"))
    response = accountant_client.post(
        SALES_ACTION, {"action": "upload", "contact": supplier.pk}, follow=True
    )
    assert "Select at least one contact" in response.content.decode()


def test_an_action_returns_to_the_list_as_it_was(accountant_client):
    XeroConnectionFactory()
    here = f"{CUSTOMERS}?linked=unlinked&sort=-ready&page=2"
    response = accountant_client.post(SALES_ACTION, {"action": "check_links", "next": here})
    assert response.status_code == 302 and response.url == here
    elsewhere = accountant_client.post(
        SALES_ACTION, {"action": "check_links", "next": "https://evil.example/"}
    )
    assert elsewhere.url == CUSTOMERS


def test_an_action_shows_its_messages_above_the_table(accountant_client):
    XeroConnectionFactory()
    response = accountant_client.post(SALES_ACTION, {"action": "check_links"}, follow=True)
    html = response.content.decode()
    assert html.index('id="contacts-messages"') < html.index('id="contacts"')


# Bulk Unlink


def test_unlink_asks_first_naming_the_contacts_and_what_happens(accountant_client):
    connection = XeroConnectionFactory()
    tui = linked("Tui Books", connection, xero_name="Tui Books Ltd")
    seaside = linked("Seaside Surf", connection, xero_name="Seaside Surf Shop")
    bayview = customer("Bayview Cafe")
    response = accountant_client.post(
        SALES_ACTION,
        {
            "action": "unlink",
            "contact": [tui.contact.pk, seaside.contact.pk, bayview.pk],
            "next": f"{CUSTOMERS}?sort=-ready",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200 and "<html" in page  # the confirm page, no JavaScript
    assert "Unlink 2 contacts?" in page
    assert "Tui Books</bdi></strong>" in page and "Tui Books Ltd" in page
    assert "Seaside Surf</bdi></strong>" in page and "Seaside Surf Shop" in page
    assert "stay in Xero on the old contact" in page and "wait until" in page
    assert "1 of the selected contacts has no linked contact" in page
    assert f'href="{CUSTOMERS}?sort=-ready" data-close-dialog' in page  # Cancel: back, as it was
    assert ContactLink.objects.count() == 2 and not LinkEvent.objects.exists()


def test_cancelling_the_confirmation_changes_nothing(accountant_client):
    link = linked("Tui Books", XeroConnectionFactory())
    accountant_client.post(SALES_ACTION, {"action": "unlink", "contact": link.contact.pk})
    after_cancel = accountant_client.get(CUSTOMERS).content.decode()  # Cancel is a link back
    assert ContactLink.objects.filter(pk=link.pk).exists() and not LinkEvent.objects.exists()
    assert link.xero_name in row(after_cancel, link.contact)


def test_confirmed_unlink_unlinks_each_with_its_own_audit_event(accountant_client, accountant):
    connection = XeroConnectionFactory()
    tui = linked("Tui Books", connection, xero_name="Tui Books Ltd")
    seaside = linked("Seaside Surf", connection, xero_name="Seaside Surf Shop")
    kept = linked("Harbour Cafe", connection)
    response = accountant_client.post(
        SALES_ACTION,
        {"action": "unlink", "confirmed": "yes", "contact": [tui.contact.pk, seaside.contact.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "Unlinked 2 contacts. They now have no linked contact." in page
    for link in (tui, seaside):
        assert '<span class="muted">No linked contact</span>' in row(page, link.contact)
        assert f"Unlinked from {link.xero_name}." in row(page, link.contact)
    assert list(ContactLink.objects.all()) == [kept]
    events = LinkEvent.objects.order_by("contact_name")
    assert [(e.contact_name, e.action, e.actor) for e in events] == [
        ("Seaside Surf", "unlink", accountant),
        ("Tui Books", "unlink", accountant),
    ]
    assert events[0].xero_contact_id_before == seaside.xero_contact_id


def test_one_contact_failing_to_unlink_never_hides_the_others(accountant_client):
    connection = XeroConnectionFactory(organisation_name="Demo Company (NZ)")
    tui = linked("Tui Books", connection)
    gone = customer("Bayview Cafe")  # unlinked by someone else after the dialog opened
    seaside = linked("Seaside Surf", connection)
    response = accountant_client.post(
        SALES_ACTION,
        {
            "action": "unlink",
            "confirmed": "yes",
            "contact": [tui.contact.pk, gone.pk, seaside.contact.pk],
        },
        follow=True,
    )
    page = response.content.decode()
    assert "Bayview Cafe is not linked to a Xero contact in Demo Company (NZ)." in row(page, gone)
    assert not ContactLink.objects.exists()
    assert LinkEvent.objects.count() == 2


def test_unlink_on_contacts_with_no_link_says_so(accountant_client):
    XeroConnectionFactory()
    contact = customer("Bayview Cafe")
    response = accountant_client.post(
        SALES_ACTION, {"action": "unlink", "contact": contact.pk}, follow=True
    )
    assert "None of the selected contacts has a linked contact." in response.content.decode()


def test_unlink_leaves_contacts_of_the_other_tab_alone(accountant_client):
    connection = XeroConnectionFactory()
    mine = linked("Tui Books", connection)
    theirs = ContactLinkFactory(contact=ready(SupplierFactory()), connection=connection)
    page = accountant_client.post(
        SALES_ACTION, {"action": "unlink", "contact": [mine.contact.pk, theirs.contact.pk]}
    ).content.decode()
    assert "Unlink <bdi>Tui Books</bdi>?" in page and theirs.contact.name not in page
    accountant_client.post(
        SALES_ACTION,
        {"action": "unlink", "confirmed": "yes", "contact": [mine.contact.pk, theirs.contact.pk]},
    )
    assert list(ContactLink.objects.all()) == [theirs]


def test_htmx_unlink_fills_the_dialog_and_confirming_swaps_the_table(accountant_client):
    link = linked("Tui Books", XeroConnectionFactory())
    htmx = {"HX-Request": "true"}
    ask = accountant_client.post(
        SALES_ACTION, {"action": "unlink", "contact": link.contact.pk}, headers=htmx
    )
    assert ask["HX-Retarget"] == "#confirm-dialog" and ask["HX-Reswap"] == "innerHTML"
    fragment = ask.content.decode()
    assert "<html" not in fragment and 'id="confirm-title"' in fragment
    assert 'hx-target="#contacts-region"' in fragment
    done = accountant_client.post(
        SALES_ACTION,
        {"action": "unlink", "confirmed": "yes", "contact": link.contact.pk, "next": CUSTOMERS},
        headers=htmx,
        follow=True,
    )
    table = done.content.decode()
    assert "<html" not in table and "Unlinked 1 contact." in table
    assert '<span class="muted">No linked contact</span>' in row(table, link.contact)


def test_a_rows_unlink_link_asks_for_that_contact_alone(accountant_client):
    link = linked("Tui Books", XeroConnectionFactory(), xero_name="Tui Books Ltd")
    page = accountant_client.get(CUSTOMERS).content.decode()
    assert f'href="{unlink_url(link.contact)}?next=' in row(page, link.contact)
    confirm = accountant_client.get(unlink_url(link.contact), {"next": f"{CUSTOMERS}?page=2"})
    html = confirm.content.decode()
    assert "Unlink <bdi>Tui Books</bdi>?" in html and "Tui Books Ltd" in html
    assert f'name="next" value="{CUSTOMERS}?page=2"' in html
    assert ContactLink.objects.exists()


# Several organisations


def two_organisations():
    """Demo, connected first, and Harbour, connected since (so shown by default)."""
    demo = XeroConnectionFactory(
        organisation_name="Demo Company (NZ)", connected_at=timezone.now() - timedelta(days=2)
    )
    harbour = XeroConnectionFactory(
        organisation_name="Harbour Trading", connected_at=timezone.now() - timedelta(days=1)
    )
    return demo, harbour


def test_one_organisation_has_no_switcher_but_can_connect_another(accountant_client):
    XeroConnectionFactory()
    page = accountant_client.get(CUSTOMERS).content.decode()
    assert '<select id="organisation"' not in page
    assert "Connect another organisation</button>" in page


def test_switching_organisation_shows_its_links_filters_and_banner(viewer_client):
    demo, harbour = two_organisations()
    harbour.status = ConnectionStatus.NEEDS_RECONNECT
    harbour.save()
    link = linked("Tui Books", demo, xero_name="Tui Books Ltd")
    before = viewer_client.get(CUSTOMERS, {"linked": "linked"}).content.decode()
    assert "Harbour Trading</bdi></strong>" in before and "Xero needs reconnecting." in before
    assert '<option value="' + str(demo.pk) + '" >Demo Company (NZ)</option>' in before
    assert "Tui Books" not in before  # linked in Demo, not in Harbour

    response = viewer_client.post(SWITCH, {"connection": demo.pk, "next": CUSTOMERS})
    assert response.url == CUSTOMERS
    after = viewer_client.get(CUSTOMERS, {"linked": "linked"}).content.decode()
    assert "Demo Company (NZ)</bdi></strong>" in after and "Xero needs reconnecting." not in after
    assert "Tui Books Ltd" in row(after, link.contact)
    assert f'<option value="{demo.pk}" selected>' in after


def test_actions_belong_to_the_organisation_shown(accountant_client):
    demo, harbour = two_organisations()
    in_demo = linked("Tui Books", demo)
    ContactLinkFactory(contact=in_demo.contact, connection=harbour)
    accountant_client.post(SWITCH, {"connection": demo.pk})
    accountant_client.post(
        SALES_ACTION, {"action": "unlink", "confirmed": "yes", "contact": in_demo.contact.pk}
    )
    assert list(ContactLink.objects.values_list("connection", flat=True)) == [harbour.pk]
    assert LinkEvent.objects.get().organisation_name == "Demo Company (NZ)"


def test_a_colleague_connecting_another_organisation_does_not_change_the_one_shown(
    viewer_client,
):
    demo, _ = two_organisations()
    viewer_client.post(SWITCH, {"connection": demo.pk})
    XeroConnectionFactory(organisation_name="Kauri Holdings")
    assert "Demo Company (NZ)</bdi></strong>" in viewer_client.get(CUSTOMERS).content.decode()


def test_an_action_chosen_on_another_organisation_does_nothing(accountant_client):
    demo, harbour = two_organisations()
    accountant_client.post(SWITCH, {"connection": demo.pk})
    link = linked("Tui Books", demo, xero_name="Tui Books Ltd")
    page = accountant_client.post(
        SALES_ACTION,
        {"action": "unlink", "confirmed": "yes", "contact": link.contact.pk,
         "connection": harbour.pk},
        follow=True,
    ).content.decode()  # fmt: skip
    assert "The organisation shown is now Demo Company (NZ); nothing was done." in page
    assert ContactLink.objects.filter(pk=link.pk).exists()


def test_switching_to_an_organisation_no_longer_connected_is_refused(viewer_client):
    demo, _ = two_organisations()
    demo.status = ConnectionStatus.DISCONNECTED
    demo.save()
    response = viewer_client.post(SWITCH, {"connection": demo.pk}, follow=True)
    page = response.content.decode()
    assert "That organisation is not connected any more." in page
    assert "Harbour Trading</bdi></strong>" in page


def test_a_chosen_organisation_disconnected_later_falls_back_to_the_newest(viewer_client):
    demo, _ = two_organisations()
    viewer_client.post(SWITCH, {"connection": demo.pk})
    demo.status = ConnectionStatus.DISCONNECTED
    demo.save()
    assert "Harbour Trading</bdi></strong>" in viewer_client.get(CUSTOMERS).content.decode()


def test_switch_goes_back_only_to_our_own_pages(viewer_client):
    demo, _ = two_organisations()
    response = viewer_client.post(SWITCH, {"connection": demo.pk, "next": "//evil.example/"})
    assert response.url == reverse("sync:dashboard")


# A contact's page


def test_contact_page_shows_details_link_and_history_newest_first(viewer_client, accountant):
    demo, harbour = two_organisations()
    old = XeroContactFactory(connection=harbour, name="Tui Books (old)")
    new = XeroContactFactory(connection=harbour, name="Tui Books Limited")
    contact = customer(
        "Tui Books", count=2, first_name="Aroha", last_name="Tane", phone="+64 9 555 0101"
    )
    ContactLinkFactory(
        contact=contact,
        connection=harbour,
        xero_name="Tui Books Limited",
        xero_contact_id=new.contact_id,
    )
    base = dict(contact=contact, connection=harbour, actor=accountant)
    LinkEventFactory(**base, xero_contact_id_after=old.contact_id, detail="Linked by search")
    LinkEventFactory(
        **base,
        action=LinkEvent.Action.RELINK,
        xero_contact_id_before=old.contact_id,
        xero_contact_id_after=new.contact_id,
        detail="Now linked to Tui Books Limited",
    )
    LinkEventFactory(contact=contact, connection=demo, detail="Something in Demo")
    page = viewer_client.get(detail_url(contact)).content.decode()
    assert "Tui Books</bdi></h2>" in page and "+64 9 555 0101" in page
    assert "<bdi>Aroha</bdi> <bdi>Tane</bdi>" in page
    assert "2 transactions" in page
    assert "Linked Contact in <bdi>Harbour Trading</bdi>" in page
    assert "Tui Books Limited</bdi></strong>" in page
    history = page[page.index('id="history"') :]
    assert names_in_order(history, "Now linked to", "Linked by search") == [
        "Now linked to",
        "Linked by search",
    ]
    assert "Relinked" in history and "Linked</td>" in history
    assert "Alex Accountant" in history
    assert "Tui Books (old)</bdi></span>\n           → \n          <span" in history
    assert "Something in Demo" not in page  # another organisation's history


def test_contact_page_of_an_unlinked_contact(viewer_client):
    XeroConnectionFactory()
    contact = customer("Bayview Cafe")
    page = viewer_client.get(detail_url(contact)).content.decode()
    assert '<span class="muted">No linked contact</span>' in page
    assert "Nothing has been linked, unlinked or uploaded for <bdi>Bayview Cafe</bdi> yet." in page


def test_contact_page_is_only_for_the_tabs_contacts(viewer_client):
    supplier = SupplierFactory()
    assert viewer_client.get(detail_url(supplier, tab="sales")).status_code == 404
    assert viewer_client.get(detail_url(supplier, tab="purchases")).status_code == 200


def test_contact_name_links_to_its_page(viewer_client):
    contact = customer("Bayview Cafe")
    page = viewer_client.get(CUSTOMERS).content.decode()
    name = "<bdi>Bayview Cafe</bdi>"
    assert f'<a class="contact-name" href="{detail_url(contact)}">{name}</a>' in page


# Hostile names


def test_hostile_names_are_shown_as_text_everywhere(accountant_client):
    connection = XeroConnectionFactory(organisation_name=HOSTILE)
    XeroConnectionFactory(organisation_name="Second", connected_at=timezone.now() - timedelta(1))
    survivor = XeroContactFactory(connection=connection, name=HOSTILE)
    link = ContactLinkFactory(
        contact=customer(HOSTILE, first_name=HOSTILE),
        connection=connection,
        xero_name=HOSTILE,
        status=LinkStatus.INVALID,
        invalid_reason=InvalidReason.MERGED,
        merged_into_xero_contact_id=survivor.contact_id,
    )
    LinkEventFactory(contact=link.contact, connection=connection, detail=HOSTILE)
    pages = [
        accountant_client.get(CUSTOMERS).content.decode(),
        accountant_client.get(detail_url(link.contact)).content.decode(),
        accountant_client.post(
            SALES_ACTION, {"action": "unlink", "contact": link.contact.pk}
        ).content.decode(),
        accountant_client.post(
            SALES_ACTION,
            {"action": "unlink", "confirmed": "yes", "contact": link.contact.pk},
            follow=True,
        ).content.decode(),
    ]
    for page in pages:
        assert HOSTILE not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_changed_means_changed_in_the_organisation_shown(viewer_client):
    demo, harbour = two_organisations()
    contact = customer("Tui Books")
    for connection in (demo, harbour):
        ContactLinkFactory(contact=contact, connection=connection, uploaded_fingerprint="stale")
    ContactLink.objects.filter(connection=harbour).update(
        uploaded_fingerprint=contact.details_fingerprint
    )
    assert list(SyncContact.objects.changed(demo)) == [contact]
    assert not SyncContact.objects.changed(harbour).exists()


def test_with_two_organisations_an_unlinked_customer_waits_on_each_list_to_be_linked(
    viewer_client,
):
    # No branch mapping: the rule cannot say which organisation the unlinked customer's
    # invoices are for, so each organisation's list offers it for linking, with its count.
    demo = XeroConnectionFactory(organisation_name="Demo Company (NZ)")
    harbour = XeroConnectionFactory(organisation_name="Harbour Trading")
    customer("Kea Outfitters", count=2)
    linked("Tui Books", harbour)  # Harbour's: not on Demo's list
    for shown in (demo, harbour):
        viewer_client.post(SWITCH, {"connection": shown.pk})
        page = viewer_client.get(CUSTOMERS).content.decode()
        row = re.search(
            r'<tr[^>]*id="contact-\d+"[^>]*>(?:(?!</tr>).)*Kea Outfitters.*?</tr>', page, re.S
        )
        assert row is not None, shown
        assert re.search(r">\s*2\s*<", row.group(0))
    viewer_client.post(SWITCH, {"connection": demo.pk})
    assert "Tui Books" not in viewer_client.get(CUSTOMERS).content.decode()
