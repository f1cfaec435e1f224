"""An upload that goes on in the background ends, on the page that started it, with its
summary: the progress bar gives way to the counts without the page being reloaded."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from sync.uploads import services as uploads
from tests.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_upload_of_several_contacts_ends_with_its_summary_in_place(
    connected, live_server, monkeypatch, screenshot
):
    monkeypatch.setattr(uploads, "BATCH_SIZE", 2)  # two now, the rest in the background
    contacts = [ContactFactory(name=f"Tui Store {n}") for n in range(5)]
    page = connected
    page.goto(f"{live_server.url}/accounting/xero/sales/customers/?show=all")
    for contact in contacts:
        page.locator(f"#contact-{contact.pk}").get_by_role("checkbox").check()
    page.get_by_role("button", name="Upload", exact=True).click()
    progress = page.locator("#upload-progress")
    expect(progress).to_contain_text("2 of 5 uploaded")
    expect(progress.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "2")
    page.evaluate("window.notReloaded = true")

    call_command("db_worker", "--batch", "--no-startup-delay", "-v", "0")

    expect(progress).to_contain_text(
        "Upload finished: Contacts: 5 uploaded, 0 failed.", timeout=10_000
    )
    expect(progress.get_by_role("link", name="See each contact")).to_be_visible()
    expect(page.locator(f"#contact-{contacts[-1].pk}")).to_contain_text("Uploaded")
    assert page.evaluate("window.notReloaded") is True  # the same page, never reloaded
    screenshot("upload-summary")
