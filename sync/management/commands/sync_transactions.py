import sys
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from sync import filters
from sync.models import ConnectionStatus, SyncRun, XeroConnection
from sync.syncing import organisations as transaction_orgs
from sync.syncing import runs
from transactions.models import Transaction, TransactionType


class Command(BaseCommand):
    help = (
        "Sync transactions to Xero now, as Upload all ready does, with a progress bar: all "
        "ready ones of the organisation, or those of --type, --contact or --ids (another "
        "organisation's are never sent). Exits with status 1 when any "
        "was refused or failed (each is listed with its reason), 2 when the sync stopped."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--type",
            action="append",
            choices=TransactionType.values,
            help="only this transaction type (repeatable)",
        )
        parser.add_argument(
            "--contact", action="append", help="only this contact's (Omni ID or exact name)"
        )
        parser.add_argument("--ids", help="only these transactions (comma-separated IDs)")
        parser.add_argument(
            "--organisation", help="the organisation's name (needed when several are connected)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Every option is checked before anything is looked up: a wrong one is one line.
        # An empty --ids (a script's empty variable) is an error, never "every transaction".
        ids = self._ids(options["ids"].split(","), "--ids") if options["ids"] is not None else None
        contacts = [self._text(contact, "--contact") for contact in options.get("contact") or []]
        connection = self._connection(options.get("organisation"))
        transactions = transaction_orgs.for_organisation(
            Transaction.objects.ready_to_sync(), connection
        )
        if options.get("type"):
            transactions = transactions.filter(type__in=options["type"])
        if contacts:
            wanted = Q()
            for contact in contacts:
                wanted |= Q(contact__name=contact)
                pk = filters.as_id(contact)
                if pk is not None:  # a name of digits longer than an id is a name alone
                    wanted |= Q(contact__pk=pk) | Q(contact__omni_id=pk)
            transactions = transactions.filter(wanted)
        if ids is not None:
            transactions = transactions.filter(pk__in=ids)
        run = runs.sync_start(
            connection=connection, transactions=transactions, trigger=SyncRun.Trigger.COMMAND
        )
        if run is None:
            self.stdout.write("Nothing ready to sync.")
            return
        total = run.items.count()
        self.stdout.write(f"Syncing {total} transaction(s) to {connection.organisation_name}.")
        while True:
            run = runs.sync_run(run=run, on_batch=self._bar)
            self._bar(run)
            if not run.is_active:
                break
            # Waiting for Xero (or for another sync of the organisation): wait, then go on.
            until = run.resume_at or timezone.now()
            time.sleep(min(5.0, max(0.5, (until - timezone.now()).total_seconds())))
        self.stdout.write("")
        self._report(run)

    def _ids(self, texts: list[str], option: str) -> list[int]:
        try:
            return filters.object_ids(texts, option)
        except filters.BadParameter as error:
            raise CommandError(
                f"{option} takes IDs of 1 to 18 digits separated by commas, e.g. 4,8,15: "
                f"{error.why}"
            ) from None

    def _text(self, text: str, option: str) -> str:
        try:
            return filters.plain_text(text, option)
        except filters.BadParameter as error:
            raise CommandError(f"{option}: {error.why}") from None

    def _connection(self, name: str | None) -> XeroConnection:
        connected = XeroConnection.objects.filter(status=ConnectionStatus.ACTIVE)
        if name is not None:
            if not name.strip():
                raise CommandError("--organisation: give the organisation's name, as Xero has it.")
            connected = connected.filter(organisation_name=self._text(name, "--organisation"))
        found = list(connected[:2])
        if not found:
            raise CommandError(
                f"No connected organisation named {name!r}." if name else "Xero is not connected."
            )
        if len(found) > 1:
            names = ", ".join(repr(c.organisation_name) for c in connected)
            raise CommandError(
                f"Several organisations are connected ({names}): choose one with "
                "--organisation. Each transaction goes to its own organisation only."
            )
        return found[0]

    def _bar(self, run: SyncRun) -> None:
        progress = runs.run_progress(run)
        width = 30
        filled = round(width * progress.done / progress.total) if progress.total else width
        line = (
            f"\r[{'#' * filled}{'.' * (width - filled)}] {progress.done}/{progress.total}  "
            f"{progress.synced} synced, {progress.refused} refused, {progress.failed} failed, "
            f"{run.api_calls} calls"
        )
        if run.state == SyncRun.State.WAITING and run.resume_at:
            line += f"  waiting for Xero until {timezone.localtime(run.resume_at):%H:%M:%S}"
        self.stdout.write(line, ending="")
        self.stdout.flush()

    def _report(self, run: SyncRun) -> None:
        progress = runs.run_progress(run)
        self.stdout.write(
            f"{progress.synced} synced, {progress.refused} refused, {progress.failed} failed, "
            f"{progress.skipped} not sent, in {run.api_calls} Xero call(s)."
        )
        problems = run.items.filter(state__in=["refused", "failed", "skipped"]).select_related(
            "transaction"
        )
        for item in problems:
            self.stderr.write(f"  {item.transaction}: {item.get_state_display()}: {item.message}")
        if run.state == SyncRun.State.STOPPED:
            self.stderr.write(f"The sync stopped: {run.detail}")
            sys.exit(2)
        if progress.refused or progress.failed:
            sys.exit(1)
