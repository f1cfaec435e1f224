"""Settings for the test suite: production's settings, with what tests need instead.

pytest uses this module (pyproject.toml); nothing else should.
"""

import os

# The base settings refuse to start without a SECRET_KEY or Xero credentials when DEBUG is
# off, and tests run with DEBUG off (Django's test runner forces it anyway). Tests say what
# they need through the same variables a deployment would, whatever the shell or .env holds:
# a throwaway key, and the Xero sandbox (fixtures point it at their own sandbox process).
os.environ.update(
    DEBUG="false",
    SECRET_KEY="test-only-key-never-used-outside-the-test-suite",
    XERO_USE_SANDBOX="true",
    XERO_CLIENT_ID="",
    XERO_CLIENT_SECRET="",
)

from .settings import *  # noqa: F403

# Tests create many users; a slow hash only slows them down.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# No collectstatic in tests: plain storage finds files in the source folders, and whitenoise
# serves them from there (the live server for browser tests would 404 the CSS otherwise).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True

# The test client and the live server speak plain HTTP.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
