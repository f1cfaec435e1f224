"""Encryption at rest for Xero tokens (Fernet: AES-128-CBC with an HMAC)."""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


@cache
def _fernet(key_material: str) -> Fernet:
    # Any string becomes a valid 32-byte Fernet key; a purpose prefix keeps a key derived
    # from SECRET_KEY distinct from Django's own uses of it.
    digest = hashlib.sha256(b"omni-xero token encryption\0" + key_material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _key() -> str:
    return str(settings.XERO_TOKEN_KEY or settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    if not plaintext:
        return ""
    return _fernet(_key()).encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    """The plaintext, or "" when the value was encrypted with another key (reconnect needed)."""
    if not ciphertext:
        return ""
    try:
        return _fernet(_key()).decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        return ""
