"""What the payments tests share: an organisation that takes payments."""

import pytest

from sync.models import SyncSettings

BANK = "090"  # the sandbox's Business Bank Account


@pytest.fixture
def paying(connection):
    """The organisation creates approved documents and takes payments into its bank."""
    SyncSettings.objects.update_or_create(
        connection=connection,
        defaults={"document_status": "AUTHORISED", "payment_account_code": BANK},
    )
    return connection
