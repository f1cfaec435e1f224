"""Connecting to Xero: the OAuth2 flow with state and PKCE, tenant choice, disconnect."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django_tasks_db.models import DBTaskResult

from sync import xero
from sync.connections import crypto
from sync.connections.services import session
from sync.models import ConnectionEvent, ConnectionStatus, XeroApiCall, XeroConnection
from tests.plugins.xero import back_to_app, consent

pytestmark = pytest.mark.django_db


def live_tenants(sandbox) -> list[str]:
    """The organisations omni-xero's demo app is connected to, as the sandbox sees it."""
    return sorted(
        c["tenantId"]
        for c in sandbox.call("GET", "/_sandbox/connections")
        if c["client_id"] == sandbox.client_id
    )


def test_connect_button_sends_the_accountant_to_xero_with_state_and_pkce(
    accountant_client, xero_settings
):
    response = accountant_client.post("/accounting/xero/connect/")
    url = urlsplit(response.url)
    query = parse_qs(url.query)
    assert url.path == "/identity/connect/authorize"
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 24 and len(query["code_challenge"][0]) == 43
    assert query["scope"][0].split() == xero_settings.XERO_SCOPES
    assert "accounting.invoices" in query["scope"][0]
    # Connecting reads GET /Organisation, which needs a settings scope (Xero's spec).
    assert {"accounting.settings", "accounting.settings.read"} & set(query["scope"][0].split())
    assert query["redirect_uri"] == ["http://testserver/accounting/xero/callback/"]


def test_connecting_the_demo_organisation(connect, sandbox, accountant):
    page = connect().content.decode()
    assert "Connected to Demo Company (NZ). Its Xero contacts are being fetched" in page
    connection = XeroConnection.objects.get()
    assert str(connection.tenant_id) == sandbox.demo_tenant_id
    assert connection.status == ConnectionStatus.ACTIVE
    assert connection.connected_by == accountant
    assert connection.xero_connection_id is not None
    assert connection.organisation_name in page
    # Stored encrypted: the ciphertext is not the token, and decrypts to a working one.
    access = crypto.decrypt(connection.access_token_encrypted)
    assert access and access not in connection.access_token_encrypted
    assert crypto.decrypt(connection.refresh_token_encrypted)
    assert connection.expires_at is not None and connection.token_refreshed_at is not None
    assert XeroApiCall.objects.filter(endpoint="/connect/token", status=200).exists()
    assert XeroApiCall.objects.filter(endpoint="/Connections", status=200).exists()


def test_a_wrong_state_is_refused_and_nothing_is_saved(accountant_client, sandbox, xero_settings):
    start = accountant_client.post("/accounting/xero/connect/")
    location = consent(sandbox, start.url)
    forged = back_to_app(location).replace("state=", "state=forged")
    page = accountant_client.get(forged, follow=True).content.decode()
    assert "did not match a connection started here" in page
    assert not XeroConnection.objects.exists()
    assert not XeroApiCall.objects.filter(endpoint="/connect/token").exists()


def test_a_callback_nobody_started_is_refused(accountant_client, xero_settings):
    page = accountant_client.get(
        "/accounting/xero/callback/?code=abc&state=xyz", follow=True
    ).content.decode()
    assert "did not match a connection started here" in page
    assert not XeroConnection.objects.exists()


def test_denied_consent_says_so_and_connects_nothing(connect):
    page = connect(allow=False).content.decode()
    assert "omni-xero was not connected to Xero: you cancelled." in page
    assert not XeroConnection.objects.exists()


def test_a_grant_covering_several_organisations_asks_which(connect, sandbox, accountant_client):
    page = connect(tenant_ids=[sandbox.demo_tenant_id, sandbox.harbour_tenant_id])
    html = page.content.decode()
    assert "Which organisation?" in html
    assert not XeroConnection.objects.exists()
    response = accountant_client.post(
        "/accounting/xero/connect/organisation/",
        {"tenant_id": sandbox.harbour_tenant_id},
        follow=True,
    )
    connection = XeroConnection.objects.get()
    assert str(connection.tenant_id) == sandbox.harbour_tenant_id
    assert connection.organisation_name in response.content.decode()


