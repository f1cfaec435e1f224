"""A contact linked to a Xero contact made in the sandbox, for the webhook tests."""

from sync.links import mirror
from sync.links.services import contact_link
from sync.models import LinkMethod
from tests.factories import ContactFactory


def linked_in_sandbox(sandbox, connection, name, *, omni_name=None):
    """Make `name` in the sandbox, mirror it, and link a new Omni contact to it."""
    (xero_id,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": name}])
    mirror.xero_contacts_refresh(connection=connection)
    link = contact_link(
        contact=ContactFactory(name=omni_name or name),
        connection=connection,
        xero_contact_id=xero_id,
        xero_name=name,
        method=LinkMethod.EXISTING,
        user=None,
    )
    return xero_id, link
