"""Template context every page gets."""

from sync.dashboard.tabs import DashboardRequest, current_connection
from sync.models import XeroConnection


def xero_connection(request: DashboardRequest) -> dict[str, XeroConnection | None]:
    """The current Xero connection, for the reconnect banner every page shows when needed."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"xero_connection": current_connection(request)}