def test_disconnect_asks_first_then_removes_the_connection_in_xero(
    connection, accountant_client, sandbox
):
    url = f"/accounting/xero/connections/{connection.pk}/disconnect/"
    assert "Disconnect from" in accountant_client.get(url).content.decode()
    assert XeroConnection.objects.get().status == ConnectionStatus.ACTIVE
    assert live_tenants(sandbox) == [sandbox.demo_tenant_id]
    page = accountant_client.post(url, follow=True).content.decode()
    assert "Disconnected from" in page and "Connect to Xero" in page
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.DISCONNECTED
    assert connection.access_token_encrypted == "" == connection.refresh_token_encrypted
    assert XeroApiCall.objects.filter(method="DELETE", status=204).exists()
    assert XeroApiCall.objects.filter(endpoint="/connect/revocation", status=200).exists()
    assert live_tenants(sandbox) == []


def test_reconnecting_the_same_organisation_keeps_its_row(connection, accountant_client, connect):
    accountant_client.post(f"/accounting/xero/connections/{connection.pk}/disconnect/")
    connect()
    again = XeroConnection.objects.get()
    assert again.pk == connection.pk
    assert again.status == ConnectionStatus.ACTIVE


def test_viewer_cannot_connect_or_disconnect(client, viewer, connection, xero_settings):
    viewer_client = client
    viewer_client.force_login(viewer)
    assert viewer_client.post("/accounting/xero/connect/").status_code == 403
    url = f"/accounting/xero/connections/{connection.pk}/disconnect/"
    assert viewer_client.post(url).status_code == 403
    assert XeroConnection.objects.get().status == ConnectionStatus.ACTIVE
    assert (
        "Disconnect" not in viewer_client.get("/accounting/xero/sales/customers/").content.decode()
    )


def test_a_custom_connection_connects_without_a_consent_page(
    accountant_client, sandbox, xero_settings
):
    app = sandbox.create_client(tenantId=sandbox.demo_tenant_id, name="Omni custom")
    xero_settings.XERO_CONNECTION_KIND = "custom"
    xero_settings.XERO_CLIENT_ID = app["client_id"]
    xero_settings.XERO_CLIENT_SECRET = app["client_secret"]
    page = accountant_client.post("/accounting/xero/connect/", follow=True).content.decode()
    connection = XeroConnection.objects.get()
    assert f"Connected to {connection.organisation_name}" in page
    assert connection.kind == "custom" and str(connection.tenant_id) == sandbox.demo_tenant_id
    # Its token is renewed by client credentials (it has no refresh token).
    XeroConnection.objects.filter(pk=connection.pk).update(expires_at=None)
    assert xero.contacts_page(session(connection), page=1).page == 1
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE


def connect_demo_then_harbour(connect, sandbox, client) -> None:
    """Connect Demo, then Harbour in a second sign-in. Xero lists every organisation the
    user has connected to the app, so omni-xero asks which one is meant."""
    connect()
    connect(tenant_ids=[sandbox.harbour_tenant_id])
    client.post("/accounting/xero/connect/organisation/", {"tenant_id": sandbox.harbour_tenant_id})


def test_disconnecting_one_organisation_leaves_the_other_connected(
    connect, sandbox, accountant_client
):
    connect_demo_then_harbour(connect, sandbox, accountant_client)
    demo = XeroConnection.objects.get(tenant_id=sandbox.demo_tenant_id)
    harbour = XeroConnection.objects.get(tenant_id=sandbox.harbour_tenant_id)
    accountant_client.post(f"/accounting/xero/connections/{harbour.pk}/disconnect/")
    assert live_tenants(sandbox) == [sandbox.demo_tenant_id]
    assert xero.contacts_page(session(demo), page=1).page == 1
    demo.refresh_from_db()
    assert demo.status == ConnectionStatus.ACTIVE


