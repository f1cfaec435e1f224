import signal
import threading
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from sync.jobs import jobs_resume
from sync.links.mirror import contact_refreshes_enqueue
from sync.syncing.runs import autosyncs_start
from sync.webhooks.services import webhook_events_resume

# Between rounds that resume stalled work and start the automatic syncs that are due.
TICK_SECONDS = 60


class Command(BaseCommand):
    help = (
        "Queue a refresh of the Xero contact mirror for each connected organisation, resume "
        "stalled uploads and syncs, and start the automatic syncs that are due (the db_worker "
        "runs them). Run it from cron or a systemd timer every few minutes, or with --loop "
        "(what `make run` does): then it resumes and starts syncs every minute and queues "
        "refreshes every XERO_MIRROR_REFRESH_MINUTES; SIGTERM or Ctrl-C stops the loop."
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
        next_refresh = 0.0
        while not stop.is_set():
            talk = options["verbosity"] > 1 or not loop
            if time.monotonic() >= next_refresh:
                queued = contact_refreshes_enqueue()
                next_refresh = time.monotonic() + settings.XERO_MIRROR_REFRESH_MINUTES * 60
                if talk:
                    self.stdout.write(f"Queued {queued} refresh(es).")
            else:
                # Between the rounds: only the refreshes a killed worker left.
                queued = contact_refreshes_enqueue(stalled_only=True)
                if talk and queued:
                    self.stdout.write(f"Resumed {queued} stalled refresh(es).")
            resumed = jobs_resume()
            resumed["webhook event batches"] = webhook_events_resume()
            started = autosyncs_start()
            if talk:
                for kind, count in resumed.items():
                    if count:
                        self.stdout.write(f"Resumed {count} stalled {kind}.")
                if started:
                    self.stdout.write(f"Started {started} automatic sync(s).")
            if not loop:
                return
            stop.wait(TICK_SECONDS)
