"""System checks on the Xero settings: a wrong value fails by name."""

from sync.checks import xero_settings_check


def ids(settings) -> list[str | None]:
    return [problem.id for problem in xero_settings_check(None)]


def test_the_default_settings_pass(settings):
    assert ids(settings) == []


def test_an_unknown_connection_kind_is_an_error(settings):
    settings.XERO_CONNECTION_KIND = "oauth2"
    assert ids(settings) == ["sync.E001"]


def test_a_client_id_without_secret_is_an_error(settings):
    settings.XERO_CLIENT_SECRET = ""
    assert ids(settings) == ["sync.E002"]


def test_no_offline_access_warns(settings):
    settings.XERO_SCOPES = ["accounting.contacts", "accounting.invoices"]
    assert ids(settings) == ["sync.W001"]
