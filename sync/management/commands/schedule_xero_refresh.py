import logging
import signal
import threading
from argparse import ArgumentParser
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from sync.jobs import jobs_resume
from sync.links.mirror import contact_refreshes_enqueue
from sync.monitoring.heartbeats import (
    TICK_SECONDS,
    WORKER_BEAT_SECONDS,
    scheduler_tick,
    worker_beat_request,
)
from sync.syncing.runs import autosyncs_start
from sync.webhooks.health import safety_net_refreshes_enqueue
from sync.webhooks.services import webhook_events_resume, webhook_history_prune

logger = logging.getLogger(__name__)


def survived(step: Callable[[], object]) -> None:
    """One step of the loop, on a connection opened for it and closed after. PostgreSQL
    going away meanwhile (restarted, its connections cut) is logged and the next step tries
    again: the scheduler goes on, rather than ending (and under honcho, every process with
    it)."""
    close_old_connections()
    try:
        step()
    except DatabaseError:
        logger.exception("The scheduler's database was not there; it tries again next time.")
    finally:
        close_old_connections()


class Command(BaseCommand):
    help = (
        "Queue a refresh of the Xero contact mirror for each connected organisation whose "
        "refresh is due (every XERO_MIRROR_REFRESH_MINUTES, or every "
        "XERO_MIRROR_REFRESH_MINUTES_WITH_WEBHOOKS while Xero's webhooks are healthy), resume "
        "stalled uploads and syncs, and start the automatic syncs that are due (the db_worker "
        "runs them). Run it from cron or a systemd timer every few minutes, or with --loop "
        "(what `make run` does): then it does all of it every minute; SIGTERM or Ctrl-C stops "
        "the loop."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--loop", action="store_true", help="keep running")

    def handle(self, *args: Any, loop: bool = False, **options: Any) -> None:
        stop = threading.Event()
        if loop:
            # Stop between rounds, quietly (no KeyboardInterrupt trace), and at once when
            # asleep: the handler wakes the wait below.
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda signum, frame: stop.set())
        talk = options["verbosity"] > 1 or not loop
        if not loop:
            self.round(talk=talk)
            return
        while not stop.is_set():
            survived(lambda: self.round(talk=talk))
            # Between rounds, a worker's beat is asked for every WORKER_BEAT_SECONDS.
            for _ in range(TICK_SECONDS // WORKER_BEAT_SECONDS - 1):
                if stop.wait(WORKER_BEAT_SECONDS):
                    return
                survived(worker_beat_request)
            stop.wait(WORKER_BEAT_SECONDS)

    def round(self, *, talk: bool) -> None:
        """Everything the scheduler does once a minute."""
        # /health/ reads this round's time, and the beat of the worker that runs the
        # task it queues.
        scheduler_tick()
        # Each organisation's refresh when it is due by its own mode's interval.
        queued = safety_net_refreshes_enqueue()
        if talk:
            self.stdout.write(f"Queued {queued} refresh(es).")
        # ... and at once, any refresh a killed worker left.
        resumed_refreshes = contact_refreshes_enqueue(stalled_only=True)
        if talk and resumed_refreshes:
            self.stdout.write(f"Resumed {resumed_refreshes} stalled refresh(es).")
        resumed = jobs_resume()
        resumed["webhook event batches"] = webhook_events_resume()
        webhook_history_prune()
        started = autosyncs_start()
        if talk:
            for kind, count in resumed.items():
                if count:
                    self.stdout.write(f"Resumed {count} stalled {kind}.")
            if started:
                self.stdout.write(f"Started {started} automatic sync(s).")
