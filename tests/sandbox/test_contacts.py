"""Contacts through the real SDK: queries, create/update rules, archive/merge/GDPR."""

from datetime import UTC, datetime, timedelta

import pytest
from xero_python.accounting import Address, Contact, Contacts
from xero_python.exceptions import AccountingBadRequestException, NotFoundException


def _create(sdk, *contacts: Contact, **kwargs):
    return sdk.accounting.create_contacts(
        sdk.tenant_id, Contacts(contacts=list(contacts)), **kwargs
    )


def _names(result) -> list[str]:
    return [c.name for c in result.contacts]


def test_create_contact_returns_xero_shape(sandbox_sdk):
    created = _create(
        sandbox_sdk,
        Contact(
            name="Acme Plumbing Ltd",
            contact_number="OMNI-1",
            email_address="accounts@acme.co.nz",
            addresses=[Address(address_type="STREET", city="Auckland")],
        ),
    ).contacts[0]
    assert created.contact_status == "ACTIVE"
    assert created.contact_number == "OMNI-1"
    assert created.has_validation_errors is False
    assert {a.address_type for a in created.addresses} == {"STREET", "POBOX"}
    assert {p.phone_type for p in created.phones} == {"DEFAULT", "DDI", "FAX", "MOBILE"}
    assert created.updated_date_utc.tzinfo is not None


def test_duplicate_active_name_is_rejected_with_xero_message(sandbox_sdk):
    _create(sandbox_sdk, Contact(name="Buzz Lightyear"))
    with pytest.raises(AccountingBadRequestException) as error:
        _create(sandbox_sdk, Contact(name="Buzz Lightyear"))
    assert error.value.reason == (
        "The contact name Buzz Lightyear is already assigned to another contact. "
        "The contact name must be unique across all active contacts."
    )
    element = error.value.error_data["Elements"][0]
    assert element["HasValidationErrors"] is True


def test_archived_name_can_be_reused(sandbox, sandbox_sdk):
    old = _create(sandbox_sdk, Contact(name="Reused Name")).contacts[0]
    sandbox.archive(old.contact_id)
    assert (
        _create(sandbox_sdk, Contact(name="Reused Name")).contacts[0].contact_id != old.contact_id
    )


def test_missing_name_and_bad_email_are_validation_errors(sandbox_sdk):
    with pytest.raises(AccountingBadRequestException) as error:
        _create(sandbox_sdk, Contact(first_name="No", last_name="Name"))
    assert error.value.reason == "Contact Name cannot be empty."
    with pytest.raises(AccountingBadRequestException) as error:
        _create(sandbox_sdk, Contact(name="Bad Email", email_address="not-an-email"))
    assert error.value.reason == "Email address must be valid"


def test_summarize_errors_false_reports_each_element(sandbox_sdk):
    _create(sandbox_sdk, Contact(name="Taken"))
    result = _create(
        sandbox_sdk, Contact(name="Fresh"), Contact(name="Taken"), summarize_errors=False
    )
    fresh, taken = result.contacts
    assert fresh.status_attribute_string == "OK" and fresh.contact_id
    assert taken.status_attribute_string == "ERROR"
    assert "already assigned" in taken.validation_errors[0].message


def test_summarized_400_lists_failed_elements_but_creates_valid_ones(sandbox_sdk):
    _create(sandbox_sdk, Contact(name="Taken"))
    with pytest.raises(AccountingBadRequestException) as error:
        _create(sandbox_sdk, Contact(name="Valid One"), Contact(name="Taken"))
    assert [e["Name"] for e in error.value.error_data["Elements"]] == ["Taken"]
    found = sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, search_term="Valid One")
    assert _names(found) == ["Valid One"]


def test_put_ignores_contact_id_and_creates(sandbox_sdk):
    first = _create(sandbox_sdk, Contact(name="First")).contacts[0]
    second = _create(sandbox_sdk, Contact(contact_id=first.contact_id, name="Second")).contacts[0]
    assert second.contact_id != first.contact_id


