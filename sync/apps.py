from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Xero sync"

    def ready(self) -> None:
        from sync import (
            checks,  # noqa: F401 (registers the system checks)
            tasks,  # noqa: F401 (registers each kind of job's task with sync.jobs)
        )
        from sync.roles import ensure_groups

        # After contenttypes and auth have created the permissions the groups need.
        post_migrate.connect(ensure_groups, sender=self)