def test_organisations_not_picked_are_removed_from_the_grant(connect, sandbox, accountant_client):
    connect(tenant_ids=[sandbox.demo_tenant_id, sandbox.harbour_tenant_id])
    accountant_client.post(
        "/accounting/xero/connect/organisation/", {"tenant_id": sandbox.harbour_tenant_id}
    )
    assert live_tenants(sandbox) == [sandbox.harbour_tenant_id]


def test_an_organisation_already_connected_is_never_removed_from_the_grant(
    connect, sandbox, accountant_client
):
    connect_demo_then_harbour(connect, sandbox, accountant_client)
    assert live_tenants(sandbox) == sorted([sandbox.demo_tenant_id, sandbox.harbour_tenant_id])


def test_picking_an_organisation_not_offered_is_refused(connect, sandbox, accountant_client):
    connect(tenant_ids=[sandbox.demo_tenant_id, sandbox.harbour_tenant_id])
    page = accountant_client.post(
        "/accounting/xero/connect/organisation/",
        {"tenant_id": "00000000-0000-4000-8000-000000000000"},
    ).content.decode()
    assert "Pick one of the organisations listed." in page
    assert not XeroConnection.objects.exists()


def test_xero_failing_right_after_consent_gives_a_message_not_an_error_page(connect, sandbox):
    sandbox.fault(status=503, count=10, path="/api.xro/2.0/Organisation")
    page = connect().content.decode()
    assert "could not finish connecting to Demo Company (NZ)" in page
    assert "Xero did not answer in time or is unavailable" in page


def test_connecting_and_disconnecting_are_audited(connect, accountant, accountant_client):
    connect()
    connection = XeroConnection.objects.get()
    accountant_client.post(f"/accounting/xero/connections/{connection.pk}/disconnect/")
    connect()
    events = list(
        ConnectionEvent.objects.order_by("pk").values_list("action", "actor", "organisation_name")
    )
    assert events == [
        ("connect", accountant.pk, "Demo Company (NZ)"),
        ("disconnect", accountant.pk, "Demo Company (NZ)"),
        ("reconnect", accountant.pk, "Demo Company (NZ)"),
    ]


def test_two_organisations_in_one_process_each_get_their_own_data(
    connect, sandbox, accountant_client
):
    """xero-python's Configuration is a process-wide singleton: clients must not share tokens."""
    sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Only In Demo"}])
    sandbox.seed_contacts(sandbox.harbour_tenant_id, [{"Name": "Only In Harbour"}])
    connect_demo_then_harbour(connect, sandbox, accountant_client)
    demo = XeroConnection.objects.get(tenant_id=sandbox.demo_tenant_id)
    harbour = XeroConnection.objects.get(tenant_id=sandbox.harbour_tenant_id)
    for _ in range(2):
        assert "Only In Demo" in {
            c.name for c in xero.contacts_page(session(demo), page=1).contacts
        }
        names = {c.name for c in xero.contacts_page(session(harbour), page=1).contacts}
        assert "Only In Harbour" in names and "Only In Demo" not in names


def test_a_first_call_failing_leaves_the_connection_not_ready_until_finished(
    connect, sandbox, accountant_client, django_capture_on_commit_callbacks
):
    sandbox.fault(status=503, count=10, path="/api.xro/2.0/Organisation")
    connect()
    connection = XeroConnection.objects.get()
    assert connection.status == ConnectionStatus.PENDING
    assert "unavailable" in connection.status_detail
    page = accountant_client.get("/accounting/xero/sales/customers/").content.decode()
    assert "Connecting to <bdi>Demo Company (NZ)</bdi> is not finished." in page
    assert "Finish connecting" in page and "Refresh Xero contacts" not in page
    assert not DBTaskResult.objects.exists()  # nothing fetched from a half-made connection

    sandbox.clear_faults()
    with django_capture_on_commit_callbacks(execute=True):
        page = accountant_client.post(
            f"/accounting/xero/connections/{connection.pk}/finish/", follow=True
        ).content.decode()
    assert "Connected to Demo Company (NZ)." in page and "is not finished" not in page
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE and connection.status_detail == ""
    assert DBTaskResult.objects.filter(task_path__endswith="refresh_xero_contacts").count() == 1


