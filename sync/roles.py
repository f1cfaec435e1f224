"""The two groups of dashboard users and what each may do. Admins are superusers."""

from typing import Any

from django.contrib.auth.models import Group, Permission

ACCOUNTANTS = "Accountants"
VIEWERS = "Viewers"

# Read access to everything the dashboard shows.
VIEW_PERMISSIONS = [
    ("contacts", "view_contact"),
    ("transactions", "view_transaction"),
    ("transactions", "view_lineitem"),
    ("sync", "view_xeroconnection"),
    ("sync", "view_contactlink"),
    ("sync", "view_linkevent"),
    ("sync", "view_syncrun"),
    ("sync", "view_syncitem"),
]
# Accountants also act: link, unlink, upload and sync from the dashboard.
ACT_PERMISSIONS = [("sync", "use_dashboard")]

ROLES = {VIEWERS: VIEW_PERMISSIONS, ACCOUNTANTS: VIEW_PERMISSIONS + ACT_PERMISSIONS}


def ensure_groups(**kwargs: Any) -> None:
    """Create the groups with exactly their permissions; run after every migrate."""
    for name, wanted in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in wanted
        ]
        group.permissions.set(permissions)
