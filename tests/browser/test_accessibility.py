"""axe-core (pinned in package-lock.json) on every page of the app, with the demo data: no
serious or critical violation (contrast, names, labels, landmarks...) on any of them."""

import pytest
from playwright.sync_api import expect

from tests.browser import tour
from tests.browser.conftest import serious

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def described(found: dict[str, list[dict]]) -> str:
    lines = []
    for name, violations in found.items():
        for v in violations:
            lines.append(f"{name}: {v['impact']} {v['id']} ({v['help']}) x{v['nodes']}")
            lines.extend(f"    {target}" for target in v["targets"])
    return "\n".join(lines)


def test_no_page_has_a_serious_or_critical_accessibility_violation(
    login, admin_user, accountant, page, live_server, axe
):
    data = tour.books()
    found: dict[str, list[dict]] = {}

    def check(stops):
        for stop in stops:
            page.goto(f"{live_server.url}{stop.path}")
            page.wait_for_load_state("networkidle")
            found[stop.name] = axe()

    check(tour.LOGGED_OUT_STOPS)
    login(admin_user)
    check(tour.stops(page, live_server.url, data))
    # The unlink dialog, opened from the Customers subtab.
    page.goto(f"{live_server.url}{tour.XERO}/sales/customers/?show=all")
    page.wait_for_function("window.htmx !== undefined && document.readyState === 'complete'")
    page.get_by_role("checkbox", name="Select Tui Books").check()
    page.get_by_role("button", name="Unlink", exact=True).click()
    expect(page.get_by_role("dialog")).to_be_visible()
    found["unlink-dialog"] = axe()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Log out").click()
    login(accountant)
    check(tour.ACCOUNTANT_STOPS)

    print("\naxe-core violations per page (all impacts):")
    for name, violations in found.items():
        rules = ", ".join(f"{v['id']} ({v['impact']}, {v['nodes']})" for v in violations)
        print(f"  {name}: {len(serious(violations))} serious or critical; {rules or 'none'}")
    bad = {name: serious(violations) for name, violations in found.items() if serious(violations)}
    assert not bad, "serious or critical accessibility violations:\n" + described(bad)