def test_post_updates_by_contact_id_and_creates_the_rest(sandbox_sdk):
    first = _create(sandbox_sdk, Contact(name="First")).contacts[0]
    body = Contacts(
        contacts=[Contact(contact_id=first.contact_id, name="First Renamed"), Contact(name="New")]
    )
    result = sandbox_sdk.accounting.update_or_create_contacts(sandbox_sdk.tenant_id, body)
    assert result.contacts[0].contact_id == first.contact_id
    assert _names(result) == ["First Renamed", "New"]


def test_rename_to_an_existing_name_fails(sandbox_sdk):
    a, _ = _create(sandbox_sdk, Contact(name="Alpha"), Contact(name="Beta")).contacts
    body = Contacts(contacts=[Contact(name="Beta")])
    with pytest.raises(AccountingBadRequestException) as error:
        sandbox_sdk.accounting.update_contact(sandbox_sdk.tenant_id, a.contact_id, body)
    assert error.value.reason == (
        'The existing contact with name "Alpha" cannot be updated to use new name "Beta". '
        "There is an existing contact with that name."
    )


def test_archive_and_unarchive_through_the_api(sandbox_sdk):
    contact = _create(sandbox_sdk, Contact(name="Archivable")).contacts[0]
    archive = Contacts(contacts=[Contact(contact_status="ARCHIVED")])
    sandbox_sdk.accounting.update_contact(sandbox_sdk.tenant_id, contact.contact_id, archive)
    assert _names(sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id)) == []
    restore = Contacts(contacts=[Contact(contact_status="ACTIVE")])
    sandbox_sdk.accounting.update_contact(sandbox_sdk.tenant_id, contact.contact_id, restore)
    assert _names(sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id)) == ["Archivable"]


def test_get_by_id_and_by_contact_number_and_404(sandbox_sdk):
    contact = _create(sandbox_sdk, Contact(name="Numbered", contact_number="C-42")).contacts[0]
    by_id = sandbox_sdk.accounting.get_contact(sandbox_sdk.tenant_id, contact.contact_id)
    assert by_id.contacts[0].name == "Numbered"
    by_number = sandbox_sdk.accounting.get_contact_by_contact_number(sandbox_sdk.tenant_id, "C-42")
    assert by_number.contacts[0].contact_id == contact.contact_id
    with pytest.raises(NotFoundException):
        sandbox_sdk.accounting.get_contact(
            sandbox_sdk.tenant_id, "00000000-0000-0000-0000-000000000001"
        )


def test_archived_and_gdpr_contacts_need_include_archived(sandbox, sandbox_sdk):
    ids = sandbox.seed_contacts(
        sandbox.demo_tenant_id,
        [{"Name": "Active Co"}, {"Name": "Archived Co"}, {"Name": "Gdpr Person"}],
    )
    sandbox.archive(ids[1])
    sandbox.gdpr(ids[2])
    tenant = sandbox_sdk.tenant_id
    assert _names(sandbox_sdk.accounting.get_contacts(tenant)) == ["Active Co"]
    everyone = sandbox_sdk.accounting.get_contacts(tenant, include_archived=True, order="Name")
    statuses = {c.name: c.contact_status for c in everyone.contacts}
    assert statuses == {
        "Active Co": "ACTIVE",
        "Archived Co": "ARCHIVED",
        "Gdpr Person": "GDPRREQUEST",
    }


def test_merged_contact_is_archived_and_points_at_survivor(sandbox, sandbox_sdk):
    source, survivor = sandbox.seed_contacts(
        sandbox.demo_tenant_id, [{"Name": "Dup Ltd"}, {"Name": "Dup Limited"}]
    )
    sandbox.merge(source, into=survivor)
    fetched = sandbox_sdk.accounting.get_contact(sandbox_sdk.tenant_id, source).contacts[0]
    assert fetched.contact_status == "ARCHIVED"
    assert fetched.merged_to_contact_id == survivor
    # MergedToContactID appears only on paged reads or single fetches (the spec's
    # Contact.MergedToContactID description, tests/sandbox/openapi/xero_accounting.yaml).
    unpaged = sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, i_ds=[source])
    assert unpaged.contacts[0].merged_to_contact_id is None
    paged = sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, i_ds=[source], page=1)
    assert paged.contacts[0].merged_to_contact_id == survivor


