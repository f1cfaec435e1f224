"""Write-side operations on Xero connections: connect, pick an organisation, disconnect."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import xero
from .models import ConnectionEvent, ConnectionKind, ConnectionStatus, XeroConnection


def _user(user: AbstractBaseUser | None):
    return user if user is not None and user.is_authenticated else None


def connection_connect(
    *,
    tokens: xero.TokenSet,
    tenant: xero.Tenant,
    user: AbstractBaseUser | None,
    kind: ConnectionKind = ConnectionKind.OAUTH,
) -> XeroConnection:
    """Keep a granted organisation. Reconnecting one finds its old row, and so its links."""
    with transaction.atomic():
        connection, created = XeroConnection.objects.select_for_update().get_or_create(
            tenant_id=tenant.tenant_id,
            defaults={"organisation_name": tenant.name, "connected_by": _user(user)},
        )
        connection.organisation_name = tenant.name or connection.organisation_name
        connection.kind = kind
        connection.xero_connection_id = tenant.connection_id
        connection.connected_by = _user(user)
        connection.connected_at = timezone.now()
        connection.save()
        ConnectionEvent.objects.create(
            action=ConnectionEvent.Action.CONNECT if created else ConnectionEvent.Action.RECONNECT,
            actor=_user(user),
            connection=connection,
            organisation_name=connection.organisation_name,
            detail=ConnectionKind(kind).label,
        )
    xero.store_new_tokens(connection, tokens)
    # A first call proves the tokens work and shows the quota right away.
    name = xero.organisation_get(connection)
    if name and name != connection.organisation_name:
        XeroConnection.objects.filter(pk=connection.pk).update(organisation_name=name)
    connection.refresh_from_db()
    return connection


def connection_connect_custom(*, user: AbstractBaseUser | None) -> XeroConnection:
    """Connect a Xero custom connection (client credentials; it covers one organisation)."""
    tokens = xero.client_credentials_token()
    name, organisation_id = xero.organisation_name(access_token=tokens.access_token)
    tenant = xero.Tenant(
        connection_id=None, tenant_id=organisation_id, tenant_type="ORGANISATION", name=name
    )
    return connection_connect(tokens=tokens, tenant=tenant, user=user, kind=ConnectionKind.CUSTOM)


def connection_disconnect(*, connection: XeroConnection, user: AbstractBaseUser | None) -> None:
    """Remove the organisation from omni-xero's grant in Xero and forget the tokens.

    The tokens are revoked too when no other organisation is connected (revoking ends every
    organisation of a grant). The connection row, its links and their audit trail stay, so
    reconnecting the same organisation carries on where it stopped.
    """
    others = XeroConnection.objects.usable().exclude(pk=connection.pk).exists()
    xero.disconnect(connection=connection, revoke=not others)
    with transaction.atomic():
        _forget(connection, user)
        ConnectionEvent.objects.create(
            action=ConnectionEvent.Action.DISCONNECT,
            actor=_user(user),
            connection=connection,
            organisation_name=connection.organisation_name,
            detail="tokens revoked" if not others else "other organisations stay connected",
        )


def _forget(connection: XeroConnection, user: AbstractBaseUser | None) -> None:
    XeroConnection.objects.filter(pk=connection.pk).update(
        status=ConnectionStatus.DISCONNECTED,
        status_detail=f"Disconnected by {user}" if _user(user) else "Disconnected",
        access_token_encrypted="",
        refresh_token_encrypted="",
        expires_at=None,
        refresh_lease_until=None,
        # A refresh still under way must not store its tokens into the forgotten row.
        token_version=F("token_version") + 1,
    )
