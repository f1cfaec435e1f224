"""The import's preview and its result come from one plan, and by default (Link only) the
import changes no Omni contact it matches: against the demo's export and the sandbox's demo
organisation, through the real SDK."""

import json
from pathlib import Path

import pytest

from contacts.models import Contact
from sync.demo import load_demo_data
from sync.imports import services as imports
from sync.imports.views import SAMPLE
from sync.imports.xero_export import DETAILS
from sync.links import mirror

pytestmark = pytest.mark.django_db

SEED = Path(__file__).resolve().parents[2] / "scripts" / "sandbox_seed.json"


@pytest.fixture
def demo(sandbox, connection):
    """The demo's Omni contacts, and the demo organisation's Xero contacts as `make run` seeds
    them, mirrored."""
    load_demo_data()
    (contacts,) = json.loads(SEED.read_text())["contacts"].values()
    sandbox.seed_contacts(sandbox.demo_tenant_id, contacts)
    mirror.xero_contacts_refresh(connection=connection)
    return connection


def details() -> dict[int, tuple]:
    fields = [f.name for f in Contact._meta.concrete_fields if f.name not in {"id", "updated_at"}]
    return {c["id"]: tuple(c[f] for f in fields) for c in Contact.objects.values("id", *fields)}


def demo_import(user, connection, **choice):
    return imports.contacts_import_start(
        user=user,
        connection=connection,
        file_name=SAMPLE.name,
        data=SAMPLE.read_bytes(),
        customers=True,
        suppliers=False,
        **choice,
    )


def previewed_and_done(user, connection, **choice) -> tuple[tuple, tuple]:
    token = demo_import(user, connection, **choice).token
    preview = imports.contacts_import_preview(token=token, user=user)
    done = imports.contacts_import_confirm(token=token, user=user)
    said = (len(preview.new), len(preview.updates), preview.linking, preview.review)
    return said, (done.created_count, done.updated_count, done.linked_count, done.review_count)


@pytest.mark.parametrize("details", [[], list(DETAILS)], ids=["link only", "update"])
def test_the_preview_counts_are_the_results_on_the_demo_export(accountant, demo, details):
    said, done = previewed_and_done(accountant, demo, details=details)
    assert said == done
    assert done[2] > 0 and done[3] > 0  # some linked, some to review
    # Imported again: the linked rows are linked already, and the preview says so.
    said, done = previewed_and_done(accountant, demo, details=details)
    assert said == done and done[2] == 0


def test_link_only_is_the_default_and_changes_no_omni_contact(accountant, demo):
    before = details()
    token = demo_import(accountant, demo).token
    preview = imports.contacts_import_preview(token=token, user=accountant)
    assert preview.updates == []
    done = imports.contacts_import_confirm(token=token, user=accountant)
    after = details()
    assert {pk: after[pk] for pk in before} == before
    assert done.updated_count == 0 and done.linked_count > 0
    harbourside = Contact.objects.get(name="Harbourside Deli")
    assert harbourside.links.get().xero_name == "Harbourside Deli"


def test_update_changes_only_the_ticked_fields(accountant, demo):
    before = {c.account_number: c for c in Contact.objects.filter(account_number__startswith="C")}
    token = demo_import(accountant, demo, details=["email"]).token
    preview = imports.contacts_import_preview(token=token, user=accountant)
    assert preview.updates and all(set(r.planned.changes) == {"email"} for r in preview.updates)
    imports.contacts_import_confirm(token=token, user=accountant)
    for contact in Contact.objects.filter(pk__in=[c.pk for c in before.values()]):
        old = before[contact.account_number]
        assert (contact.name, contact.tax_number, contact.street_city) == (
            old.name,
            old.tax_number,
            old.street_city,
        )
    assert Contact.objects.filter(email="hello@harbourside.co.nz", name="Harbourside Deli").exists()
