"""Login throttling (django-axes): the lockout page, and where a login comes from."""

import ipaddress

from axes.helpers import get_client_username
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """Say who is locked, for how long, and who can lift it; 429 Too Many Requests."""
    cool_off = settings.AXES_COOLOFF_TIME
    context = {
        "username": get_client_username(request, credentials) or "",
        "cooloff_minutes": int(cool_off.total_seconds() // 60) if cool_off else None,
    }
    return render(request, "registration/locked_out.html", context, status=429)


def client_ip(request: HttpRequest) -> str | None:
    """The address a login came from, as the outermost of TRUSTED_PROXY_COUNT proxies saw it.

    Each proxy appends the address it saw to X-Forwarded-For, so only the last
    TRUSTED_PROXY_COUNT entries are trustworthy; anything before them the client wrote itself.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if proxies and len(forwarded) >= proxies:
        try:
            return str(ipaddress.ip_address(forwarded[-proxies]))
        except ValueError:
            pass  # a proxy that does not append: fall back to the nearest address
    return request.META.get("REMOTE_ADDR")
