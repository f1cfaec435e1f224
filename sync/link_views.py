"""The dashboard's link actions on selected contacts: Upload, Check links, Relink to survivor,
and the Search column (suggestions from the Xero contact mirror, and Link).

The contacts tab (sync/views.py) dispatches its action bar here; each function is one service
call and its messages.
"""

from django.contrib import messages
from django.http import HttpRequest

from .models import SyncContactQuerySet, XeroConnection


def upload_selected(
    request: HttpRequest, *, connection: XeroConnection, contacts: SyncContactQuerySet
) -> None:
    """Upload the selected contacts: create the unlinked ones in Xero, update the changed."""
    messages.info(request, "Upload is not available yet.")


def check_links(request: HttpRequest, *, connection: XeroConnection) -> None:
    """Check every link of the organisation against Xero (through the mirror)."""
    messages.info(request, "Check links is not available yet.")


def relink_selected(
    request: HttpRequest, *, connection: XeroConnection, contacts: SyncContactQuerySet
) -> None:
    """Relink the selected merged contacts to the Xero contacts they were merged into."""
    messages.info(request, "Relink to survivor is not available yet.")
