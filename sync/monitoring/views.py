"""/health/live, /health/ and /metrics: no login; /metrics by token or internal address."""

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from omni_xero.lockout import client_ip
from sync.monitoring import checks, metrics


@never_cache
@require_GET
def live(request: HttpRequest) -> HttpResponse:
    """The process answers: no database, no session, nothing else (an orchestrator's
    liveness probe; /health/ says whether the deployment can do its work)."""
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


def _wants_json(request: HttpRequest) -> bool:
    if request.GET.get("format") == "json":
        return True
    return "application/json" in request.headers.get("Accept", "")


@never_cache
@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """200 when every critical check passes (with any warnings listed), else 503. JSON when
    asked (Accept: application/json, or ?format=json), else a line per check. Organisations
    are named to staff only; anyone else gets IDs and counts."""
    results = checks.health_run(names=request.user.is_staff)
    status = checks.overall(results)
    code = 503 if status == "unhealthy" else 200
    if _wants_json(request):
        body = {
            "status": status,
            "checks": {
                r.name: {"status": r.status, "critical": r.critical, "detail": r.detail}
                for r in results
            },
        }
        return JsonResponse(body, status=code)
    lines = [f"status: {status}"]
    lines += [f"{r.name}: {r.status}" + (f" ({r.detail})" if r.detail else "") for r in results]
    return HttpResponse(
        "\n".join(lines) + "\n", content_type="text/plain; charset=utf-8", status=code
    )


def _internal(request: HttpRequest) -> bool:
    address = client_ip(request)
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus's text format. With METRICS_TOKEN set, only `Authorization: Bearer
    <token>` is let in; without it, only internal addresses (loopback, private ranges, as
    the outermost of TRUSTED_PROXY_COUNT proxies saw the caller)."""
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            response = HttpResponse("A bearer token is needed.\n", status=401)
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif not _internal(request):
        return HttpResponse("Metrics are served to internal addresses only.\n", status=403)
    return HttpResponse(generate_latest(metrics.registry()), content_type=CONTENT_TYPE_LATEST)
