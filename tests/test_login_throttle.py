"""Login throttling: repeated wrong passwords lock that username from that address."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # UserFactory's
LIMIT = 5  # AXES_FAILURE_LIMIT's default


def log_in(client: Client, username: str, password: str, path: str = "/login/", **extra):
    return client.post(path, {"username": username, "password": password}, **extra)


def fail(client: Client, username: str, times: int, path: str = "/login/", **extra):
    for _ in range(times):
        response = log_in(client, username, "wrong password", path, **extra)
    return response


def logged_in_as(client: Client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return get_user_model().objects.get(pk=user_id).username if user_id else None


def test_wrong_passwords_up_to_the_limit_only_say_the_password_is_wrong(client, accountant):
    response = fail(client, "alex", LIMIT - 1)
    assert response.status_code == 200
    assert "Your username and password didn't match" in response.text
    assert log_in(client, "alex", PASSWORD).status_code == 302  # in, at the last chance


def test_too_many_wrong_passwords_lock_the_login_and_say_what_to_do(client, accountant):
    response = fail(client, "alex", LIMIT)
    assert response.status_code == 429
    assert "Login locked" in response.text
    assert "Too many failed logins as <strong>alex</strong>" in response.text
    assert "paused for 15 minutes" in response.text
    assert "Ask an omni-xero admin to unlock you" in response.text
    assert 'href="/static/css/app.css"' in response.text  # the app's own page, not bare text


def test_a_locked_login_refuses_even_the_right_password(client, accountant):
    fail(client, "alex", LIMIT)
    response = log_in(client, "alex", PASSWORD)
    assert response.status_code == 429
    assert "Login locked" in response.text
    assert logged_in_as(client) is None


def test_the_lock_holds_one_username_from_one_address(client, accountant):
    UserFactory(username="sam")
    fail(client, "alex", LIMIT)
    # Someone else in the same office, and alex from elsewhere, are not locked out.
    assert log_in(Client(), "sam", PASSWORD).status_code == 302
    elsewhere = Client(REMOTE_ADDR="203.0.113.9")
    assert log_in(elsewhere, "alex", PASSWORD).status_code == 302


def test_failures_count_in_a_row(client, accountant):
    fail(client, "alex", LIMIT - 1)
    assert log_in(client, "alex", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    assert fail(client, "alex", LIMIT - 1).status_code == 200
    assert log_in(client, "alex", PASSWORD).status_code == 302


def test_the_lock_lifts_after_the_cool_off(client, accountant):
    fail(client, "alex", LIMIT)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert log_in(client, "alex", PASSWORD).status_code == 302
    assert logged_in_as(client) == "alex"


def test_the_admin_login_is_throttled_too(client, admin_user):
    response = fail(client, "ada", LIMIT, path="/admin/login/")
    assert response.status_code == 429
    assert "Login locked" in response.text
    assert log_in(client, "ada", PASSWORD, path="/admin/login/").status_code == 429


def test_an_admin_deleting_the_access_attempt_in_admin_unlocks(accountant, admin_client):
    locked = Client()
    fail(locked, "alex", LIMIT)
    changelist = admin_client.get(reverse("admin:axes_accessattempt_changelist"))
    assert changelist.status_code == 200
    assert "alex" in changelist.text
    attempt = AccessAttempt.objects.get(username="alex")
    delete = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert log_in(locked, "alex", PASSWORD).status_code == 302
    assert logged_in_as(locked) == "alex"


def test_axes_reset_unlocks_everyone(client, accountant):
    fail(client, "alex", LIMIT)
    call_command("axes_reset", verbosity=0)
    assert log_in(client, "alex", PASSWORD).status_code == 302


def test_without_a_cool_off_the_page_says_only_an_admin_can_unlock(client, accountant, settings):
    settings.AXES_COOLOFF_TIME = None
    response = fail(client, "alex", LIMIT)
    assert response.status_code == 429
    assert "stays paused until an admin unlocks it" in response.text
    assert "minutes" not in response.text


def test_a_forged_forwarded_for_header_does_not_dodge_the_lock(client, accountant):
    fail(client, "alex", LIMIT)
    response = log_in(client, "alex", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert response.status_code == 429


def test_behind_a_proxy_locks_hold_the_client_address_the_proxy_saw(client, accountant, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The proxy connects from 10.0.0.2 each time and appends the address it saw.
    office = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    assert fail(client, "alex", LIMIT, **office).status_code == 429
    forged = {**office, "HTTP_X_FORWARDED_FOR": "192.0.2.50, 198.51.100.1"}
    assert log_in(client, "alex", PASSWORD, **forged).status_code == 429
    home = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.20"}
    assert log_in(Client(), "alex", PASSWORD, **home).status_code == 302
