"""OMS settings, read from the environment.

With no environment at all OMS runs embedded: a SQLite file in the project folder and
an embedded Celery broker, message files under var/broker (oms.embedded_broker), so
tasks are sent to a worker and scheduled by beat as in production, with no server to
install (`make run` starts the worker and beat). Setting DATABASE_URL and
CELERY_BROKER_URL (or REDIS_URL) switches to PostgreSQL and Redis. DEBUG is off unless
asked for, and then SECRET_KEY must be given.
"""

import datetime
import json
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    """The variable's value; unset and empty both mean the default."""
    return os.environ.get(name) or default


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def env_json(name: str, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return json.loads(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be JSON: {exc}") from exc


# --- Core -------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. For local work set DEBUG=true "
            "(the Makefile does); in production set a long random SECRET_KEY."
        )
    SECRET_KEY = "django-insecure-oms-local-development-key-not-for-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Trigram index expressions (oms.text_search); nothing of it runs on SQLite.
    "django.contrib.postgres",
    "simple_history",
    "django_htmx",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "oms",
    "catalog",
    "orders",
    "warehouse",
    "allocation",
    "oms.shell",
]

MIDDLEWARE = [
    # Outermost, so that every answer is marked, refusals by middleware included.
    "oms.middleware.NoStoreMiddleware",
    # /healthz and /readyz answer before anything else (oms.health)
    "oms.health.HealthCheckMiddleware",
    "oms.api.middleware.PlainHttpCredentialsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "oms.middleware.CorrelationIdMiddleware",
    "oms.api.middleware.ApiProblemMiddleware",
    "oms.middleware.DatabaseOutageMiddleware",
    "oms.middleware.BadTextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "oms.middleware.ActorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "oms.shell.urls"
WSGI_APPLICATION = "oms.wsgi.application"

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
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'oms.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# A database that does not answer fails a request within this many seconds (503, see
# oms.outages) instead of holding it until the web server's timeout.
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default, written by the web process, the worker and beat at once:
    # readers do not block the writer (WAL), and a writer waits up to 20 s for the write
    # lock, taken when its transaction begins, instead of failing ("database is locked").
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Counts failed sign-ins and refuses a locked-out user or address (django-axes).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- I18n, static -----------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Email ------------------------------------------------------------------------------

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "oms@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security (production) --------------------------------------------------------------

SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front of OMS append to X-Forwarded-For: the client's address is
# the one the outermost of them saw. 0: REMOTE_ADDR (nothing a client sends is trusted).
OMS_PROXY_COUNT = max(env_int("OMS_PROXY_COUNT", 0), 0)

# Sign-in lockout (django-axes, counted in the database): after OMS_LOGIN_FAILURE_LIMIT
# failed sign-ins for one user name, or from one address, both are refused for
# OMS_LOGIN_LOCKOUT_MINUTES, even with the right password.
OMS_LOGIN_FAILURE_LIMIT = max(env_int("OMS_LOGIN_FAILURE_LIMIT", 5), 1)
OMS_LOGIN_LOCKOUT_MINUTES = max(env_int("OMS_LOGIN_LOCKOUT_MINUTES", 15), 1)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = OMS_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = datetime.timedelta(minutes=OMS_LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The time the lockout page gives holds: tries during a lockout do not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A successful sign-in clears no failures: otherwise anyone with an account could clear
# the count of their address between guesses at another user's password.
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "oms.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "oms.lockout.locked_out"
AXES_VERBOSE = False  # no banner at every start; failures and lockouts are still logged

# Content-Security-Policy (django-csp): scripts and styles from OMS's own static files
# only, nothing inline; no framing, no plugins, forms post back to OMS only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}
# Permissions-Policy (django-permissions-policy): no page of OMS uses these features.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# --- Celery -----------------------------------------------------------------------------

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or env_str("REDIS_URL")
# Without a broker URL OMS uses the embedded broker: message files in OMS_BROKER_DIR,
# shared by the web process, the worker and beat of one machine (oms.embedded_broker),
# where beat also keeps its schedule file. Tasks are sent, never run in the sender.
OMS_EMBEDDED_BROKER = not CELERY_BROKER_URL
OMS_BROKER_DIR = Path(env_str("OMS_BROKER_DIR", str(BASE_DIR / "var" / "broker")))
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis (cache and broker) that does not answer is given up on after this many seconds
# (connect and read), and not tried again by the same process for OMS_REDIS_RETRY_SECONDS:
# a request never waits long on it (see oms.cache and oms.broker).
OMS_REDIS_TIMEOUT_SECONDS = env_float("OMS_REDIS_TIMEOUT_SECONDS", 1.0)
OMS_REDIS_RETRY_SECONDS = env_float("OMS_REDIS_RETRY_SECONDS", 2.0)
CELERY_BROKER_CONNECTION_TIMEOUT = OMS_REDIS_TIMEOUT_SECONDS
# A task a dead worker had taken is given to another worker after visibility_timeout
# seconds (Redis); longer than any task and any retry countdown.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": OMS_REDIS_TIMEOUT_SECONDS,
    **env_json("CELERY_BROKER_TRANSPORT_OPTIONS", {}),
}
if OMS_EMBEDDED_BROKER:
    from oms.embedded_broker import transport_options as _embedded_options

    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT = "oms.embedded_broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **_embedded_options(OMS_BROKER_DIR),
        **env_json("CELERY_BROKER_TRANSPORT_OPTIONS", {}),
    }
    CELERY_BEAT_SCHEDULE_FILENAME = str(OMS_BROKER_DIR / "beat-schedule")
    OMS_BROKER_DIR.mkdir(parents=True, exist_ok=True)
