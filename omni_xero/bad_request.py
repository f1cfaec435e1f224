"""The 400 page: a value in the address or a form that the page cannot use, named, with why."""

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from sync.filters import BadParameter

logger = logging.getLogger(__name__)


def bad_parameter_page(request: HttpRequest, error: BadParameter) -> HttpResponse:
    """400 Bad Request, saying which value and why, with the way back to the page."""
    logger.warning("Bad parameter %s on %s: %s", error.name, request.path, error.why)
    context = {"error": error, "back": request.path if request.method == "GET" else ""}
    return render(request, "400.html", context, status=400)


class BadParameterMiddleware:
    """A BadParameter raised by a view becomes the 400 page (a warning in the log, no
    traceback: the user gave a value the page cannot use, nothing is broken)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, BadParameter):
            return bad_parameter_page(request, exception)
        return None


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: any other request Django refuses (a suspicious header, too many fields)
    gets the same page, without detail."""
    error = exception if isinstance(exception, BadParameter) else None
    return render(request, "400.html", {"error": error}, status=400)
