"""Admin for connections, links and the audit trail. Link changes go through sync.links.services.

It also extends the Omni contact admin (contacts/admin.py, which knows nothing of Xero) with
each contact's links, an audited Unlink action, and django-import-export's Import of a Xero
contacts export (sync/import_resource.py), which links on import as the dashboard does.
"""

from . import (
    base,  # noqa: F401
    connections,  # noqa: F401
    contacts,  # noqa: F401
    imports,  # noqa: F401
    links,  # noqa: F401
    syncing,  # noqa: F401
    transactions,  # noqa: F401
    uploads,  # noqa: F401
    webhooks,  # noqa: F401
)
