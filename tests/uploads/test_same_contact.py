"""One notion of "the same contact": Upload refuses a likely duplicate and offers to link it
(or Create anyway), creates a new contact after Unlink instead of linking the archived one,
never links a contact Xero answers with archived, and names an archived contact in the way;
the guard and the suggestions agree on every pair (Hypothesis). Against the sandbox."""

import json
import uuid
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contacts.models import Contact
from sync.links import health as links
from sync.links import mirror, services
from sync.links import suggestions as matching
from sync.models import (
    ContactLink,
    InvalidReason,
    LinkEvent,
    UploadRow,
    XeroApiCall,
    XeroContact,
)
from sync.uploads import services as uploads
from tests.factories import ContactFactory, XeroConnectionFactory, XeroContactFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "customers"}) + "?show=all"


def in_xero(sandbox, name: str) -> list[dict]:
    everyone = sandbox.call("GET", f"/_sandbox/organisations/{sandbox.demo_tenant_id}/contacts")
    return [c for c in everyone if c["Name"] == name]


def upload(connection, contact, user=None):
    return uploads.contacts_upload(connection=connection, contacts=[contact], user=user)


def test_a_likely_duplicate_is_refused_offered_and_created_only_if_asked(
    connection, sandbox, accountant, accountant_client
):
    sandbox.seed_contacts(
        sandbox.demo_tenant_id,
        [{"Name": "Southern Alps Sports Ltd", "EmailAddress": "finance@southernalps.co.nz"}],
    )
    contact = ContactFactory(name="Southern Alps Sports", is_customer=True)
    job = upload(connection, contact, accountant)
    row = job.rows.get()
    assert (row.state, row.refusal) == (UploadRow.State.DUPLICATE, UploadRow.Refusal.LIKELY)
    assert (row.suggested_name, row.evidence_codes) == ("Southern Alps Sports Ltd", ["name"])
    assert in_xero(sandbox, "Southern Alps Sports") == []  # nothing created
    assert not XeroApiCall.objects.filter(
        method__in=["PUT", "POST"], endpoint__contains="Contacts"
    ).exists()
    page = accountant_client.get(CUSTOMERS).content.decode()
    assert "Link to <bdi>Southern Alps Sports Ltd</bdi>" in page
    assert "same name once normalised" in page and "Create anyway" in page

    accountant_client.post(
        reverse("sync:create_anyway", kwargs={"tab": "sales", "pk": contact.pk}),
        {"next": CUSTOMERS},
    )
    (created,) = in_xero(sandbox, "Southern Alps Sports")
    link = ContactLink.objects.get(contact=contact)
    assert str(link.xero_contact_id) == created["ContactID"]
    event = LinkEvent.objects.get(contact=contact, action=LinkEvent.Action.CREATE_ANYWAY)
    assert event.actor == accountant and "Southern Alps Sports Ltd" in event.detail
    # Only for that row: another contact of the same name is refused again.
    again = upload(connection, ContactFactory(name="SOUTHERN ALPS SPORTS LIMITED"))
    assert again.rows.get().state == UploadRow.State.DUPLICATE


def test_upload_after_unlink_creates_and_links_a_new_active_contact(
    connection, sandbox, accountant
):
    # No account number: Xero refuses one an archived contact holds (the next test).
    contact = ContactFactory(name="Harbour Lights Gallery", account_number="", is_customer=True)
    assert upload(connection, contact, accountant).rows.get().state == UploadRow.State.DONE
    first = ContactLink.objects.get(contact=contact).xero_contact_id
    sandbox.archive(str(first))
    mirror.xero_contacts_refresh(connection=connection)
    links.links_check(connection=connection)
    assert ContactLink.objects.get(contact=contact).invalid_reason == InvalidReason.ARCHIVED
    services.contact_unlink(contact=contact, connection=connection, user=accountant)

    row = upload(connection, contact, accountant).rows.get()
    assert row.state == UploadRow.State.DONE, row.message
    link = ContactLink.objects.get(contact=contact)
    assert link.xero_contact_id != first and link.is_valid
    by_id = {c["ContactID"]: c for c in in_xero(sandbox, "Harbour Lights Gallery")}
    assert by_id[str(link.xero_contact_id)]["ContactStatus"] == "ACTIVE"
    assert by_id[str(first)]["ContactStatus"] == "ARCHIVED"
    # Created by a create-only call with a number the archived contact does not hold: a Xero
    # that matches POST /Contacts by ContactNumber could not have updated the archived one.
    create = XeroApiCall.objects.filter(endpoint__contains="Contacts").order_by("-pk").first()
    assert create is not None and create.method == "PUT"
    numbers = {c["ContactID"]: c.get("ContactNumber") for c in by_id.values()}
    assert numbers[str(link.xero_contact_id)] != numbers[str(first)]


def test_a_contact_xero_returns_archived_is_never_linked(connection, sandbox, accountant):
    contact = ContactFactory(name="Moa Motors", email="old@moa.nz")
    upload(connection, contact, accountant)
    xero_id = ContactLink.objects.get(contact=contact).xero_contact_id
    sandbox.archive(str(xero_id))  # the mirror does not know yet
    contact.email = "new@moa.nz"
    contact.save()
    row = upload(connection, contact, accountant).rows.get()
    assert (row.state, row.refusal) == (UploadRow.State.FAILED, UploadRow.Refusal.INACTIVE)
    assert "archived" in row.message.lower()
    link = ContactLink.objects.get(contact=contact)
    assert (link.is_valid, link.invalid_reason) == (False, InvalidReason.ARCHIVED)
    assert XeroContact.objects.get(contact_id=xero_id).status == "ARCHIVED"


