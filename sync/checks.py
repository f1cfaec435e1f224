"""System checks for the Xero settings: a wrong value fails loudly and by name.

Missing credentials are refused earlier, when the settings load (see omni_xero/settings.py).
"""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register()
def xero_settings_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    if settings.XERO_CONNECTION_KIND not in ("oauth", "custom"):
        problems.append(
            Error(
                f"XERO_CONNECTION_KIND is {settings.XERO_CONNECTION_KIND!r}.",
                hint='Use "oauth" (an accountant connects) or "custom" (a custom connection).',
                id="sync.E001",
            )
        )
    if not settings.XERO_CLIENT_SECRET:
        problems.append(
            Error(
                "XERO_CLIENT_SECRET is empty: Xero refuses omni-xero's app without it.",
                hint="Copy the secret from the app at https://developer.xero.com/app/manage.",
                id="sync.E002",
            )
        )
    if settings.XERO_CONNECTION_KIND == "oauth" and "offline_access" not in settings.XERO_SCOPES:
        problems.append(
            Warning(
                "XERO_SCOPES lacks offline_access: Xero then gives no refresh token and the "
                "connection needs reconnecting every 30 minutes.",
                id="sync.W001",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def xero_sandbox_deploy_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """`check --deploy`: a deployment that opted into the sandbox says so every time."""
    if not settings.XERO_USE_SANDBOX:
        return []
    return [
        Warning(
            f"XERO_USE_SANDBOX is on: omni-xero talks to the Xero sandbox at "
            f"{settings.XERO_SANDBOX_URL}, not to Xero.",
            hint="Fine for a demo; production sets XERO_CLIENT_ID and XERO_CLIENT_SECRET.",
            id="sync.W002",
        )
    ]
