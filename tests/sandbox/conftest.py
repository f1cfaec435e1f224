"""Sandbox tests: the sandbox plugin, and every answer checked against Xero's spec."""

from collections.abc import Iterator

import pytest

from tests.sandbox.spec import SpecChecker


def pytest_configure(config: pytest.Config) -> None:
    # The root conftest registers the plugin for the whole suite; until it does (or when
    # these tests run alone) register it here, once.
    if not config.pluginmanager.has_plugin("tests.plugins.sandbox"):
        config.pluginmanager.import_plugin("tests.plugins.sandbox")


@pytest.fixture(scope="session")
def spec_checker() -> SpecChecker:
    return SpecChecker.load()


@pytest.fixture(autouse=True)
def validate_against_spec(spec_checker: SpecChecker) -> Iterator[SpecChecker]:
    """Fail any test that receives an answer Xero's spec (or known error shapes) would not allow."""
    from tests.plugins import sandbox as plugin

    plugin.RESPONSE_HOOKS.append(spec_checker.check)
    try:
        yield spec_checker
    finally:
        plugin.RESPONSE_HOOKS.remove(spec_checker.check)
