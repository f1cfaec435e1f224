"""The webhook endpoint Xero POSTs to. The signature is the authentication (no session, no
CSRF token); it answers at once and leaves the work to the worker."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sync.webhooks import services


@csrf_exempt
@require_POST
def xero_webhook(request: HttpRequest) -> HttpResponse:
    """200 with an empty body for a correctly signed delivery, 401 for any other."""
    received = services.webhook_receive(
        body=request.body, signature=request.headers.get("x-xero-signature", "")
    )
    return HttpResponse(status=200 if received.signed else 401)
