import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sync.exceptions import UserFacingError
from sync.links.mirror import xero_contacts_refresh
from sync.models import ConnectionStatus, XeroConnection


class Command(BaseCommand):
    help = "Refresh the local mirror of Xero contacts now, for every connected organisation."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--full", action="store_true", help="pull every contact again")

    def handle(self, *args: Any, full: bool = False, **options: Any) -> None:
        connections = XeroConnection.objects.filter(status=ConnectionStatus.ACTIVE)
        if not connections:
            raise CommandError("No Xero organisation is connected.")
        failed = []
        for connection in connections:
            started = time.monotonic()
            try:
                result = xero_contacts_refresh(connection=connection, full=full)
            except UserFacingError as error:
                self.stderr.write(f"{connection}: {error}")
                failed.append(connection.organisation_name)
                continue
            self.stdout.write(
                f"{connection}: {result.received} contact(s) in {result.api_calls} API call(s), "
                f"{'full' if result.full else 'incremental'}, "
                f"{time.monotonic() - started:.1f} s"
            )
        if failed:
            raise CommandError(f"Not refreshed: {', '.join(failed)}.")
