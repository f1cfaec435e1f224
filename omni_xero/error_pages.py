"""The 403, 404 and 500 pages: in the app's layout, each saying what happened and what to do."""

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseNotFound,
    HttpResponseServerError,
)
from django.shortcuts import render
from django.template import loader


def forbidden(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403: the reason, when the check that refused gave one fit to show (every
    PermissionDenied the app raises with a message is written for the user)."""
    reason = str(exception) if exception.args else ""
    return render(request, "403.html", {"reason": reason}, status=HttpResponseForbidden.status_code)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: an Http404's message is for developers ("No such subtab"), so none is shown."""
    return render(request, "404.html", status=HttpResponseNotFound.status_code)


def server_error(request: HttpRequest) -> HttpResponseServerError:
    """handler500: rendered without the request, so without the context processors (the
    database or the session may be what failed): the bare top bar, no user, no connection."""
    return HttpResponseServerError(loader.render_to_string("500.html"))