def test_ids_filter_returns_exactly_those_contacts(sandbox, sandbox_sdk):
    ids = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": f"C{n}"} for n in range(5)])
    found = sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, i_ds=[ids[1], ids[3]])
    assert sorted(c.contact_id for c in found.contacts) == sorted([ids[1], ids[3]])


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ('Name=="Acme Ltd"', ["Acme Ltd"]),
        ('Name.StartsWith("acme")', ["Acme Ltd", "Acme Supplies"]),
        ('Name.Contains("SUPPLIES")', ["Acme Supplies"]),
        ('ContactNumber=="N-2"', ["Beta Corp"]),
        ('EmailAddress!=null AND Name.EndsWith("Corp")', ["Beta Corp"]),
        (
            'ContactStatus=="ACTIVE" && (Name=="Acme Ltd" || Name=="Beta Corp")',
            ["Acme Ltd", "Beta Corp"],
        ),
        ('Name.ToLower()=="acme ltd"', ["Acme Ltd"]),
    ],
)
def test_where_expressions(sandbox, sandbox_sdk, where, expected):
    sandbox.seed_contacts(
        sandbox.demo_tenant_id,
        [
            {"Name": "Acme Ltd", "ContactNumber": "N-1"},
            {"Name": "Acme Supplies"},
            {"Name": "Beta Corp", "ContactNumber": "N-2", "EmailAddress": "b@beta.nz"},
        ],
    )
    found = sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, where=where, order="Name")
    assert _names(found) == expected


def test_where_with_contact_id_guid(sandbox, sandbox_sdk):
    ids = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "One"}, {"Name": "Two"}])
    where = f'ContactID==Guid("{ids[1]}")'
    assert _names(sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, where=where)) == [
        "Two"
    ]


def test_unreadable_where_is_a_400(sandbox_sdk):
    with pytest.raises(AccountingBadRequestException) as error:
        sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, where='Name=="unterminated')
    assert error.value.error_data["Type"] == "QueryParseException"


def test_order_descending_and_multiple_keys(sandbox, sandbox_sdk):
    sandbox.seed_contacts(
        sandbox.demo_tenant_id,
        [
            {"Name": "b", "FirstName": "x"},
            {"Name": "a", "FirstName": "x"},
            {"Name": "c", "FirstName": "w"},
        ],
    )
    found = sandbox_sdk.accounting.get_contacts(
        sandbox_sdk.tenant_id, order="FirstName ASC, Name DESC"
    )
    assert _names(found) == ["c", "b", "a"]


def test_paging_with_page_size_up_to_1000(sandbox, sandbox_sdk):
    sandbox.generate_contacts(sandbox.demo_tenant_id, 1205)
    tenant = sandbox_sdk.tenant_id
    first = sandbox_sdk.accounting.get_contacts(tenant, page=1, page_size=1000, order="Name")
    assert len(first.contacts) == 1000
    assert (first.pagination.page_count, first.pagination.item_count) == (2, 1205)
    second = sandbox_sdk.accounting.get_contacts(tenant, page=2, page_size=1000, order="Name")
    assert len(second.contacts) == 205
    assert not {c.contact_id for c in first.contacts} & {c.contact_id for c in second.contacts}
    default = sandbox_sdk.accounting.get_contacts(tenant, page=3)
    assert len(default.contacts) == 100 and default.pagination.page_size == 100
    clamped = sandbox_sdk.accounting.get_contacts(tenant, page=1, page_size=5000)
    assert clamped.pagination.page_size == 1000


