"""Settings for omni-xero, read once from the environment (and `.env`, see `.env.example`)."""

import sys
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

# Local state for `make run`: the SQLite database, demo logins, the sandbox's state file.
# Another folder keeps a second copy apart (the test of `make run` uses a temporary one).
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
TESTING = "pytest" in sys.modules
# Without a SECRET_KEY only local development (DEBUG) and tests run; production must set one,
# or Django refuses to start with "The SECRET_KEY setting must not be empty".
SECRET_KEY = env.str("SECRET_KEY", default="") or (
    "insecure-local-key-set-SECRET_KEY-in-production" if DEBUG or TESTING else ""
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "contacts",
    "transactions",
    "sync",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "omni_xero.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sync.context_processors.xero_connection",
            ],
        },
    },
]

WSGI_APPLICATION = "omni_xero.wsgi.application"

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'omni-xero.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Several processes (web server, task worker) share the file: wait for locks, don't fail.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Tests create many users; a slow hash only slows them down.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "sync:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-nz"
TIME_ZONE = env.str("TIME_ZONE", default="Pacific/Auckland")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            # The manifest exists only after collectstatic, which tests and DEBUG skip.
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Serve static files straight from the source folders, as they change, without collectstatic.
WHITENOISE_AUTOREFRESH = DEBUG or TESTING

# The currency an Omni transaction gets when its record names none.
DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="NZD")

# Xero. With no XERO_CLIENT_ID, everything points at the project's own Xero sandbox, which
# `make run` starts at XERO_SANDBOX_URL; set the XERO_* variables to use real Xero (README).
XERO_SANDBOX_URL = env.str("XERO_SANDBOX_URL", default="http://127.0.0.1:8010").rstrip("/")
_USE_SANDBOX = not env.str("XERO_CLIENT_ID", default="")
XERO_CLIENT_ID = env.str("XERO_CLIENT_ID", default="") or "omni-xero-demo"
XERO_CLIENT_SECRET = env.str("XERO_CLIENT_SECRET", default="") or (
    "sandbox-secret" if _USE_SANDBOX else ""
)
XERO_LOGIN_URL = env.str(
    "XERO_LOGIN_URL", default=XERO_SANDBOX_URL if _USE_SANDBOX else "https://login.xero.com"
).rstrip("/")
XERO_IDENTITY_URL = env.str(
    "XERO_IDENTITY_URL",
    default=XERO_SANDBOX_URL if _USE_SANDBOX else "https://identity.xero.com",
).rstrip("/")
XERO_API_URL = env.str(
    "XERO_API_URL", default=XERO_SANDBOX_URL if _USE_SANDBOX else "https://api.xero.com"
).rstrip("/")
# Empty: built from the request (…/accounting/xero/callback/). Must match the Xero app's.
XERO_REDIRECT_URI = env.str("XERO_REDIRECT_URI", default="")
# Apps created after 2 March 2026 use granular scopes; older apps may set
# "offline_access accounting.contacts accounting.transactions accounting.settings.read".
XERO_SCOPES = env.str(
    "XERO_SCOPES",
    default="offline_access accounting.contacts accounting.invoices accounting.settings.read",
).split()
# "oauth" (authorization code, an accountant picks the organisation) or "custom"
# (a Xero custom connection: client credentials, one organisation, no tenant header).
XERO_CONNECTION_KIND = env.str("XERO_CONNECTION_KIND", default="oauth")
# Tokens are encrypted at rest with this key (any long random string). Without one, a key
# derived from SECRET_KEY is used, so rotating SECRET_KEY then means reconnecting to Xero.
XERO_TOKEN_KEY = env.str("XERO_TOKEN_KEY", default="")
# Seconds before a call to Xero gives up; how many times a transient failure is retried.
XERO_TIMEOUT = env.float("XERO_TIMEOUT", default=30.0)
XERO_MAX_RETRIES = env.int("XERO_MAX_RETRIES", default=3)
# The longest wait for a rate limit that a retry sits out; longer waits fail with the wait.
XERO_MAX_RETRY_WAIT = env.float("XERO_MAX_RETRY_WAIT", default=60.0)
# How often the local mirror of Xero contacts is refreshed while the app runs.
XERO_MIRROR_REFRESH_MINUTES = env.int("XERO_MIRROR_REFRESH_MINUTES", default=5)

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
