"""The shared cast of users, and fixtures every test module may use."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection as db_connection

from sync.roles import ACCOUNTANTS, VIEWERS
from tests.factories import UserFactory

pytest_plugins = ["tests.plugins.sandbox", "tests.plugins.xero"]


@pytest.fixture(autouse=True)
def _postgres_only(request):
    """Skip a test marked postgres_only (real row locks, concurrent workers) on SQLite."""
    if request.node.get_closest_marker("postgres_only") and db_connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (CI runs it with DATABASE_URL)")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="ada", is_staff=True, is_superuser=True)


@pytest.fixture
def accountant(db):
    user = UserFactory(username="alex", first_name="Alex", last_name="Accountant")
    user.groups.add(Group.objects.get(name=ACCOUNTANTS))
    return user


@pytest.fixture
def viewer(db):
    user = UserFactory(username="vic")
    user.groups.add(Group.objects.get(name=VIEWERS))
    return user


@pytest.fixture
def outsider(db):
    """Logged in, but in no group: may see nothing."""
    return UserFactory(username="olly")


@pytest.fixture
def accountant_client(client, accountant):
    client.force_login(accountant)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def xero_settings(settings, sandbox):
    """omni-xero pointed at the (reset) sandbox, with its demo app's credentials."""
    settings.XERO_CLIENT_ID = sandbox.client_id
    settings.XERO_CLIENT_SECRET = sandbox.client_secret
    settings.XERO_LOGIN_URL = settings.XERO_IDENTITY_URL = settings.XERO_API_URL = sandbox.url
    settings.XERO_REDIRECT_URI = ""
    settings.XERO_CONNECTION_KIND = "oauth"
    settings.XERO_MAX_RETRIES = 3
    settings.XERO_TIMEOUT = 5.0
    return settings