def test_unpaged_get_has_no_pagination(sandbox, sandbox_sdk):
    sandbox.generate_contacts(sandbox.demo_tenant_id, 3)
    found = sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id)
    assert len(found.contacts) == 3 and found.pagination is None


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("ngata", ["Ngata Traders"]),
        ("OMNI-7", ["Seven Co"]),
        ("kiri@", ["Kiri Only"]),
        ("aroha", ["Ngata Traders"]),
    ],
)
def test_search_term_covers_name_first_last_number_and_email(sandbox, sandbox_sdk, term, expected):
    sandbox.seed_contacts(
        sandbox.demo_tenant_id,
        [
            {"Name": "Ngata Traders", "FirstName": "Aroha"},
            {"Name": "Seven Co", "ContactNumber": "OMNI-7"},
            {"Name": "Kiri Only", "EmailAddress": "kiri@example.nz"},
        ],
    )
    found = sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, search_term=term)
    assert _names(found) == expected


def test_summary_only_leaves_out_addresses_and_phones(sandbox, sandbox_sdk):
    sandbox.generate_contacts(sandbox.demo_tenant_id, 2)
    found = sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, summary_only=True)
    assert all(c.addresses is None and c.phones is None for c in found.contacts)
    assert all(c.name and c.contact_id for c in found.contacts)


def test_if_modified_since_returns_only_later_changes(sandbox, sandbox_sdk):
    old = _create(sandbox_sdk, Contact(name="Old")).contacts[0]
    sandbox.advance_clock(600)  # less than the token's 30 minutes
    _create(sandbox_sdk, Contact(name="New"))
    since = old.updated_date_utc + timedelta(minutes=5)
    found = sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, if_modified_since=since)
    assert _names(found) == ["New"]
    far_future = datetime.now(UTC) + timedelta(days=30)
    assert (
        _names(
            sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, if_modified_since=far_future)
        )
        == []
    )


def test_empty_body_is_no_data_processed(sandbox_sdk):
    with pytest.raises(AccountingBadRequestException) as error:
        _create(sandbox_sdk)
    assert error.value.error_data["ErrorNumber"] == 17


def test_gdpr_contact_cannot_be_edited(sandbox, sandbox_sdk):
    (contact_id,) = sandbox.seed_contacts(
        sandbox.demo_tenant_id, [{"Name": "Private Person", "EmailAddress": "p@example.nz"}]
    )
    redacted = sandbox.gdpr(contact_id)
    assert "EmailAddress" not in redacted
    with pytest.raises(AccountingBadRequestException):
        sandbox_sdk.accounting.update_contact(
            sandbox_sdk.tenant_id, contact_id, Contacts(contacts=[Contact(name="Changed")])
        )


def test_restore_refused_when_an_active_contact_has_the_name(sandbox):
    first, _ = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Same"}, {"Name": "Other"}])
    sandbox.archive(first)
    sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Same"}])
    with pytest.raises(AssertionError, match="409"):
        sandbox.restore(first)


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        # Naming ContactStatus without asking for hidden contacts keeps the default filter.
        ('ContactStatus=="ACTIVE" OR Name=="Archived Co"', ["Active Co"]),
        ('ContactStatus!="GDPRREQUEST"', ["Active Co"]),
        ('Name!="ContactStatus==\\"ARCHIVED\\""', ["Active Co"]),
        # Explicitly asking for them turns it off; the where then does the filtering.
        ('ContactStatus=="ARCHIVED"', ["Archived Co"]),
        ('"gdprrequest"==ContactStatus', ["Gdpr Person"]),
        ('ContactStatus=="ARCHIVED" OR ContactStatus=="ACTIVE"', ["Active Co", "Archived Co"]),
    ],
)
def test_where_on_contact_status_and_the_default_active_filter(
    sandbox, sandbox_sdk, where, expected
):
    ids = sandbox.seed_contacts(
        sandbox.demo_tenant_id,
        [{"Name": "Active Co"}, {"Name": "Archived Co"}, {"Name": "Gdpr Person"}],
    )
    sandbox.archive(ids[1])
    sandbox.gdpr(ids[2])
    found = sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, where=where, order="Name")
    assert _names(found) == expected


