"""Match suggestions: name normalisation (properties), scoring with its evidence, what is
unambiguous, dismissals that stay, accepting, and the subtab showing them."""

import string

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from sync.links import normalise
from sync.links import suggestions as matching
from sync.models import ContactLink, DismissedSuggestion, LinkEvent
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    XeroConnectionFactory,
    XeroContactFactory,
)

# --- Name normalisation ------------------------------------------------------------------------

words = st.text(alphabet=string.ascii_letters + "éüñ", min_size=1, max_size=8)
business = st.lists(words, min_size=1, max_size=5).map(" ".join)
legal = st.sampled_from(["Ltd", "Limited", "LTD.", "Pty Ltd", "Pty. Limited", "Co", "Inc."])


@given(business)
def test_normalising_twice_changes_nothing(name):
    assert normalise.name_key(normalise.name_key(name)) == normalise.name_key(name)


@given(business)
def test_case_does_not_count(name):
    assert normalise.name_key(name.upper()) == normalise.name_key(name.lower())


@given(business, legal)
def test_a_trailing_legal_form_does_not_count(name, form):
    if (
        normalise.name_key(name).split()[-1:]
        and normalise.name_key(name).split()[-1] in normalise.LEGAL_FORMS
    ):
        return  # a name that itself ends in one ("Acme Co") keeps at least its first word
    assert normalise.name_key(f"{name} {form}") == normalise.name_key(name)


@given(business, st.lists(st.sampled_from(list(".,-'()/ ")), max_size=4))
def test_punctuation_and_spacing_do_not_count(name, marks):
    spaced = "  ".join(name.split()) + "".join(marks)
    assert normalise.name_key(spaced) == normalise.name_key(name)


@given(business)
def test_a_name_with_letters_never_becomes_empty(name):
    assert normalise.name_key(name) != ""


def test_examples_of_nearly_the_same_names():
    same = ["Tui Books Limited", "TUI BOOKS LTD.", "Tui  Books", "Tui-Books (NZ) Ltd"]
    assert {normalise.name_key(n) for n in same} == {"tui books"}
    assert (
        normalise.name_key("Harbour & Co") == normalise.name_key("Harbour and Co") == "harbour and"
    )
    assert normalise.name_key("Café Rangi") == "cafe rangi"
    assert normalise.name_key("Limited") == "limited"


# --- Scoring ----------------------------------------------------------------------------------


@pytest.fixture
def connection(db):
    return XeroConnectionFactory()


def suggest(connection, contact):
    return matching.suggestions_for(connection=connection, contacts=[contact]).get(contact.pk, [])


def test_the_evidence_shown_is_what_the_score_is_made_of(connection):
    XeroContactFactory(
        connection=connection, name="Kiwi Coffee Co", email="SALES@kiwi.nz", tax_number="12 345 678"
    )
    contact = ContactFactory(
        name="Kiwi Coffee Roasters", email="sales@kiwi.nz", tax_number="12-345-678"
    )
    (found,) = suggest(connection, contact)
    assert found.evidence == "same email and tax number"
    assert found.score == matching.POINTS["email"] + matching.POINTS["tax number"]


def test_a_nearly_same_name_alone_is_evidence(connection):
    XeroContactFactory(connection=connection, name="Tui Books Limited")
    (found,) = suggest(connection, ContactFactory(name="Tui Books", email="", account_number=""))
    assert (found.evidence, found.score) == ("nearly the same name", matching.NEARLY_SAME_NAME)


def test_a_similar_name_adds_points_next_to_other_evidence(connection):
    XeroContactFactory(connection=connection, name="Kauri Coast Outfiters", account_number="C7")
    contact = ContactFactory(name="Kauri Coast Outfitters", account_number="C7", email="")
    (found,) = suggest(connection, contact)
    assert found.evidence.startswith("same account number; similar name (")
    assert matching.POINTS["account number"] < found.score <= 50


def test_archived_merged_and_other_organisations_contacts_are_never_suggested(connection):
    from sync.models import XeroContact

    XeroContactFactory(connection=connection, name="Tui Books", status=XeroContact.Status.ARCHIVED)
    XeroContactFactory(connection=connection, name="Tui Books", merged_into_xero_contact_id=None)
    XeroContact.objects.filter(connection=connection, status="ACTIVE").update(
        merged_into_xero_contact_id="00000000-0000-0000-0000-000000000001"
    )
    XeroContactFactory(name="Tui Books")  # another organisation
    assert suggest(connection, ContactFactory(name="Tui Books")) == []


