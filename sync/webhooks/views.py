"""The webhook endpoint Xero POSTs to, and Check links, which takes up what Xero reported.

The endpoint's signature is the authentication (no session, no CSRF token); it answers at
once and leaves the work to the worker."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sync.models import XeroConnection
from sync.webhooks import health, services


@csrf_exempt
@require_POST
def xero_webhook(request: HttpRequest) -> HttpResponse:
    """200 with an empty body for a correctly signed delivery, 401 for any other."""
    received = services.webhook_receive(
        body=request.body, signature=request.headers.get("x-xero-signature", "")
    )
    return HttpResponse(status=200 if received.signed else 401)


def check_links(request: HttpRequest, *, connection: XeroConnection) -> None:
    """The action bar's Check links: fetch what changed in Xero, then judge every link."""
    result = health.links_check_fresh(connection=connection)
    if result.never_fetched:
        messages.info(
            request,
            "Xero's contacts have not been fetched yet: the links will be checked once they "
            "are (in the background).",
        )
        return
    links = f"{result.checked} link{'s' if result.checked != 1 else ''}"
    changed = (
        f"{result.went_bad} went bad in Xero, {result.usable_again} "
        f"{'is' if result.usable_again == 1 else 'are'} usable again."
        if result.went_bad or result.usable_again
        else "none changed."
    )
    if result.refresh_running:
        messages.warning(
            request,
            "Xero's contacts are being refreshed right now, so nothing more was fetched: "
            f"checked {links} against omni-xero's copy as it is, {changed} They are checked "
            "again when that refresh ends.",
        )
    elif result.fetch_failed:
        messages.error(
            request,
            f"What changed in Xero could not be fetched: {result.fetch_failed} Checked {links} "
            f"against omni-xero's copy as last refreshed: {changed}",
        )
    else:
        calls = f"{result.api_calls} call{'s' if result.api_calls != 1 else ''} to Xero"
        messages.success(
            request, f"Checked {links} against what changed in Xero ({calls}): {changed}"
        )