def test_duplicate_contact_number_answers_the_earliest_created_holder(sandbox, sandbox_sdk):
    """Several contacts may hold one ContactNumber (made through the control API or an
    update by ContactID; uniqueness is unconfirmed in Xero's docs, the sandbox's guess in
    xero_sandbox/README.md): the earliest-created holder answers, even after it changed."""
    first, second = sandbox.seed_contacts(
        sandbox.demo_tenant_id,
        [
            {"Name": "First Holder", "ContactNumber": "DUP-1"},
            {"Name": "Second Holder", "ContactNumber": "DUP-1"},
        ],
    )
    tenant = sandbox_sdk.tenant_id
    edit = Contacts(contacts=[Contact(email_address="first@holder.nz")])
    sandbox_sdk.accounting.update_contact(tenant, first, edit)
    found = sandbox_sdk.accounting.get_contact_by_contact_number(tenant, "DUP-1")
    assert str(found.contacts[0].contact_id) == first
    renumber = Contacts(contacts=[Contact(contact_number="NEW-1")])
    sandbox_sdk.accounting.update_contact(tenant, first, renumber)
    found = sandbox_sdk.accounting.get_contact_by_contact_number(tenant, "dup-1")
    assert str(found.contacts[0].contact_id) == second
    back = Contacts(contacts=[Contact(contact_number="DUP-1")])
    sandbox_sdk.accounting.update_contact(tenant, first, back)
    found = sandbox_sdk.accounting.get_contact_by_contact_number(tenant, "DUP-1")
    assert str(found.contacts[0].contact_id) == first


# POST /Contacts: update or create, matched by ContactID, else by ContactNumber ----------------


def _post(sdk, *contacts: Contact, **kwargs):
    return sdk.accounting.update_or_create_contacts(
        sdk.tenant_id, Contacts(contacts=list(contacts)), **kwargs
    )


def _all_contacts(sandbox) -> list[dict]:
    return sandbox.call("GET", f"/_sandbox/organisations/{sandbox.demo_tenant_id}/contacts")


def test_post_without_contact_id_updates_the_contact_holding_its_number(sandbox, sandbox_sdk):
    held = sandbox.seed_contacts(
        sandbox.demo_tenant_id, [{"Name": "Numbered", "ContactNumber": "N-9"}]
    )[0]
    posted = _post(
        sandbox_sdk, Contact(name="Renamed", contact_number="N-9", email_address="a@b.nz")
    ).contacts[0]
    assert str(posted.contact_id) == held
    assert (posted.name, posted.email_address) == ("Renamed", "a@b.nz")
    assert [c["Name"] for c in _all_contacts(sandbox)] == ["Renamed"]


def test_post_by_number_updates_an_archived_holder_and_it_stays_archived(sandbox, sandbox_sdk):
    """The match is by key whatever the holder's status: an app that sends its own number
    by POST to create a contact gets back the ARCHIVED contact that already held it."""
    held = sandbox.seed_contacts(
        sandbox.demo_tenant_id, [{"Name": "Old Omni Customer", "ContactNumber": "OMNI-7"}]
    )[0]
    sandbox.archive(held)
    posted = _post(
        sandbox_sdk,
        Contact(name="Old Omni Customer", contact_number="OMNI-7", email_address="new@omni.nz"),
        summarize_errors=False,
    ).contacts[0]
    assert str(posted.contact_id) == held
    assert posted.contact_status == "ARCHIVED"
    assert posted.email_address == "new@omni.nz"
    assert len(_all_contacts(sandbox)) == 1
    restored = _post(
        sandbox_sdk, Contact(contact_number="OMNI-7", contact_status="ACTIVE")
    ).contacts[0]
    assert (str(restored.contact_id), restored.contact_status) == (held, "ACTIVE")


def test_post_by_number_matches_the_holder_get_by_number_answers(sandbox, sandbox_sdk):
    first, second = sandbox.seed_contacts(
        sandbox.demo_tenant_id,
        [
            {"Name": "First Holder", "ContactNumber": "DUP-2"},
            {"Name": "Second Holder", "ContactNumber": "DUP-2"},
        ],
    )
    sandbox_sdk.accounting.update_contact(
        sandbox_sdk.tenant_id, first, Contacts(contacts=[Contact(email_address="f@h.nz")])
    )
    posted = _post(sandbox_sdk, Contact(contact_number="dup-2", website="https://f.nz")).contacts[0]
    answered = sandbox_sdk.accounting.get_contact_by_contact_number(sandbox_sdk.tenant_id, "DUP-2")
    assert str(posted.contact_id) == str(answered.contacts[0].contact_id) == first
    assert sandbox.contact(second).get("Website") is None