def test_one_strong_free_candidate_is_unambiguous(connection):
    XeroContactFactory(connection=connection, name="Bayview Cafe Ltd", account_number="C1001")
    contact = ContactFactory(name="Bayview Cafe", account_number="C1001")
    (found,) = suggest(connection, contact)
    assert found.unambiguous


def test_two_strong_candidates_are_ambiguous(connection):
    XeroContactFactory(connection=connection, name="Harbourside Deli")
    XeroContactFactory(connection=connection, name="Harbourside Deli Ltd")
    found = suggest(connection, ContactFactory(name="Harbourside Deli"))
    assert len(found) == 2 and not any(s.unambiguous for s in found)


def test_a_candidate_two_contacts_claim_is_ambiguous_for_both(connection):
    XeroContactFactory(connection=connection, name="Summit Cycles")
    first, second = ContactFactory(name="Summit Cycles"), ContactFactory(name="Summit Cycles Ltd")
    found = matching.suggestions_for(connection=connection, contacts=[first, second])
    assert not found[first.pk][0].unambiguous and not found[second.pk][0].unambiguous


def test_a_candidate_linked_elsewhere_says_so_and_is_not_unambiguous(connection):
    xero = XeroContactFactory(connection=connection, name="Summit Cycles")
    ContactLinkFactory(
        connection=connection, xero_contact_id=xero.contact_id, contact__name="Summit Old"
    )
    (found,) = suggest(connection, ContactFactory(name="Summit Cycles"))
    assert found.linked_to == ("Summit Old",) and not found.unambiguous
    assert found.blocked  # one Xero contact, one Omni contact


def test_a_candidate_linked_elsewhere_offers_no_accept_but_may_be_dismissed(
    accountant_client, connection
):
    xero = XeroContactFactory(connection=connection, name="Summit Cycles")
    ContactLinkFactory(
        connection=connection, xero_contact_id=xero.contact_id, contact__name="Summit Old"
    )
    contact = ContactFactory(name="Summit Cycles")
    page = subtab(accountant_client)
    only_one = "a Xero contact is linked to one Omni contact only"
    assert f"linked to <bdi>Summit Old</bdi>: {only_one}" in page
    assert f'aria-label="Accept Summit Cycles for {contact.name}"' not in page
    assert f'aria-label="Dismiss Summit Cycles for {contact.name}"' in page


def test_a_customer_may_accept_the_xero_contact_of_its_own_supplier_record(connection):
    xero = XeroContactFactory(connection=connection, name="Summit Cycles")
    ContactLinkFactory(
        connection=connection,
        xero_contact_id=xero.contact_id,
        contact__name="Summit Cycles",
        contact__is_customer=False,
        contact__is_supplier=True,
    )
    (found,) = suggest(connection, ContactFactory(name="Summit Cycles", is_customer=True))
    assert found.linked_to == ("Summit Cycles",) and not found.blocked


def test_suggestions_for_a_page_take_three_queries(connection, django_assert_num_queries):
    contacts = [ContactFactory(name=f"Shop {n}", tax_number=f"T{n}") for n in range(50)]
    for n in range(50):
        XeroContactFactory(connection=connection, name=f"Shop {n} Ltd", tax_number=f"T{n}")
    # the candidates by their keys, the dismissals, the links of the candidates
    with django_assert_num_queries(3):
        found = matching.suggestions_for(connection=connection, contacts=contacts)
    assert len(found) == 50


# --- Dismiss and accept -----------------------------------------------------------------------


def test_a_dismissed_suggestion_stays_dismissed(connection, accountant):
    xero = XeroContactFactory(connection=connection, name="Tui Books Ltd")
    contact = ContactFactory(name="Tui Books")
    matching.suggestion_dismiss(
        connection=connection, contact=contact, xero_contact_id=xero.contact_id, user=accountant
    )
    assert suggest(connection, contact) == []
    assert DismissedSuggestion.objects.get().dismissed_by == accountant
    assert suggest(connection, ContactFactory(name="Tui Books Limited"))  # only for that contact


def test_accepting_all_links_only_the_unambiguous(connection, accountant):
    XeroContactFactory(connection=connection, name="Bayview Cafe Ltd", account_number="C1001")
    XeroContactFactory(connection=connection, name="Harbourside Deli")
    XeroContactFactory(connection=connection, name="Harbourside Deli Ltd")
    clear = ContactFactory(name="Bayview Cafe", account_number="C1001")
    unclear = ContactFactory(name="Harbourside Deli")
    result = matching.suggestions_accept_unambiguous(
        connection=connection, contacts=[clear, unclear], user=accountant
    )
    assert [(c, n) for c, n in result.linked] == [(clear, "Bayview Cafe Ltd")]
    assert list(ContactLink.objects.values_list("contact__name", flat=True)) == ["Bayview Cafe"]
    assert LinkEvent.objects.get().actor == accountant


