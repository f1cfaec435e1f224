from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.urls import register_converter


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Xero sync"

    def ready(self) -> None:
        from sync import (
            checks,  # noqa: F401 (registers the system checks)
            tasks,  # noqa: F401 (registers each kind of job's task with sync.jobs)
        )
        from sync.filters import IdConverter, TokenConverter
        from sync.notifications import services  # noqa: F401 (tells people their jobs ended)
        from sync.roles import ensure_groups

        # Before any URLconf is read: the sync app's and its admin's paths use them.
        register_converter(IdConverter, "id")
        register_converter(TokenConverter, "token")

        # After contenttypes and auth have created the permissions the groups need.
        post_migrate.connect(ensure_groups, sender=self)
