"""Settings for omni-xero, read once from the environment (and `.env`, see `.env.example`).

With DEBUG off (production) they fail closed: no SECRET_KEY, or no real Xero credentials
without an explicit opt-in to the sandbox, stops the app at start-up with one sentence saying
why. Those two are refused here, at import, rather than in system checks: gunicorn's WSGI
application runs no system checks, so an error raised here is the only thing that stops it
booting (and shows the reason) instead of starting and answering every request with a 500.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

# Local state for `make run`: the SQLite database, demo logins, the sandbox's state file.
# Another folder keeps a second copy apart (the test of `make run` uses a temporary one).
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: with DEBUG off omni-xero needs a long random SECRET_KEY "
            "(see .env.example)."
        )
    SECRET_KEY = "insecure-local-key-set-SECRET_KEY-in-production"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "omni_xero.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "import_export",
    "contacts",
    "transactions",
    "sync",
    "axes",
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
    "sync.connections.middleware.NoRateLimitWaitsMiddleware",
    "omni_xero.bad_request.BadParameterMiddleware",
    # Last, as django-axes asks: it turns a lockout flagged further in into the lockout page.
    "axes.middleware.AxesMiddleware",
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
                "sync.dashboard.context_processors.xero_connection",
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
    # In WAL mode, synchronous=NORMAL syncs the log at checkpoints, not at every commit (a
    # power cut may lose the last commits, never corrupt the file): a sync commits its
    # quota and its outcomes several times a batch, and an fsync each costs milliseconds.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: a page's queries read a few thousand rows at most, and compiling
    # them (hundreds of ms once the planner guesses a big history) costs more than it saves.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First, as django-axes asks: a locked-out login is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "sync:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes), for the app's login page and the admin's alike. A lock
# holds one username from one IP address: by username alone, anyone could lock every
# accountant out by typing their names with wrong passwords; by address alone, one person's
# typos would lock out a whole office behind one NAT. Guessing one account's password from
# one address is what it stops.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
# 0: locked until an admin unlocks (Admin → Axes → Access attempts). A failure while locked
# restarts the wait.
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15)) or None
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Failures count in a row: a good login forgets earlier typos.
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "omni_xero.lockout.locked_out"
# Behind reverse proxies every request comes from the nearest proxy's address, which would
# make every lock a lock on the username alone: say how many proxies add X-Forwarded-For.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "omni_xero.lockout.client_ip"
# No start-up banner on every manage.py command (cron runs one every few minutes); failed
# logins and lockouts are still logged.
AXES_VERBOSE = False

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
            # The manifest exists only after collectstatic, which DEBUG skips.
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Serve static files straight from the source folders, as they change, without collectstatic.
WHITENOISE_AUTOREFRESH = DEBUG

# HTTPS: off under DEBUG (runserver speaks plain HTTP), on in production, each adjustable.
# Behind a proxy that terminates TLS, set SECURE_PROXY_SSL_HEADER to the header it sets
# (e.g. HTTP_X_FORWARDED_PROTO,https), or Django sees plain HTTP and redirects forever.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Xero follows no redirect: its webhook deliveries are answered where they arrive.
SECURE_REDIRECT_EXEMPT = [r"^webhooks/xero$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# One year: browsers that saw it refuse plain HTTP to this host for that long.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
# Covers the subdomains of omni-xero's own host name only, not its sibling sites.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    # Browser preload lists take a whole registered domain and are slow to leave: a choice
    # for the domain's owner, not a warning every deployment of this app should show.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
_proxy_ssl_header = env.tuple("SECURE_PROXY_SSL_HEADER", default=())
if _proxy_ssl_header:
    if len(_proxy_ssl_header) != 2:
        raise ImproperlyConfigured(
            f"SECURE_PROXY_SSL_HEADER is {','.join(_proxy_ssl_header)!r}: give the header "
            "and the value the proxy sends for HTTPS, e.g. HTTP_X_FORWARDED_PROTO,https."
        )
    SECURE_PROXY_SSL_HEADER = _proxy_ssl_header

# The currency an Omni transaction gets when its record names none.
DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="NZD")

# Xero: real Xero with XERO_CLIENT_ID and XERO_CLIENT_SECRET, else the project's own Xero
# sandbox, which `make run` starts at XERO_SANDBOX_URL (README). The sandbox needs opting into
# outside DEBUG, so production never quietly sends its data there with its published secret.
XERO_SANDBOX_URL = env.str("XERO_SANDBOX_URL", default="http://127.0.0.1:8010").rstrip("/")
_client_id = env.str("XERO_CLIENT_ID", default="")
_client_secret = env.str("XERO_CLIENT_SECRET", default="")
XERO_USE_SANDBOX = env.bool("XERO_USE_SANDBOX", default=DEBUG and not _client_id)
_credentials = {"XERO_CLIENT_ID": _client_id, "XERO_CLIENT_SECRET": _client_secret}
_missing = [name for name, value in _credentials.items() if not value]
if _missing and not XERO_USE_SANDBOX:
    raise ImproperlyConfigured(
        f"{' and '.join(_missing)} {'is' if len(_missing) == 1 else 'are'} not set: "
        "omni-xero needs the Xero app's credentials (https://developer.xero.com/app/manage), "
        "or XERO_USE_SANDBOX=true to use the Xero sandbox at XERO_SANDBOX_URL instead."
    )
XERO_CLIENT_ID = _client_id or "omni-xero-demo"
XERO_CLIENT_SECRET = _client_secret or ("sandbox-secret" if XERO_USE_SANDBOX else "")
XERO_LOGIN_URL = env.str(
    "XERO_LOGIN_URL", default=XERO_SANDBOX_URL if XERO_USE_SANDBOX else "https://login.xero.com"
).rstrip("/")
XERO_IDENTITY_URL = env.str(
    "XERO_IDENTITY_URL",
    default=XERO_SANDBOX_URL if XERO_USE_SANDBOX else "https://identity.xero.com",
).rstrip("/")
XERO_API_URL = env.str(
    "XERO_API_URL", default=XERO_SANDBOX_URL if XERO_USE_SANDBOX else "https://api.xero.com"
).rstrip("/")
# Empty: built from the request (…/accounting/xero/callback/). Must match the Xero app's.
XERO_REDIRECT_URI = env.str("XERO_REDIRECT_URI", default="")
# Apps created after 2 March 2026 use granular scopes; older apps may set
# "offline_access accounting.contacts accounting.transactions accounting.settings.read".
XERO_SCOPES = env.str(
    "XERO_SCOPES",
    default=(
        "offline_access accounting.contacts accounting.invoices accounting.payments "
        "accounting.settings.read"
    ),
).split()
# "oauth" (authorization code, an accountant picks the organisation) or "custom"
# (a Xero custom connection: client credentials, one organisation, no tenant header).
XERO_CONNECTION_KIND = env.str("XERO_CONNECTION_KIND", default="oauth")
# Tokens are encrypted at rest with this key (any long random string). Without one, a key
# derived from SECRET_KEY is used, so rotating SECRET_KEY then means reconnecting to Xero.
XERO_TOKEN_KEY = env.str("XERO_TOKEN_KEY", default="")
# The webhook key of the Xero app (its developer portal, Webhooks): deliveries to
# /webhooks/xero are verified with it; without one, every delivery is refused (401).
XERO_WEBHOOK_KEY = env.str("XERO_WEBHOOK_KEY", default="")
# Seconds before a call to Xero gives up; how many times a transient failure is retried.
XERO_TIMEOUT = env.float("XERO_TIMEOUT", default=30.0)
XERO_MAX_RETRIES = env.int("XERO_MAX_RETRIES", default=3)
# The longest wait for a rate limit that a retry sits out; longer waits fail with the wait.
XERO_MAX_RETRY_WAIT = env.float("XERO_MAX_RETRY_WAIT", default=60.0)
# Xero's per-minute call limit per organisation and the window it counts in: a sync paces
# itself on them (the window is shorter only against a sandbox with scaled limits).
XERO_MINUTE_LIMIT = env.int("XERO_MINUTE_LIMIT", default=60)
XERO_RATE_WINDOW_SECONDS = env.float("XERO_RATE_WINDOW_SECONDS", default=60.0)
# Xero's other limits: calls in flight at once per organisation, and the app's calls a
# minute across all organisations (counted in the same window).
XERO_CONCURRENT_LIMIT = env.int("XERO_CONCURRENT_LIMIT", default=5)
XERO_APP_MINUTE_LIMIT = env.int("XERO_APP_MINUTE_LIMIT", default=10_000)
# The dashboard's whole-history counts (link counts, ready and blocked, the Errors badge) are
# counted again at most this often while nothing is linked, unlinked, skipped or moved
# (those count them again at once): a page reads them kept, in one query (sync.dashboard.counts).
DASHBOARD_COUNTS_SECONDS = env.float("DASHBOARD_COUNTS_SECONDS", default=10.0)
# How often the local mirror of Xero contacts is refreshed while the app runs; while Xero's
# webhooks are healthy (sync.webhooks.health), only this often, as a safety net: 60 minutes
# is 24 calls a day, 2.4% of a Starter plan's 1,000 (every 5 minutes is 288, 29%).
XERO_MIRROR_REFRESH_MINUTES = env.int("XERO_MIRROR_REFRESH_MINUTES", default=5)
XERO_MIRROR_REFRESH_MINUTES_WITH_WEBHOOKS = env.int(
    "XERO_MIRROR_REFRESH_MINUTES_WITH_WEBHOOKS", default=60
)

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# The address people open omni-xero at: links in emails (such as a failed automatic sync's,
# sent to the superusers with an email address and to ADMINS) point there.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
ADMINS = env.list("ADMINS", default=[])
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="omni-xero <omni-xero@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Development prints emails on the console; production sends them through EMAIL_HOST.
_email_backend = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS: dict[str, dict[str, Any]] = {"default": {"BACKEND": _email_backend}}
if _email_backend.endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": env.str("EMAIL_HOST", default="localhost"),
        "port": env.int("EMAIL_PORT", default=25),
        "username": env.str("EMAIL_HOST_USER", default=""),
        "password": env.str("EMAIL_HOST_PASSWORD", default=""),
        "use_tls": env.bool("EMAIL_USE_TLS", default=False),
    }

# --- Health, metrics and logs (README, "Health and metrics") ---------------------------------
# Every request gets an ID (X-Request-ID), first, so that every later middleware's log
# lines carry it.
MIDDLEWARE.insert(0, "omni_xero.logs.RequestIdMiddleware")
# First of all (before the request ID): it times every other middleware and the view.
MIDDLEWARE.insert(0, "sync.monitoring.requests.RequestMetricsMiddleware")
# Load balancers and Prometheus probe the node itself, over plain HTTP.
SECURE_REDIRECT_EXEMPT += [r"^health/", r"^metrics$"]
# /metrics answers a bearer token when one is set; without one, internal addresses only.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# "json": one JSON object a line (time, level, logger, message, request_id, exc_info);
# "text": for people reading a terminal.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT is {LOG_FORMAT!r}: it is json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "omni_xero.logs.RequestIdFilter"},
        "heartbeat_quiet": {"()": "omni_xero.logs.HeartbeatQuiet"},
    },
    "formatters": {
        "json": {"()": "omni_xero.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "heartbeat_quiet"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own loggers go to this handler alone: Django's default console handler (with
    # DEBUG on) would print each of their lines a second time, unformatted.
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
