"""A value a page cannot use is a 400 that names it and says why (issue 16's probes)."""

import html

import pytest
from django.core.management import CommandError, call_command

from sync.models import SyncRun
from tests.factories import (
    ContactFactory,
    SyncItemFactory,
    SyncRunFactory,
    TransactionFactory,
    XeroConnectionFactory,
)
from transactions.models import SyncState

XERO = "/accounting/xero"
THIRTY_DIGITS = "9" * 30
DATES = "Give a date from 01 Jan 2000 to 31 Dec 2100 (YYYY-MM-DD)."


def bad(response, label, name, why):
    """The 400 page, styled as the app's (its top bar), naming the value and why."""
    page = html.unescape(response.content.decode())
    assert response.status_code == 400
    assert 'class="topbar"' in page and "Cannot use that value" in page
    named = f"<strong>{label}</strong>" + (f" (<code>{name}</code>)" if label != name else "")
    assert named in page
    assert why in page


@pytest.mark.parametrize(("name", "value"), [("until", "9999-12-31"), ("since", "0001-01-01")])
def test_a_log_date_out_of_range_is_a_400_naming_it(viewer_client, name, value):
    SyncRunFactory(connection=XeroConnectionFactory())
    response = viewer_client.get(f"{XERO}/log/", {name: value})
    bad(response, {"until": "To", "since": "From"}[name], name, DATES)


def test_the_log_export_refuses_a_date_out_of_range_instead_of_an_empty_file(viewer_client):
    SyncItemFactory(run__connection=XeroConnectionFactory())
    response = viewer_client.get(f"{XERO}/log/export.csv", {"since": "0001-01-01"})
    bad(response, "From", "since", DATES)
    assert viewer_client.get(f"{XERO}/log/export.csv", {"since": "2001-01-01"}).status_code == 200


def test_a_date_at_the_ends_of_the_range_still_lists(viewer_client):
    run = SyncRunFactory(connection=XeroConnectionFactory(), state=SyncRun.State.DONE)
    response = viewer_client.get(f"{XERO}/log/", {"since": "2000-01-01", "until": "2100-12-31"})
    assert response.status_code == 200 and f"{XERO}/log/{run.pk}/" in response.content.decode()


def test_a_30_digit_contact_in_an_action_is_a_400(accountant_client):
    XeroConnectionFactory()
    for contact in (THIRTY_DIGITS, "²"):
        response = accountant_client.post(
            f"{XERO}/sales/contacts/action/", {"action": "upload", "contact": contact}
        )
        bad(response, "contact", "contact", "is not an id: give a number of 1 to 18 digits.")


def test_a_30_digit_transaction_in_an_action_is_a_400(accountant_client):
    XeroConnectionFactory()
    response = accountant_client.post(
        f"{XERO}/sales/invoices/action/", {"action": "skip", "transaction": THIRTY_DIGITS}
    )
    bad(response, "transaction", "transaction", f"'{THIRTY_DIGITS}' is not an id")


def test_a_30_digit_id_in_a_path_is_not_found(accountant_client):
    XeroConnectionFactory()
    TransactionFactory(sync_state=SyncState.REFUSED)
    assert accountant_client.post(f"{XERO}/errors/{THIRTY_DIGITS}/resync/").status_code == 404
    assert accountant_client.get(f"{XERO}/log/{THIRTY_DIGITS}/").status_code == 404


@pytest.mark.parametrize(
    "path", ["/sales/customers/", "/sales/invoices/", "/sales/contacts/{pk}/xero-search/"]
)
def test_a_nul_in_a_search_is_a_400(viewer_client, path):
    XeroConnectionFactory()
    contact = ContactFactory()
    response = viewer_client.get(XERO + path.format(pk=contact.pk), {"q": "Kauri\x00"})
    bad(response, "Search", "q", "Null characters are not allowed.")


def test_an_unknown_choice_is_a_400(viewer_client):
    response = viewer_client.get(f"{XERO}/sales/customers/", {"linked": "no-such-filter"})
    bad(response, "Link", "linked", "That is not one of the choices offered")


def test_the_command_refuses_an_id_too_long_in_one_line(db):
    XeroConnectionFactory()
    with pytest.raises(CommandError, match=r"^--ids takes IDs of 1 to 18 digits") as error:
        call_command("sync_transactions", "--ids", f"4,{THIRTY_DIGITS}")
    assert "\n" not in str(error.value)
    with pytest.raises(CommandError, match="NUL"):
        call_command("sync_transactions", "--contact", "Kauri\x00")


@pytest.mark.parametrize("option", ["--ids", "--organisation"])
def test_an_empty_option_of_the_command_is_refused_not_read_as_everything(db, option):
    # `--ids "$IDS"` with nothing in $IDS would otherwise send every ready transaction.
    XeroConnectionFactory()
    with pytest.raises(CommandError, match=f"^{option}"):
        call_command("sync_transactions", option, "")


def test_a_contact_of_18_digits_is_looked_up_on_both_databases(db, capsys):
    XeroConnectionFactory()
    call_command("sync_transactions", "--contact", "9" * 18)
    assert "Nothing ready to sync." in capsys.readouterr().out


def test_a_next_that_is_not_a_page_returns_to_the_fallback(viewer_client):
    connection = XeroConnectionFactory()
    response = viewer_client.post(
        f"{XERO}/organisation/", {"connection": connection.pk, "next": "-1"}
    )
    assert response.status_code == 302 and response.url == f"{XERO}/"


def test_a_picked_xero_contact_that_is_no_xero_id_is_a_400_and_links_nothing(accountant_client):
    from sync.models import ContactLink

    XeroConnectionFactory()
    contact = ContactFactory(is_customer=True)
    url = f"{XERO}/sales/contacts/{contact.pk}/link/"
    response = accountant_client.post(url, {"xero_contact_id": "x" * 10_000})
    bad(response, "Xero contact", "xero_contact_id", "It is not a Xero id")
    bad(
        accountant_client.get(url, {"xero_contact_id": "6f2d\x00"}),
        "Xero contact",
        "xero_contact_id",
        "It is not a Xero id",
    )
    assert not ContactLink.objects.exists()