def test_an_archived_contact_in_the_way_is_named_with_how_to_restore_it(
    connection, sandbox, accountant, accountant_client
):
    (old,) = sandbox.seed_contacts(
        sandbox.demo_tenant_id, [{"Name": "Old Harbour Traders", "AccountNumber": "C2001"}]
    )
    sandbox.archive(old)
    contact = ContactFactory(name="Harbour Trading", account_number="C2001", is_customer=True)
    row = upload(connection, contact, accountant).rows.get()
    assert (row.state, row.refusal) == (UploadRow.State.FAILED, UploadRow.Refusal.ARCHIVED_HOLDER)
    assert (row.suggested_name, str(row.suggested_xero_contact_id)) == ("Old Harbour Traders", old)
    page = accountant_client.get(CUSTOMERS).content.decode()
    assert "Old Harbour Traders</bdi></strong> is archived in Xero" in page
    assert "restore it in Xero and link it, or link another contact" in page


# --- The guard and the suggestions agree (no Xero call: both read the mirror) ----------------

names = st.sampled_from(
    ["Southern Alps Sports", "Southern Alps Sports Ltd", "SOUTHERN ALPS SPORTS LIMITED",
     "Southern Alps", "Sthn Alps Sports", "Café Rangi", "Cafe Rangi Ltd", "Tui & Co Books",
     "Tui and Co Books", "Kiwi Coffee"]
)  # fmt: skip
emails = st.sampled_from(["", "a@b.nz", "A@B.NZ ", "c@d.nz"])
numbers = st.sampled_from(["", "12-345-678", "12 345 678", "C1001", "c1001", "S1040"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    omni=st.tuples(names, emails, numbers, numbers),
    xero=st.tuples(names, emails, numbers, numbers, numbers),
)
def test_the_guard_blocks_exactly_what_the_suggestions_call_likely(omni, xero):
    connection = XeroConnectionFactory()
    name, email, tax, account = omni
    contact = ContactFactory(name=name, email=email, tax_number=tax, account_number=account)
    x_name, x_email, x_tax, x_account, x_number = xero
    row = XeroContactFactory(
        connection=connection, contact_id=uuid.uuid4(), name=x_name, email=x_email,
        tax_number=x_tax, account_number=x_account, contact_number=x_number,
    )  # fmt: skip
    suggested = matching.suggestions_for(connection=connection, contacts=[contact], shown=None)
    likely = [s for s in suggested.get(contact.pk, []) if s.xero.contact_id == row.contact_id]
    blocked = uploads.duplicates_of(connection=connection, contacts=[contact])
    assert (contact.pk in blocked) == any(s.likely for s in likely)
    if contact.pk in blocked:
        assert blocked[contact.pk].xero.contact_id == row.contact_id
    # And "likely" means what the accountant is told: a shared normalised detail.
    shares = (
        (contact.name, row.name) in SAME_NAMES
        or (email.strip() and email.strip().lower() == x_email.strip().lower())
        or (tax and plain(tax) == plain(x_tax))
        or (account and plain(account) in (plain(x_account), plain(x_number)))
    )
    assert (contact.pk in blocked) == bool(shares)


def plain(number: str) -> str:
    return "".join(ch for ch in number.lower() if ch.isalnum())


_GROUPS = [
    {"Southern Alps Sports", "Southern Alps Sports Ltd", "SOUTHERN ALPS SPORTS LIMITED"},
    {"Café Rangi", "Cafe Rangi Ltd"},
    {"Tui & Co Books", "Tui and Co Books"},
]
SAME_NAMES = {(a, b) for group in _GROUPS for a in group for b in group} | {
    (n, n) for n in ["Southern Alps", "Sthn Alps Sports", "Kiwi Coffee"]
}


def test_the_demo_offers_southern_alps_sports_ltd_instead_of_a_duplicate(
    connection, sandbox, tmp_path, monkeypatch
):
    """`make run`'s demo: Omni's Southern Alps Sports against the seed's Southern Alps
    Sports Ltd in Xero."""
    monkeypatch.setattr("sync.demo.LOGINS_FILE", tmp_path / "logins.json")
    call_command("load_demo_data", stdout=StringIO())
    seed = json.loads((django_settings.BASE_DIR / "scripts" / "sandbox_seed.json").read_text())
    (contacts,) = seed["contacts"].values()
    active = [c for c in contacts if "ContactStatus" not in c and "MergedInto" not in c]
    sandbox.seed_contacts(sandbox.demo_tenant_id, active)
    alps = Contact.objects.get(name="Southern Alps Sports")
    row = upload(connection, alps).rows.get()
    assert (row.state, row.suggested_name) == (
        UploadRow.State.DUPLICATE,
        "Southern Alps Sports Ltd",
    )
    assert "name" in row.evidence_codes
    assert in_xero(sandbox, "Southern Alps Sports") == []
