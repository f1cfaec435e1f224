"""The job engine's one rule of a stalled job, as the scheduler's sweep applies it."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from sync import jobs
from sync.models import SyncRun, UploadJob
from tests.factories import SyncRunFactory, UploadJobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """One scheduler round: what it resumed, by kind (its tasks queued as on commit)."""

    def run() -> dict[str, int]:
        with django_capture_on_commit_callbacks(execute=True):
            return jobs.jobs_resume()

    DBTaskResult.objects.all().delete()
    return run


def test_a_job_waiting_for_xero_is_alive_until_well_past_its_time(sweep):
    now = timezone.now()
    job = UploadJobFactory(state=UploadJob.State.WAITING, resume_at=now + timedelta(seconds=40))
    assert jobs.job_alive(job) and sweep()["upload jobs"] == 0
    # Its task was lost: long after its time, the sweep queues another, once.
    UploadJob.objects.update(resume_at=now - UploadJob.TASK_LOST_AFTER - timedelta(seconds=1))
    assert not jobs.job_alive(job)
    assert sweep()["upload jobs"] == 1
    assert sweep()["upload jobs"] == 0
    assert DBTaskResult.objects.get().task_path == "sync.tasks.upload_continue"


def test_a_finished_job_is_never_resumed(sweep):
    job = UploadJobFactory(state=UploadJob.State.DONE, lease_until=None)
    assert not jobs.job_alive(job)
    assert sweep()["upload jobs"] == 0


def test_a_sync_waiting_its_turn_behind_another_is_left_alone_by_the_sweep(sweep):
    first = SyncRunFactory(state=SyncRun.State.QUEUED)
    second = SyncRunFactory(state=SyncRun.State.QUEUED, connection=first.connection)
    assert jobs.job_claim(first) is not None
    assert jobs.job_claim(second) is None  # one running sync per organisation
    # The second looks again once the first is done (which starts it), or later.
    SyncRun.objects.filter(pk=second.pk).update(resume_at=timezone.now())
    assert sweep()["sync runs"] == 0
    # The first one's worker dies: its lease runs out, and it is the one resumed.
    SyncRun.objects.filter(pk=first.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert sweep()["sync runs"] == 1
    assert DBTaskResult.objects.get().args_kwargs["args"] == [first.pk]


def test_a_worker_that_stalled_past_its_lease_stops_once_taken_over():
    job = UploadJobFactory()
    stalled = jobs.job_claim(job)
    assert stalled is not None
    UploadJob.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    successor = jobs.job_claim(job)
    assert successor is not None

    with pytest.raises(jobs.LeaseLost):
        stalled.renew()
    assert not stalled.release(state=UploadJob.State.STOPPED)  # it cannot end the job either
    job.refresh_from_db()
    assert job.state == UploadJob.State.RUNNING and job.lease_until == successor.until
    assert job.attempts == 2


def test_a_job_renews_its_lease_as_it_works_and_stops_once_taken_over(monkeypatch):
    job = UploadJobFactory()
    lease = jobs.job_claim(job)
    assert lease is not None and lease.until <= timezone.now() + timedelta(minutes=1)
    first = lease.until
    jobs.keep_alive()  # outside its work: nothing to renew
    monkeypatch.setattr(jobs, "HEARTBEAT_EVERY", 0.0)
    with jobs.holding(lease):
        jobs.keep_alive()
        assert lease.until > first
        job.refresh_from_db()
        assert job.lease_until == lease.until
        # It stalled past its lease and another worker took the job over: it stops.
        UploadJob.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
        assert jobs.job_claim(job) is not None
        with pytest.raises(jobs.LeaseLost):
            jobs.keep_alive()
