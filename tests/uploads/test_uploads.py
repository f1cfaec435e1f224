"""Upload: creating Omni contacts in Xero and linking them, sending their changes, never
twice; against the sandbox, through the real SDK."""

import pytest
from django.core.management import call_command
from django.db import connection as db_connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from sync import jobs, xero
from sync.models import (
    ContactLink,
    LinkEvent,
    LinkMethod,
    SyncContact,
    UploadJob,
    UploadRow,
    XeroApiCall,
    XeroConnection,
    XeroContact,
)
from sync.uploads import services as uploads
from tests.concurrency import at_once
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def in_xero(sandbox, name: str) -> list[dict]:
    return [
        c
        for c in sandbox.call("GET", f"/_sandbox/organisations/{sandbox.demo_tenant_id}/contacts")
        if c["Name"] == name
    ]


def writes() -> list[XeroApiCall]:
    return list(
        XeroApiCall.objects.filter(method__in=["POST", "PUT"], endpoint__contains="Contacts")
    )


def upload(connection, contacts, user=None) -> UploadJob:
    return uploads.contacts_upload(connection=connection, contacts=contacts, user=user)


def rows(job: UploadJob) -> dict[str, tuple[str, str]]:
    return {r.contact.name: (r.state, r.message) for r in job.rows.select_related("contact")}


def test_uploading_creates_each_contact_in_xero_and_links_it(connection, sandbox, accountant):
    contacts = [
        ContactFactory(name="Aroha Gift Store", email="hana@aroha.nz", phone="09 555 0101"),
        ContactFactory(name="Tui Books"),
    ]
    before = XeroApiCall.objects.count()
    job = upload(connection, contacts, accountant)
    assert job.state == UploadJob.State.DONE
    assert {s for s, _ in rows(job).values()} == {UploadRow.State.DONE}
    (aroha,) = in_xero(sandbox, "Aroha Gift Store")
    assert aroha["EmailAddress"] == "hana@aroha.nz"
    assert aroha["Phones"][0]["PhoneNumber"] == "09 555 0101"
    link = ContactLink.objects.get(contact=contacts[0])
    assert (str(link.xero_contact_id), link.method) == (aroha["ContactID"], LinkMethod.UPLOAD)
    assert link.uploaded_at is not None and link.created_by == accountant
    assert XeroContact.objects.filter(contact_id=link.xero_contact_id).exists()  # mirrored
    assert list(LinkEvent.objects.filter(contact=contacts[0]).values_list("action", "actor")) == [
        ("upload", accountant.pk),
        ("link", accountant.pk),
    ]
    # One mirror refresh and one create-only write for both.
    calls = XeroApiCall.objects.order_by("pk")[before:]
    assert [(c.method, c.endpoint.split("?")[0]) for c in calls] == [
        ("GET", "/api.xro/2.0/Contacts"),
        ("PUT", "/api.xro/2.0/Contacts"),
    ]
    assert "summarizeErrors=False" in calls[1].endpoint


def test_a_contact_xero_already_has_is_not_created_again_but_offered(connection, sandbox):
    sandbox.seed_contacts(
        sandbox.demo_tenant_id,
        [{"Name": "Bayview Cafe Ltd"}, {"Name": "Harbour Deli", "EmailAddress": "hi@deli.nz"}],
    )
    by_name = ContactFactory(name="bayview  cafe ltd.")
    by_email = ContactFactory(name="Harbourside Deli", email="HI@deli.nz")
    job = upload(connection, [by_name, by_email])
    assert rows(job)["bayview  cafe ltd."][0] == UploadRow.State.DUPLICATE
    row = job.rows.get(contact=by_email)
    assert row.state == UploadRow.State.DUPLICATE
    assert (row.refusal, row.evidence_codes) == (UploadRow.Refusal.LIKELY, ["email"])
    assert row.suggested_name == "Harbour Deli"
    assert (
        len(in_xero(sandbox, "Harbourside Deli")) == 0
        and len(in_xero(sandbox, "bayview  cafe ltd.")) == 0
    )
    assert writes() == []  # nothing was sent
    assert not ContactLink.objects.exists()


