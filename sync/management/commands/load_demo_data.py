from typing import Any

from django.core.management.base import BaseCommand

from sync.demo import demo_loaded, load_demo_data


class Command(BaseCommand):
    help = "Load the demo users, contacts and transactions, once (later runs change nothing)."

    def handle(self, *args: Any, **options: Any) -> None:
        if demo_loaded():
            self.stdout.write("Demo data is already loaded.")
            return
        load_demo_data()
        self.stdout.write(self.style.SUCCESS("Loaded the demo data."))