def test_post_contact_id_wins_over_contact_number(sandbox, sandbox_sdk):
    one, two = sandbox.seed_contacts(
        sandbox.demo_tenant_id,
        [{"Name": "One", "ContactNumber": "N-1"}, {"Name": "Two", "ContactNumber": "N-2"}],
    )
    posted = _post(
        sandbox_sdk, Contact(contact_id=two, contact_number="N-1", email_address="two@x.nz")
    ).contacts[0]
    assert str(posted.contact_id) == two
    assert sandbox.contact(one).get("EmailAddress") is None


def test_post_without_a_known_number_creates_and_a_later_element_updates_it(sandbox, sandbox_sdk):
    first, again = _post(
        sandbox_sdk,
        Contact(name="Fresh Co", contact_number="NEW-9"),
        Contact(name="Fresh Co Ltd", contact_number="NEW-9"),
    ).contacts
    assert first.contact_id == again.contact_id
    assert [c["Name"] for c in _all_contacts(sandbox)] == ["Fresh Co Ltd"]


def test_put_refuses_a_contact_number_an_archived_contact_holds(sandbox, sandbox_sdk):
    """PUT creates only; a second holder of a number is never made silently."""
    held = sandbox.seed_contacts(
        sandbox.demo_tenant_id, [{"Name": "Old Holder", "ContactNumber": "OMNI-8"}]
    )[0]
    sandbox.archive(held)
    with pytest.raises(AccountingBadRequestException) as error:
        _create(sandbox_sdk, Contact(name="New Holder", contact_number="omni-8"))
    assert error.value.reason == (
        "[sandbox] The contact number omni-8 is already assigned to another contact. "
        "Update that contact (POST) or send another ContactNumber."
    )
    assert [c["Name"] for c in _all_contacts(sandbox)] == ["Old Holder"]


# Uniqueness: AccountNumber counts archived contacts, Name only active ones -----------------


def test_an_archived_contacts_account_number_blocks_a_new_contact(sandbox, sandbox_sdk):
    held = sandbox.seed_contacts(
        sandbox.demo_tenant_id, [{"Name": "Archived Holder", "AccountNumber": "ACC-1"}]
    )[0]
    sandbox.archive(held)
    for write in (_create, _post):
        with pytest.raises(AccountingBadRequestException) as error:
            write(sandbox_sdk, Contact(name="Newcomer", account_number="acc-1"))
        assert error.value.reason == (
            "The Account Number already exists. Please enter a different Account Number."
        )
    assert [c["Name"] for c in _all_contacts(sandbox)] == ["Archived Holder"]


def test_an_archived_contacts_name_is_free_for_a_new_contact_by_put_and_post(sandbox, sandbox_sdk):
    old = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Reused Twice"}])[0]
    sandbox.archive(old)
    put = _create(sandbox_sdk, Contact(name="Reused Twice")).contacts[0]
    sandbox.archive(str(put.contact_id))
    posted = _post(sandbox_sdk, Contact(name="Reused Twice")).contacts[0]
    statuses = {c["ContactID"]: c["ContactStatus"] for c in _all_contacts(sandbox)}
    assert statuses == {
        old: "ARCHIVED",
        str(put.contact_id): "ARCHIVED",
        str(posted.contact_id): "ACTIVE",
    }


def test_names_a_database_would_refuse_are_kept_and_answered_as_sent(sandbox_sdk):
    """NUL and a lone surrogate, so that the app's tests can be sent them."""
    created = _create(sandbox_sdk, Contact(name="Tui\x00 Books"), Contact(name="Half\ud800 Pair"))
    assert _names(created) == ["Tui\x00 Books", "Half\ud800 Pair"]
    found = sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id)
    assert {"Tui\x00 Books", "Half\ud800 Pair"} <= set(_names(found))
