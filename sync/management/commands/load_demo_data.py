from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from contacts.models import Contact
from sync.demo import demo_loaded, load_demo_data


class Command(BaseCommand):
    help = "Load the demo users, contacts and transactions, once (later runs change nothing)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="only into a database without users or contacts (`make serve`: a database "
            "of real use never gets the demo superuser)",
        )

    def handle(self, *args: Any, if_empty: bool = False, **options: Any) -> None:
        if demo_loaded():
            self.stdout.write("Demo data is already loaded.")
            return
        if if_empty and (get_user_model().objects.exists() or Contact.objects.exists()):
            self.stdout.write("The database has users or contacts of its own: no demo data.")
            return
        load_demo_data()
        self.stdout.write(self.style.SUCCESS("Loaded the demo data."))