def test_a_viewer_cannot_finish_connecting(connect, sandbox, client, viewer):
    sandbox.fault(status=503, count=10, path="/api.xro/2.0/Organisation")
    connect()
    connection = XeroConnection.objects.get()
    client.force_login(viewer)
    assert client.post(f"/accounting/xero/connections/{connection.pk}/finish/").status_code == 403


def test_tokens_are_kept_from_being_revoked_while_another_organisation_is_connected(
    connect, sandbox, accountant_client
):
    connect()  # Demo, in use
    sandbox.fault(status=503, count=10, path="/Connections")
    page = connect(tenant_ids=[sandbox.harbour_tenant_id]).content.decode()
    assert "omni-xero was not connected to Xero" in page
    assert not XeroApiCall.objects.filter(endpoint="/connect/revocation").exists()
    sandbox.clear_faults()
    demo = XeroConnection.objects.get()
    assert xero.contacts_page(session(demo), page=1).page == 1  # still connected


def test_tokens_are_revoked_when_xero_cannot_list_the_organisations(connect, sandbox):
    sandbox.fault(status=503, count=10, path="/Connections")
    page = connect().content.decode()
    assert "omni-xero was not connected to Xero" in page
    assert not XeroConnection.objects.exists()
    revoked = XeroApiCall.objects.get(endpoint="/connect/revocation")
    assert revoked.status == 200
    assert live_tenants(sandbox) == []  # the grant is gone from the user's Xero


def test_a_custom_connection_xero_refuses_says_why_once(accountant_client, sandbox, xero_settings):
    app = sandbox.create_client(tenantId=sandbox.demo_tenant_id, name="Omni custom")
    xero_settings.XERO_CONNECTION_KIND = "custom"
    xero_settings.XERO_CLIENT_ID = app["client_id"]
    xero_settings.XERO_CLIENT_SECRET = "not-the-secret"
    page = accountant_client.post("/accounting/xero/connect/", follow=True).content.decode()
    assert "Xero refused the sign-in: the app&#x27;s client ID or secret is wrong." in page
    assert page.count("Xero refused the sign-in") == 1
    assert not XeroConnection.objects.exists()


def test_disconnect_revokes_the_tokens_even_when_removing_the_organisation_fails(
    connection, sandbox, accountant_client
):
    sandbox.fault(status=503, count=10, method="DELETE", path="/Connections")
    accountant_client.post(f"/accounting/xero/connections/{connection.pk}/disconnect/")
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.DISCONNECTED
    assert XeroApiCall.objects.get(endpoint="/connect/revocation").status == 200
    assert live_tenants(sandbox) == []  # revoking ended the grant in the user's Xero


def test_a_web_request_never_sits_out_a_rate_limit(connect, sandbox, waits):
    sandbox.fault(status=429, count=1, retry_after=30, path="/api.xro/2.0/Organisation")
    page = connect().content.decode()
    assert waits == []  # nobody sat out 30 seconds behind a spinning page
    assert "Try again in 30 seconds." in page
    assert XeroConnection.objects.get().status == ConnectionStatus.PENDING


def test_a_verdict_on_replaced_tokens_does_not_mark_the_connection(connection):
    from sync.connections.services import connection_mark_needs_reconnect

    old_version = connection.token_version
    XeroConnection.objects.filter(pk=connection.pk).update(token_version=old_version + 1)
    connection_mark_needs_reconnect(
        connection=connection, detail="refused", token_version=old_version
    )
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE
    assert not ConnectionEvent.objects.filter(action="needs_reconnect").exists()


def test_starting_again_removes_the_organisations_left_waiting_for_a_choice(
    connect, sandbox, accountant_client
):
    connect()  # Demo
    connect(tenant_ids=[sandbox.harbour_tenant_id])  # covers two: waits for a choice
    accountant_client.post("/accounting/xero/connect/")  # the accountant starts over
    demo = XeroConnection.objects.get(tenant_id=sandbox.demo_tenant_id)
    assert xero.contacts_page(session(demo), page=1).page == 1
    assert live_tenants(sandbox) == [sandbox.demo_tenant_id]
