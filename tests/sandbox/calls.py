"""Plain HTTP calls to the Accounting API, for what the SDK cannot send or would not read."""

from typing import Any

from tests.plugins.sandbox import HttpAnswer, SandboxControl, http

JSON = "application/json"


def api(
    sandbox: SandboxControl,
    method: str,
    path: str,
    body: Any = None,
    *,
    accept: str | None = JSON,
    token: dict | None = None,
) -> HttpAnswer:
    """One raw Accounting API call; `accept=None` sends no Accept header at all."""
    token = token or sandbox.issue_token()
    headers = {
        "Authorization": "Bearer " + token["access_token"],
        "xero-tenant-id": sandbox.demo_tenant_id,
    }
    if accept is not None:
        headers["Accept"] = accept
    return http(method, sandbox.url + "/api.xro/2.0" + path, body, headers=headers)