CELERY_BEAT_SCHEDULE: dict = {
    "prune-idempotency-keys": {"task": "oms.tasks.prune_idempotency_keys", "schedule": 3600.0},
}

# --- Cache (throttling) -----------------------------------------------------------------

# Shared through Redis when REDIS_URL is set; while Redis cannot be reached it acts as an
# empty cache (throttles let requests through) and logs the outage (oms.cache).
CACHES = {
    "default": (
        {
            "BACKEND": "oms.cache.FailOpenRedisCache",
            "LOCATION": env_str("REDIS_URL"),
            "OPTIONS": {
                "socket_connect_timeout": OMS_REDIS_TIMEOUT_SECONDS,
                "socket_timeout": OMS_REDIS_TIMEOUT_SECONDS,
            },
        }
        if env_str("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Logging ----------------------------------------------------------------------------

LOG_FORMAT = env_str("LOG_FORMAT", "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "oms.logs.ContextFilter"}},
    "formatters": {
        "json": {"()": "oms.logs.JsonFormatter"},
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s %(actor)s] "
            "%(message)s"
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "text" if LOG_FORMAT == "text" else "json",
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Django's own loggers go through the same handler (and nowhere else).
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

# --- OMS options ------------------------------------------------------------------------

# When on, the person who last edited an order's lines cannot approve it.
OMS_FOUR_EYES = env_bool("OMS_FOUR_EYES", False)
# Milestones that gate work per order type: "create" must be reached before an order is
# made; before "release" is reached the order is gated (cannot be allocated).
OMS_ORDER_GATES = env_json(
    "OMS_ORDER_GATES",
    {
        "site_build": {"create": "site_acquired_on", "release": "notice_to_proceed_on"},
        "radio": {"create": "design_complete_on", "release": "construction_start_on"},
        "transmission": {"create": "design_complete_on", "release": "permits_approved_on"},
        "power": {"create": "site_acquired_on", "release": "permits_approved_on"},
    },
)
# Orders in jeopardy: longer than this many days in a status, or needed within
# OMS_NEED_BY_RISK_DAYS and not yet released.
OMS_STATUS_LIMIT_DAYS = env_json(
    "OMS_STATUS_LIMIT_DAYS", {"draft": 5, "approved": 3, "allocated": 2, "released": 10}
)
OMS_NEED_BY_RISK_DAYS = env_int("OMS_NEED_BY_RISK_DAYS", 7)
# Live updates: the order page and the queue ask every OMS_LIVE_POLL_SECONDS whether
# anything changed (an unchanged answer is a 304 after one small query), slowing down to
# OMS_LIVE_POLL_MAX_SECONDS while nothing changes and nobody touches the page; a hidden
# tab does not ask at all.
OMS_LIVE_POLL_SECONDS = min(max(env_float("OMS_LIVE_POLL_SECONDS", 5.0), 0.2), 300.0)
OMS_LIVE_POLL_MAX_SECONDS = max(env_float("OMS_LIVE_POLL_MAX_SECONDS", 30.0), OMS_LIVE_POLL_SECONDS)
# Who is mailed about job runs, and when: "all" (start, end, failure) or "failures".
OMS_OPS_EMAILS = env_list("OMS_OPS_EMAILS")
OMS_OPS_EMAIL_MODE = env_str("OMS_OPS_EMAIL_MODE", "all")
if OMS_OPS_EMAIL_MODE not in {"all", "failures"}:
    raise ImproperlyConfigured('OMS_OPS_EMAIL_MODE must be "all" or "failures".')
# The drop folder for planning files: incoming/, processed/ and failed/ under it. Beat
# scans incoming/ every OMS_IMPORT_SCAN_SECONDS.
OMS_IMPORT_DIR = Path(env_str("OMS_IMPORT_DIR", str(BASE_DIR / "var" / "import")))
OMS_IMPORT_SCAN_SECONDS = env_int("OMS_IMPORT_SCAN_SECONDS", 60)
# A planning file with more rows, or more data once decompressed, is refused whole.
OMS_IMPORT_MAX_ROWS = env_int("OMS_IMPORT_MAX_ROWS", 500_000)
OMS_IMPORT_MAX_BYTES = env_int("OMS_IMPORT_MAX_BYTES", 128 * 1024 * 1024)
CELERY_BEAT_SCHEDULE["scan-import-dir"] = {
    "task": "orders.tasks.scan_import_dir",
    "schedule": float(OMS_IMPORT_SCAN_SECONDS),
}
# Design events are processed by a task sent when they are received; those still waiting
# this many seconds later (the broker was down, or lost the task) are sent again by beat.
OMS_DESIGN_EVENT_SWEEP_SECONDS = env_int("OMS_DESIGN_EVENT_SWEEP_SECONDS", 60)
CELERY_BEAT_SCHEDULE["process-waiting-design-events"] = {
    "task": "orders.tasks.process_waiting_design_events",
    "schedule": float(OMS_DESIGN_EVENT_SWEEP_SECONDS),
}
# Planning files uploaded in the back office whose import never started (broker down).
CELERY_BEAT_SCHEDULE["send-waiting-uploads"] = {
    "task": "orders.tasks.send_waiting_uploads",
    "schedule": 60.0,
}
# The nightly ledger check (`manage.py reconcile_stock` as a job run), at this local time.
OMS_RECONCILE_STOCK_AT = env_str("OMS_RECONCILE_STOCK_AT", "02:30")
try:
    _hour, _minute = (int(part) for part in OMS_RECONCILE_STOCK_AT.split(":"))
    if not (0 <= _hour < 24 and 0 <= _minute < 60):
        raise ValueError
except ValueError as exc:
    raise ImproperlyConfigured("OMS_RECONCILE_STOCK_AT must be a time like 02:30.") from exc
CELERY_BEAT_SCHEDULE["reconcile-stock"] = {
    "task": "warehouse.tasks.reconcile_stock",
    "schedule": crontab(hour=_hour, minute=_minute),
}

# Webhooks: a delivery that fails for a reason a retry can fix (connection error,
# timeout, 5xx, 429) is tried again after OMS_WEBHOOK_RETRY_BASE_SECONDS, doubling up to
# OMS_WEBHOOK_RETRY_MAX_SECONDS (with jitter), until OMS_WEBHOOK_MAX_AGE_HOURS have passed
# since its first attempt; then it is marked failed.
OMS_WEBHOOK_TIMEOUT_SECONDS = env_float("OMS_WEBHOOK_TIMEOUT_SECONDS", 10.0)
OMS_WEBHOOK_MAX_AGE_HOURS = env_float("OMS_WEBHOOK_MAX_AGE_HOURS", 24.0)
OMS_WEBHOOK_RETRY_BASE_SECONDS = env_float("OMS_WEBHOOK_RETRY_BASE_SECONDS", 30.0)
OMS_WEBHOOK_RETRY_MAX_SECONDS = env_float("OMS_WEBHOOK_RETRY_MAX_SECONDS", 3600.0)
# Beat sends deliveries that are due and have no task waiting (a lost task, a worker that
# died mid-delivery, a subscription switched on again).
CELERY_BEAT_SCHEDULE["send-due-webhooks"] = {
    "task": "oms.tasks.send_due_webhooks",
    "schedule": 60.0,
}

# Allocation runs: split an order across the warehouses serving its market (off: all of
# an order from one warehouse); beat starts a run every OMS_ALLOCATION_INTERVAL_SECONDS
# (0: never); a run follows OMS_ALLOCATION_AFTER_STOCK_SECONDS after stock arrives (0:
# never).
OMS_ALLOCATION_SPLIT = env_bool("OMS_ALLOCATION_SPLIT", False)
OMS_ALLOCATION_INTERVAL_SECONDS = env_int("OMS_ALLOCATION_INTERVAL_SECONDS", 900)
OMS_ALLOCATION_AFTER_STOCK_SECONDS = env_int("OMS_ALLOCATION_AFTER_STOCK_SECONDS", 60)
# A run writes its plan in short transactions of about this many seconds each (commit
# included): the longest a cancellation, receipt or adjustment waits for a run.
OMS_ALLOCATION_CHUNK_SECONDS = env_float("OMS_ALLOCATION_CHUNK_SECONDS", 0.15)
# Each run records the outcome of every approved order; after this many days a daily
# beat task removes those of older runs (the runs and their counts stay).
OMS_ALLOCATION_KEEP_DAYS = env_int("OMS_ALLOCATION_KEEP_DAYS", 14)
CELERY_BEAT_SCHEDULE["send-waiting-allocation-runs"] = {
    "task": "allocation.tasks.send_waiting_allocation_runs",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["prune-allocation-outcomes"] = {
    "task": "allocation.tasks.prune_allocation_outcomes",
    "schedule": 86400.0,
}
if OMS_ALLOCATION_INTERVAL_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["allocation-run"] = {
        "task": "allocation.tasks.scheduled_allocation_run",
        "schedule": float(OMS_ALLOCATION_INTERVAL_SECONDS),
    }

# --- Outbox relay and the warehouse --------------------------------------------------

# Beat runs the outbox relay this often; a commit that wrote events also starts it at
# once (OMS_RELAY_KICK), so the interval only bounds the delay after a lost start.
OMS_RELAY_INTERVAL_SECONDS = env_int("OMS_RELAY_INTERVAL_SECONDS", 5)
OMS_RELAY_BATCH_SIZE = env_int("OMS_RELAY_BATCH_SIZE", 100)
OMS_RELAY_KICK = env_bool("OMS_RELAY_KICK", True)
CELERY_BEAT_SCHEDULE["relay-outbox"] = {
    "task": "oms.tasks.relay_outbox",
    "schedule": float(OMS_RELAY_INTERVAL_SECONDS),
    "options": {"expires": float(OMS_RELAY_INTERVAL_SECONDS)},
}
# The warehouse system's release endpoint (a warehouse may override it), and the
# bearer token OMS sends to it. In DEBUG the default is the simulator of `make run`.
OMS_WAREHOUSE_URL = env_str("OMS_WAREHOUSE_URL", "http://127.0.0.1:8010" if DEBUG else "")
OMS_WAREHOUSE_TOKEN = env_str("OMS_WAREHOUSE_TOKEN")
OMS_WAREHOUSE_CONNECT_TIMEOUT_SECONDS = env_float("OMS_WAREHOUSE_CONNECT_TIMEOUT_SECONDS", 3.0)
OMS_WAREHOUSE_TIMEOUT_SECONDS = env_float("OMS_WAREHOUSE_TIMEOUT_SECONDS", 10.0)
# Transient failures are retried with exponential backoff and jitter, from
# RETRY_BASE up to RETRY_MAX seconds between attempts, at most MAX_ATTEMPTS calls.
OMS_WAREHOUSE_MAX_ATTEMPTS = env_int("OMS_WAREHOUSE_MAX_ATTEMPTS", 20)
OMS_WAREHOUSE_RETRY_BASE_SECONDS = env_float("OMS_WAREHOUSE_RETRY_BASE_SECONDS", 2.0)
OMS_WAREHOUSE_RETRY_MAX_SECONDS = env_float("OMS_WAREHOUSE_RETRY_MAX_SECONDS", 300.0)
# The circuit breaker of a warehouse opens after this many failures in a row, and lets
# one probe through after the cool-down.
OMS_WAREHOUSE_BREAKER_FAILURES = env_int("OMS_WAREHOUSE_BREAKER_FAILURES", 5)
OMS_WAREHOUSE_BREAKER_COOLDOWN_SECONDS = env_float("OMS_WAREHOUSE_BREAKER_COOLDOWN_SECONDS", 30.0)
# Beat sends again a release that no task has tried for this long (a lost task).
OMS_WAREHOUSE_RESEND_AFTER_MINUTES = env_int("OMS_WAREHOUSE_RESEND_AFTER_MINUTES", 15)
CELERY_BEAT_SCHEDULE["resend-stalled-releases"] = {
    "task": "warehouse.tasks.resend_stalled_releases",
    "schedule": 300.0,
}
# A release the warehouse acknowledged and has not answered (accepted, rejected or
# completed) for ANSWER_AFTER minutes is asked about again, as often as MAX_ASKS times
# (ANSWER_AFTER minutes apart); after the last ask goes unanswered as long, it is listed
# for a person on the dashboard.
OMS_WAREHOUSE_ANSWER_AFTER_MINUTES = env_int("OMS_WAREHOUSE_ANSWER_AFTER_MINUTES", 240)
OMS_WAREHOUSE_MAX_ASKS = max(env_int("OMS_WAREHOUSE_MAX_ASKS", 3), 1)
CELERY_BEAT_SCHEDULE["ask-unanswered-releases"] = {
    "task": "warehouse.tasks.ask_unanswered_releases",
    "schedule": 300.0,
}

# --- Audit ------------------------------------------------------------------------------

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Outages and health ----------------------------------------------------------------

# While the database cannot be reached requests answer 503 with this Retry-After.
OMS_OUTAGE_RETRY_SECONDS = env_int("OMS_OUTAGE_RETRY_SECONDS", 15)
# /readyz answers 503 when the oldest outbox event not yet relayed is older than this
# (0: the relay is not checked).
OMS_READY_MAX_RELAY_LAG_SECONDS = env_int("OMS_READY_MAX_RELAY_LAG_SECONDS", 300)
# Seconds /readyz waits for the broker to answer.
OMS_READY_BROKER_TIMEOUT_SECONDS = env_float("OMS_READY_BROKER_TIMEOUT_SECONDS", 2.0)

# --- API --------------------------------------------------------------------------------

OMS_API_THROTTLE_RATE = env_str("OMS_API_THROTTLE_RATE", "1200/min")
# Requests without valid credentials, per client address (OMS_PROXY_COUNT).
OMS_API_ANON_THROTTLE_RATE = env_str("OMS_API_ANON_THROTTLE_RATE", "60/min")
OMS_API_MAX_BODY_BYTES = env_int("OMS_API_MAX_BODY_BYTES", 1024 * 1024)
# JSON bodies nesting arrays and objects deeper than this are refused (400) unparsed.
OMS_API_MAX_JSON_DEPTH = env_int("OMS_API_MAX_JSON_DEPTH", 32)
OMS_IDEMPOTENCY_TTL_HOURS = env_int("OMS_IDEMPOTENCY_TTL_HOURS", 24)
# A key whose first request left no outcome for this long may be taken over by a retry.
OMS_IDEMPOTENCY_ABANDONED_SECONDS = env_int("OMS_IDEMPOTENCY_ABANDONED_SECONDS", 300)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(OMS_API_MAX_BODY_BYTES, 2_621_440)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oms.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["oms.api.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": [
        "oms.api.throttling.CallerRateThrottle",
        "oms.api.throttling.AnonymousRateThrottle",
    ],
    "DEFAULT_PAGINATION_CLASS": "oms.api.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["oms.api.filtering.FilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["oms.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "oms.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "oms.api.problems.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "OMS API",
    "DESCRIPTION": (
        "Material orders for cell-site work. Authenticate with `Authorization: Bearer "
        "<token>` (see `manage.py create_api_client`). Every endpoint names the scope it "
        "needs. Errors are RFC 9457 problem details. POSTs accept an `Idempotency-Key`; "
        "`X-Correlation-ID` is accepted or generated and echoed on every response."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.choices.OrderStatus",
        "ProjectStatusEnum": "orders.choices.ProjectStatus",
        "ReleaseStatusEnum": "warehouse.integration.choices.ReleaseStatus",
        "AllocationRunStatusEnum": "allocation.choices.RunStatus",
        "TimelineKindEnum": "orders.choices.TimelineKind",
        "OrderKindEnum": "orders.choices.OrderKind",
    },
}
