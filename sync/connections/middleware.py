"""Middleware of the Xero integration."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from sync import xero


class NoRateLimitWaitsMiddleware:
    """A web request never sits out Xero's rate limit: someone is waiting for the page.

    Calls made while answering a request get RateLimited at once instead of sleeping through
    Retry-After; background tasks, which nobody waits for, still wait.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with xero.interactive():
            return self.get_response(request)