def test_an_archived_namesake_does_not_block_an_upload(connection, sandbox):
    (old,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Old Mill Cafe"}])
    sandbox.archive(old)
    job = upload(connection, [ContactFactory(name="Old Mill Cafe")])
    assert rows(job)["Old Mill Cafe"][0] == UploadRow.State.DONE


def test_a_failed_contact_in_a_batch_never_hides_the_others(connection, sandbox):
    first, broken, other = (
        ContactFactory(name="Tui Books"),
        ContactFactory(name="Broken Email Ltd", email="not an address"),
        ContactFactory(name="Summit Cycles"),
    )
    job = upload(connection, [first, broken, other])
    result = rows(job)
    assert result["Tui Books"][0] == UploadRow.State.DONE
    assert result["Summit Cycles"][0] == UploadRow.State.DONE
    assert result["Broken Email Ltd"] == (
        UploadRow.State.FAILED,
        "Xero refused it: Email address must be valid.",
    )
    assert len(writes()) == 1
    assert ContactLink.objects.count() == 2


def test_two_contacts_of_one_upload_never_make_two_xero_contacts(connection, sandbox):
    first = ContactFactory(name="Kiwi Coffee", email="sales@kiwicoffee.nz")
    twin = ContactFactory(name="Kiwi Coffee Roasters", email="SALES@kiwicoffee.nz")
    job = upload(connection, [first, twin])
    assert rows(job)["Kiwi Coffee"][0] == UploadRow.State.DONE
    row = job.rows.get(contact=twin)
    assert (row.state, row.refusal) == (UploadRow.State.DUPLICATE, UploadRow.Refusal.SIBLING)
    assert (row.suggested_name, row.evidence_codes) == ("Kiwi Coffee", ["email"])
    assert len(in_xero(sandbox, "Kiwi Coffee Roasters")) == 0


def test_clearing_a_detail_in_omni_clears_it_in_xero(connection, sandbox):
    contact = ContactFactory(name="Coromandel Crafts", email="old@crafts.nz", phone="07 555")
    upload(connection, [contact])
    contact.email, contact.phone = "", ""
    contact.save()
    upload(connection, [contact])
    (crafts,) = in_xero(sandbox, "Coromandel Crafts")
    assert not crafts.get("EmailAddress")
    assert not any(p.get("PhoneNumber") for p in crafts.get("Phones") or [])
    assert crafts["ContactNumber"] == f"OMNI-{contact.pk}"  # an update keeps Xero's number


def test_a_shared_xero_contact_is_sent_once_per_upload(connection, sandbox):
    customer = ContactFactory(name="Pacific Packaging", email="ar@pacific.nz")
    supplier = ContactFactory(
        name="Pacific Packaging", email="ap@pacific.nz", is_customer=False, is_supplier=True
    )
    upload(connection, [customer])
    shared = ContactLink.objects.get(contact=customer)
    ContactLink.objects.create(
        contact=supplier,
        connection=connection,
        xero_contact_id=shared.xero_contact_id,
        xero_name=shared.xero_name,
        method="existing",
    )
    customer.phone = "09 1"
    customer.save()
    supplier.phone = "09 2"
    supplier.save()
    job = upload(connection, [customer, supplier])
    outcomes = sorted(job.rows.values_list("state", "message"))
    assert outcomes == [
        (UploadRow.State.DONE, ""),
        (
            UploadRow.State.SKIPPED,
            "It shares its Xero contact with Pacific Packaging, whose details were sent in "
            "this upload.",
        ),
    ]


def test_changes_to_a_linked_contact_go_to_xero_with_the_same_upload(connection, sandbox):
    contact = ContactFactory(name="Kauri Coast", email="old@kauri.nz")
    upload(connection, [contact])
    listed = SyncContact.objects.with_link(connection)
    assert not listed.get(pk=contact.pk).is_changed
    contact.email = "accounts@kauri.nz"
    contact.save()
    assert listed.get(pk=contact.pk).is_changed
    assert SyncContact.objects.changed(connection).get() == contact
    job = upload(connection, [contact])
    assert rows(job)["Kauri Coast"][0] == UploadRow.State.DONE
    (kauri,) = in_xero(sandbox, "Kauri Coast")
    assert kauri["EmailAddress"] == "accounts@kauri.nz"
    assert not SyncContact.objects.changed(connection).exists()
    again = upload(connection, [contact])
    assert rows(again)["Kauri Coast"] == (
        UploadRow.State.SKIPPED,
        "No changes since the last upload.",
    )


def test_a_contact_whose_link_went_bad_is_not_uploaded(connection, sandbox):
    contact = ContactFactory(name="Gone Ltd")
    upload(connection, [contact])
    sandbox.archive(str(ContactLink.objects.get().xero_contact_id))
    from sync.links import mirror

    mirror.xero_contacts_refresh(connection=connection)
    contact.email = "new@gone.nz"
    contact.save()
    job = upload(connection, [contact])
    state, message = rows(job)["Gone Ltd"]
    assert state == UploadRow.State.FAILED and "archived in Xero" in message


# The worker closes database connections between tasks, as a real worker process does.
@pytest.mark.django_db(transaction=True)
def test_a_rate_limit_in_a_request_is_not_waited_out_but_continued_later(
    connection, sandbox, waits
):
    DBTaskResult.objects.all().delete()
    sandbox.fault(status=429, count=1, retry_after=40, method="PUT", path="/api.xro/2.0/Contacts")
    with xero.interactive():
        job = upload(connection, [ContactFactory(name="Ruapehu Ski Hire")])
    assert waits == []
    assert job.state == UploadJob.State.WAITING and job.resume_at is not None
    assert "Try again in 40 seconds" in job.detail
    assert rows(job)["Ruapehu Ski Hire"][0] == UploadRow.State.QUEUED
    task = DBTaskResult.objects.get(task_path="sync.tasks.upload_continue")
    assert task.run_after is not None and task.run_after >= job.resume_at.replace(microsecond=0)
    # As if the 40 seconds went by.
    DBTaskResult.objects.update(run_after=timezone.now())
    UploadJob.objects.update(resume_at=timezone.now())
    call_command("db_worker", "--batch", "--no-startup-delay", "-v", "0")
    job.refresh_from_db()
    assert job.state == UploadJob.State.DONE
    assert len(in_xero(sandbox, "Ruapehu Ski Hire")) == 1


def test_a_lost_answer_is_retried_with_the_same_key_and_creates_nothing_twice(connection, sandbox):
    contacts = [ContactFactory(name="Raglan Board Riders"), ContactFactory(name="Moana Fish")]
    sandbox.fault(kind="drop_after_commit", count=1, method="PUT", path="/api.xro/2.0/Contacts")
    job = upload(connection, contacts)
    assert {s for s, _ in rows(job).values()} == {UploadRow.State.DONE}
    assert len(in_xero(sandbox, "Raglan Board Riders")) == 1
    assert len(in_xero(sandbox, "Moana Fish")) == 1
    keys = {c.idempotency_key for c in writes()}
    assert len(writes()) == 2 and len(keys) == 1


def test_xero_down_loses_nothing_and_a_later_upload_creates_no_duplicate(
    connection, sandbox, settings
):
    """Xero stored the batch but every answer was lost: the rows say so and may be uploaded
    again; the new upload finds them in Xero by omni-xero's contact number and links them."""
    settings.XERO_MAX_RETRIES = 1
    contacts = [ContactFactory(name="Raglan Board Riders"), ContactFactory(name="Moana Fish")]
    sandbox.fault(kind="drop_after_commit", count=2, method="PUT", path="/api.xro/2.0/Contacts")
    job = upload(connection, contacts)
    assert job.state == UploadJob.State.STOPPED
    state, message = rows(job)["Moana Fish"]
    assert state == UploadRow.State.FAILED and "upload it again to retry" in message
    assert not ContactLink.objects.exists()
    again = upload(connection, contacts)
    assert {s for s, _ in rows(again).values()} == {UploadRow.State.DONE}
    assert "earlier upload whose answer was lost" in rows(again)["Moana Fish"][1]
    assert len(in_xero(sandbox, "Raglan Board Riders")) == 1
    assert len(in_xero(sandbox, "Moana Fish")) == 1
    assert ContactLink.objects.count() == 2


def test_more_than_a_batch_goes_on_in_the_background(connection, sandbox):
    DBTaskResult.objects.all().delete()
    contacts = [ContactFactory(name=f"Shop {n:03d}") for n in range(60)]
    job = upload(connection, contacts)
    assert job.state == UploadJob.State.RUNNING
    assert job.rows.filter(state=UploadRow.State.DONE).count() == 50
    assert job.rows.filter(state=UploadRow.State.QUEUED).count() == 10
    uploads.upload_job_run(job=job)  # what the queued task does
    job.refresh_from_db()
    assert job.state == UploadJob.State.DONE
    assert ContactLink.objects.count() == 60
    assert len(writes()) == 2
    refreshes = XeroApiCall.objects.filter(
        method="GET", endpoint__startswith="/api.xro/2.0/Contacts"
    )
    assert refreshes.count() == 1  # the mirror is refreshed once per upload


def test_uploading_the_same_contacts_again_creates_nothing_more(connection, sandbox):
    contact = ContactFactory(name="Hamilton Home Brew")
    upload(connection, [contact])
    again = upload(connection, [contact])
    assert rows(again)["Hamilton Home Brew"][0] == UploadRow.State.SKIPPED
    assert len(in_xero(sandbox, "Hamilton Home Brew")) == 1


def test_a_contact_already_being_uploaded_is_not_queued_twice(connection):
    contact = ContactFactory(name="Napier Gifts")
    first = UploadJob.objects.create(connection=connection)
    UploadRow.objects.create(
        job=first, connection=connection, contact=contact, kind=UploadRow.Kind.CREATE
    )
    second = UploadJob.objects.create(connection=connection)
    uploads._queue(second, contact, None)
    assert second.rows.get().message == "Already being uploaded."


@pytest.mark.django_db(transaction=True)
def test_two_accountants_uploading_one_contact_at_once_make_one_xero_contact(
    accountant, sandbox, xero_settings, client
):
    if db_connection.vendor != "postgresql":
        pytest.skip("concurrent uploads need PostgreSQL (CI runs this with DATABASE_URL)")
    from tests.plugins.xero import connect_with

    connection = connect_with(client, accountant, sandbox)
    contact = ContactFactory(name="Greenlane Florist")
    failures = at_once(
        lambda: upload(XeroConnection.objects.get(pk=connection.pk), [contact], accountant)
    )
    assert failures == []
    assert len(in_xero(sandbox, "Greenlane Florist")) == 1
    assert ContactLink.objects.filter(contact=contact).count() == 1
    # The second click found the first one's claim and sent nothing at all.
    assert len(writes()) == 1


def test_an_unexpected_error_stops_the_upload_visibly_and_frees_its_contacts(
    connection, sandbox, monkeypatch
):
    contact = ContactFactory(name="Nelson Artisan Market")

    def broken(*args, **kwargs):
        raise KeyError("oops")

    monkeypatch.setattr(xero, "contacts_create_each", broken)  # a new contact is created
    job = upload(connection, [contact])
    assert job.state == UploadJob.State.STOPPED
    assert "unexpected error (KeyError)" in job.detail
    state, message = rows(job)["Nelson Artisan Market"]
    assert state == UploadRow.State.FAILED and "upload it again to retry" in message
    monkeypatch.undo()
    assert rows(upload(connection, [contact]))["Nelson Artisan Market"][0] == "done"


def test_a_stalled_upload_is_resumed_by_the_scheduler(
    connection, django_capture_on_commit_callbacks
):
    DBTaskResult.objects.all().delete()
    held = timezone.now() + timezone.timedelta(minutes=1)  # a worker renewed it just now
    job = UploadJob.objects.create(connection=connection, lease_until=held)
    row = UploadRow.objects.create(
        job=job, connection=connection, contact=ContactFactory(), kind=UploadRow.Kind.CREATE,
        state=UploadRow.State.SENDING, claimed_until=held,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.jobs_resume()["upload jobs"] == 0  # sending under a live lease
        ran_out = timezone.now() - timezone.timedelta(seconds=1)
        UploadJob.objects.filter(pk=job.pk).update(lease_until=ran_out)
        UploadRow.objects.filter(pk=row.pk).update(claimed_until=ran_out)
        assert jobs.jobs_resume()["upload jobs"] == 1
        assert jobs.jobs_resume()["upload jobs"] == 0  # its continuation is queued already
    assert DBTaskResult.objects.get().task_path == "sync.tasks.upload_continue"


def test_rows_a_dead_worker_left_sending_are_found_in_xero_not_sent_twice(connection, sandbox):
    contact = ContactFactory(name="Rotorua Spa")
    job = UploadJob.objects.create(connection=connection, mirror_refreshed=True)
    UploadRow.objects.create(
        job=job, connection=connection, contact=contact, kind=UploadRow.Kind.CREATE,
        state=UploadRow.State.SENDING, contact_number=f"OMNI-{contact.pk}",
    )  # fmt: skip
    # The dead worker's call went through: Xero has the contact, with omni-xero's number.
    sandbox.seed_contacts(
        sandbox.demo_tenant_id, [{"Name": "Rotorua Spa", "ContactNumber": f"OMNI-{contact.pk}"}]
    )
    UploadRow.objects.update(updated_at=timezone.now() - timezone.timedelta(hours=1))
    uploads.upload_job_run(job=job)
    assert rows(job)["Rotorua Spa"][0] == UploadRow.State.DONE
    assert len(in_xero(sandbox, "Rotorua Spa")) == 1
    assert ContactLink.objects.get(contact=contact).xero_name == "Rotorua Spa"


def test_an_upload_waits_for_a_mirror_refresh_under_way(connection, sandbox):
    XeroConnection.objects.filter(pk=connection.pk).update(
        contacts_refresh_lease_until=timezone.now() + timezone.timedelta(minutes=5)
    )
    job = upload(connection, [ContactFactory(name="Taupo Trading Post")])
    assert job.state == UploadJob.State.WAITING
    assert "being refreshed" in job.detail
    assert writes() == []
