"""Project-level checks: migrations, system checks, demo data, the Python finder."""

import os
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from contacts.models import Contact
from transactions.models import Transaction

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_no_pending_migrations():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_system_checks_pass():
    call_command("check", fail_level="WARNING")


@pytest.mark.django_db
def test_demo_data_loads_once(tmp_path, settings, monkeypatch):
    monkeypatch.setattr("sync.demo.LOGINS_FILE", tmp_path / "logins.json")
    call_command("load_demo_data", stdout=StringIO())
    users = get_user_model().objects
    assert users.get(username="admin").is_superuser
    assert users.get(username="accountant").groups.filter(name="Accountants").exists()
    assert 38 <= Contact.objects.customers().count() <= 45
    assert 22 <= Contact.objects.suppliers().count() <= 28
    with_txns = Contact.objects.filter(transactions__isnull=False).distinct().count()
    assert 0 < with_txns < Contact.objects.count()  # some have none
    assert Transaction.objects.ready_to_sync().exists()
    assert (tmp_path / "logins.json").exists()
    counts = Contact.objects.count(), Transaction.objects.count()
    out = StringIO()
    call_command("load_demo_data", stdout=out)
    assert "already loaded" in out.getvalue()
    assert (Contact.objects.count(), Transaction.objects.count()) == counts


@pytest.mark.django_db
def test_make_serve_never_loads_the_demo_superuser_into_a_database_in_use(tmp_path, monkeypatch):
    monkeypatch.setattr("sync.demo.LOGINS_FILE", tmp_path / "logins.json")
    get_user_model().objects.create_user("someone-real")
    out = StringIO()
    call_command("load_demo_data", "--if-empty", stdout=out)
    assert "no demo data" in out.getvalue()
    assert not get_user_model().objects.filter(username="admin").exists()
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_make_serve_loads_the_demo_data_into_an_empty_database(tmp_path, monkeypatch):
    monkeypatch.setattr("sync.demo.LOGINS_FILE", tmp_path / "logins.json")
    call_command("load_demo_data", "--if-empty", stdout=StringIO())
    assert get_user_model().objects.filter(username="admin").exists()
    assert (tmp_path / "logins.json").exists()


def test_find_python_reports_a_missing_python_in_one_sentence():
    env = {**os.environ, "PYTHON": "/nonexistent/python3"}
    result = subprocess.run(
        [ROOT / "scripts" / "find-python"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "not a working Python 3.12 or newer" in result.stderr


def test_find_python_finds_a_new_enough_python():
    env = {k: v for k, v in os.environ.items() if k != "PYTHON"}
    result = subprocess.run(
        [ROOT / "scripts" / "find-python"], env=env, capture_output=True, text=True, check=True
    )
    version = subprocess.run(
        [result.stdout.strip(), "-c", "import sys; print(sys.version_info >= (3, 12))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "True"
