"""Import the demo's Xero export in the browser: preview, confirm, the rows linked on import,
the rest listed for review, and suggestions accepted from the review and the subtab."""

import pytest
from playwright.sync_api import Page, expect

from sync.demo import load_demo_data
from sync.imports.views import SAMPLE
from sync.links import mirror
from sync.models import ContactLink, XeroConnection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The sandbox demo organisation's contacts that the sample export names (as `make run`
# seeds them), plus one the sample does not.
XERO_CONTACTS = [
    {
        "Name": "Bayview Cafe Ltd",
        "EmailAddress": "accounts@bayviewcafe.co.nz",
        "AccountNumber": "C1001",
    },
    {"Name": "Tui Books Limited", "EmailAddress": "orders@tuibooks.co.nz"},
    {"Name": "Kauri Coast Outfitters", "AccountNumber": "C1002"},
    {"Name": "Harbourside Deli"},
    {"Name": "Southern Alps Sports Ltd", "EmailAddress": "finance@southernalps.co.nz"},
    {"Name": "Spark New Zealand"},
    {"Name": "Waitemata Wine Bar Limited"},  # nearly the same name: suggested, unambiguous
    {"Name": "Aroha Gift Shop"},  # a similar name only: suggested, for a person to choose
]


@pytest.fixture
def connected(login, accountant, xero_settings, sandbox) -> Page:
    load_demo_data()
    sandbox.seed_contacts(sandbox.demo_tenant_id, XERO_CONTACTS)
    page = login(accountant)
    page.get_by_role("button", name="Connect to Xero").click()
    page.get_by_role("button", name="Allow access").click()
    expect(page.get_by_role("status").first).to_contain_text("Connected to Demo Company (NZ)")
    mirror.xero_contacts_refresh(connection=XeroConnection.objects.get())
    return page


def test_importing_the_demo_export_links_what_matches_and_lists_the_rest(
    connected, live_server, screenshot
):
    page = connected
    page.goto(f"{live_server.url}/accounting/xero/sales/customers/")
    page.get_by_role("link", name="Import from Xero spreadsheet").click()
    expect(page.get_by_label("Customers")).to_be_checked()
    expect(page.get_by_label("Link only")).to_be_checked()  # the default: Omni's data kept
    page.get_by_label("Xero contacts export").set_input_files(str(SAMPLE))
    screenshot("import-upload")
    page.get_by_role("button", name="Preview the import").click()

    summary = page.get_by_role("list", name="Summary")
    expect(summary).to_contain_text("1 new contact")
    expect(summary).to_contain_text("0 updates to Omni contacts")
    # A row links when exactly one active Xero contact is the same contact once normalised
    # (the file's "Harbourside Deli Ltd" is Xero's "Harbourside Deli").
    expect(summary).to_contain_text("6 to link to Xero")
    expect(summary).to_contain_text("2 to review")
    expect(page.get_by_text("Link only: matched Omni contacts keep their details.")).to_be_visible()
    expect(page.locator("#import-updates")).not_to_contain_text("→")
    screenshot("import-preview")
    assert not ContactLink.objects.exists()  # nothing written before Confirm

    page.get_by_role("button", name="Import 8 contacts").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "1 new, 0 updated, 6 linked to Xero, 2 to review."
    )
    review = page.locator("#import-review")
    expect(review.locator("tbody tr")).to_have_count(2)
    aroha_row = review.locator("tr").filter(has_text="Aroha Gift Store")
    expect(aroha_row).to_contain_text("similar name")
    expect(review.locator("tr").filter(has_text="Mangawhai Surf Co")).to_contain_text(
        "No Xero contact matches"
    )
    screenshot("import-result")
    linked = dict(ContactLink.objects.values_list("contact__name", "xero_name"))
    assert linked == {  # Omni's names, kept
        "Bayview Cafe": "Bayview Cafe Ltd",
        "Tui Books": "Tui Books Limited",
        "Kauri Coast Outfitters": "Kauri Coast Outfitters",
        "Southern Alps Sports": "Southern Alps Sports Ltd",
        "Harbourside Deli": "Harbourside Deli",
        "Waitemata Wine Bar": "Waitemata Wine Bar Limited",
    }
    assert set(ContactLink.objects.values_list("method", flat=True)) == {"import"}

    page.goto(f"{live_server.url}/accounting/xero/sales/customers/?show=all")
    bayview = page.locator("tr").filter(has_text="Bayview Cafe").first
    expect(bayview.locator("td.linked")).to_contain_text("Bayview Cafe Ltd")
    aroha = page.locator("tr").filter(has_text="Aroha Gift Store").first
    expect(aroha.locator(".match-suggestion")).to_contain_text("similar name")
    screenshot("customers-suggestions")
    box = page.locator("#contacts-region").bounding_box()
    assert box is not None
    page.screenshot(
        path="var/screenshots/customers-suggestions-top.png",
        full_page=True,
        clip={"x": box["x"], "y": box["y"], "width": box["width"], "height": 330},
    )
    # A similar name is no likely match: nothing is accepted for the accountant.
    expect(page.get_by_role("button", name="Accept 1 unambiguous suggestion")).to_have_count(0)
    expect(aroha.locator("td.linked")).to_contain_text("No linked contact")
    screenshot("import-customers-linked")


def test_an_admin_imports_from_django_admin(login, admin_user, live_server, screenshot):
    page = login(admin_user)
    page.goto(f"{live_server.url}/admin/contacts/contact/")
    page.get_by_role("link", name="Import from a Xero export").click()
    page.get_by_label("Xero contacts export").set_input_files(str(SAMPLE))
    page.get_by_label("Both").check()
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_role("list", name="Summary")).to_contain_text("8 new contacts")
    expect(page.locator("#import-new")).to_contain_text("Not linked: not connected to Xero")
    screenshot("admin-import-preview")
    page.get_by_role("button", name="Import 8 contacts").click()
    expect(page.locator("#import-review tbody tr")).to_have_count(8)
    assert ContactLink.objects.count() == 0  # not connected: imported, nothing to link to
