"""What every bench does first: a throwaway database and Django, then a connection to a
fresh Xero sandbox made through omni-xero's own connect code."""

import os
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REDIRECT_URI = "http://127.0.0.1:8000/accounting/xero/callback/"


def django_setup(prefix: str, database_url: str = "") -> Path:
    """Set Django up on `database_url` (empty: a new SQLite file) with the database migrated,
    and return the bench's scratch folder."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["VAR_DIR"] = str(folder)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omni_xero.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("XERO_USE_SANDBOX", "true")  # the bench points it at its own sandbox
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if database_url:
        call_command("flush", interactive=False, verbosity=0)
    return folder


def sandbox_connect(url: str) -> tuple[Any, Any]:
    """omni-xero connected to the sandbox at `url`: (the sandbox's control, the connection)."""
    from django.conf import settings

    from sync.connections.services import connection_connect, consent_complete
    from tests.plugins.sandbox import SandboxControl, pkce_pair

    control = SandboxControl(url)
    control.register_redirect_uri(REDIRECT_URI)  # the sandbox sends consent back only there
    settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET = control.client_id, control.client_secret
    settings.XERO_LOGIN_URL = settings.XERO_IDENTITY_URL = settings.XERO_API_URL = url
    verifier, challenge = pkce_pair()
    location = control.authorize(redirect_uri=REDIRECT_URI, code_challenge=challenge)
    code = parse_qs(urlsplit(location).query)["code"][0]
    granted = consent_complete(code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)
    connection = connection_connect(tokens=granted.tokens, tenant=granted.tenants[0], user=None)
    return control, connection


def sales_invoices(rows: list[tuple[Any, str]], *, branch: str | list[str] = "") -> list[Any]:
    """Sales invoices ready to sync, one line each: (Omni contact, number) per invoice, all
    of one Omni branch (or, given a list, each of its own)."""
    from datetime import date, timedelta
    from decimal import Decimal

    from transactions.models import LineItem, Transaction, TransactionType

    today = date.today()
    txns = Transaction.objects.bulk_create(
        Transaction(
            contact=contact,
            type=TransactionType.SALES_INVOICE,
            number=number,
            branch=branch if isinstance(branch, str) else branch[n],
            date=today - timedelta(days=n % 30),
            due_date=today + timedelta(days=20),
        )
        for n, (contact, number) in enumerate(rows)
    )
    LineItem.objects.bulk_create(
        LineItem(
            transaction=t,
            description="Manuka honey 500g",
            quantity=Decimal(1 + n % 5),
            unit_price=Decimal("24.50"),
            account_code="200",
            tax_type="OUTPUT2",
        )
        for n, t in enumerate(txns)
    )
    return txns