# --- On the subtab ----------------------------------------------------------------------------


def subtab(client, **params):
    url = reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "customers"})
    return client.get(url, {"show": "all", **params}).content.decode()


def test_unlinked_rows_show_their_suggestions_with_evidence(accountant_client, connection):
    XeroContactFactory(connection=connection, name="Bayview Cafe Ltd", account_number="C1001")
    contact = ContactFactory(name="Bayview Cafe", account_number="C1001")
    page = subtab(accountant_client)
    assert "Bayview Cafe Ltd" in page and "same account number; nearly the same name" in page
    assert f'aria-label="Accept Bayview Cafe Ltd for {contact.name}"' in page
    assert "Accept 1 unambiguous suggestion" in page


def test_accept_all_on_the_page_and_dismiss_through_the_views(accountant_client, connection):
    xero = XeroContactFactory(connection=connection, name="Bayview Cafe Ltd", account_number="C1")
    clear = ContactFactory(name="Bayview Cafe", account_number="C1")
    other = XeroContactFactory(connection=connection, name="Tui Books Ltd")
    tui = ContactFactory(name="Tui Bookshop", account_number="")  # similar: not strong
    accept = reverse("sync:suggestions_accept", kwargs={"tab": "sales"})
    accountant_client.post(accept, {"contact": [clear.pk, tui.pk]})
    link = ContactLink.objects.get()
    assert (link.contact, link.xero_contact_id) == (clear, xero.contact_id)
    dismiss = reverse("sync:suggestion_dismiss", kwargs={"tab": "sales", "pk": tui.pk})
    accountant_client.post(dismiss, {"xero_contact_id": str(other.contact_id)})
    assert "Tui Books Ltd" not in subtab(accountant_client)


def test_viewers_see_suggestions_but_no_buttons(viewer_client, connection):
    XeroContactFactory(connection=connection, name="Bayview Cafe Ltd", account_number="C1")
    ContactFactory(name="Bayview Cafe", account_number="C1")
    page = subtab(viewer_client)
    assert "Bayview Cafe Ltd" in page and "Accept" not in page
    dismiss = reverse("sync:suggestions_accept", kwargs={"tab": "sales"})
    assert viewer_client.post(dismiss).status_code == 403


def test_the_migration_gives_existing_mirror_rows_their_keys(connection):
    import importlib

    from django.apps import apps

    from sync.models import XeroContact

    migration = importlib.import_module("sync.migrations.0009_import_and_suggestions")
    row = XeroContactFactory(connection=connection, name="Tui Books Ltd", tax_number="12-345")
    XeroContact.objects.filter(pk=row.pk).update(name_key="", tax_key="")
    migration.fill_match_keys(apps, None)
    row.refresh_from_db()
    assert (row.name_key, row.tax_key) == ("tui books", "12345")


@pytest.mark.parametrize("unlinked", [5, 25])
def test_suggestions_add_three_queries_to_the_subtab_however_many_rows(
    viewer_client, connection, django_assert_num_queries, unlinked
):
    for n in range(unlinked):
        ContactFactory(name=f"Kauri {n:02} Ltd", tax_number=f"T{n}")
        XeroContactFactory(connection=connection, name=f"Kauri {n:02} Limited", tax_number=f"T{n}")
    subtab(viewer_client)  # counts the link counts and errors, kept for the next views
    # 1 session, 2 user, 3-4 the user's permissions, 5 the organisation shown, 6 the
    # organisations for the switcher, 7 its mirrored count, 8 the unread notifications,
    # 9 the live poller's cursor, 10 the link counts kept, 11 the 30 days of syncs, 12 contacts
    # count, 13 the page of contacts, 14 their links, 15 their recent uploads, 16 the page's
    # ready counts, 17-19 the suggestions (candidates, dismissals, the candidates' links),
    # 20 the uploads under way, 21-22 the webhook mode (the last signed delivery, the events
    # waiting), 23 the Errors count kept, 24 the filter kept for the user's next visit.
    with django_assert_num_queries(24):
        page = subtab(viewer_client)
    assert page.count('class="match-suggestion unambiguous"') == unlinked
