import signal
import threading
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from sync.tasks import contact_refreshes_enqueue
from sync.uploads import upload_jobs_resume


class Command(BaseCommand):
    help = (
        "Queue a refresh of the Xero contact mirror for each connected organisation, and "
        "resume stalled uploads (the "
        "db_worker runs it). Run it from cron or a systemd timer every few minutes, or with "
        "--loop to keep queueing every XERO_MIRROR_REFRESH_MINUTES (what `make run` does); "
        "SIGTERM or Ctrl-C stops the loop."
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
        while not stop.is_set():
            queued = contact_refreshes_enqueue()
            resumed = upload_jobs_resume()
            if options["verbosity"] > 1 or not loop:
                self.stdout.write(f"Queued {queued} refresh(es).")
                if resumed:
                    self.stdout.write(f"Resumed {resumed} stalled upload(s).")
            if not loop:
                return
            stop.wait(settings.XERO_MIRROR_REFRESH_MINUTES * 60)
