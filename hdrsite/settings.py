"""Settings for hdr: every value comes from the environment (see .env.example).

Embedded defaults (no variables set): SQLite and a filesystem Celery broker under HDR_VAR_DIR, so a
laptop runs the whole platform with no server. Production sets DATABASE_URL (PostgreSQL) and
CELERY_BROKER_URL (Redis), DEBUG off, SECRET_KEY and ALLOWED_HOSTS.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from hdrsite.env import (
    database_from_url,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# --- core -------------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)

VAR_DIR = Path(env_str("HDR_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    # Only ever used with DEBUG on, on a developer's machine.
    SECRET_KEY = "insecure-development-key-never-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "recognition",
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
]

ROOT_URLCONF = "hdrsite.urls"
WSGI_APPLICATION = "hdrsite.wsgi.application"
ASGI_APPLICATION = "hdrsite.asgi.application"

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
                "recognition.context.roles",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'hdr.sqlite3'}")
_database = database_from_url(DATABASE_URL, base_dir=BASE_DIR)
if _database["ENGINE"] == "django.db.backends.postgresql":
    _database["OPTIONS"].setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
    if env_bool("DATABASE_POOL", False):
        # psycopg's pool lives in each process; persistent connections must then stay off.
        _database["OPTIONS"]["pool"] = {
            "min_size": 1,
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10),
            "timeout": 10,
        }
        _database["CONN_MAX_AGE"] = 0
    else:
        _database["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
        _database["CONN_HEALTH_CHECKS"] = True
else:
    # SQLite too keeps a connection per thread: closing one (a WAL checkpoint) and opening the
    # next (the PRAGMAs) cost more than an upload's insert.
    _database["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth, i18n -------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- files ------------------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    # Re-running a pipeline step rewrites its files under the same names (tasks are idempotent).
    # Every file is on disk when save() returns, and a rewrite replaces the old file in one rename
    # (hdrsite/storage.py).
    "default": {
        "BACKEND": "hdrsite.storage.DurableFileSystemStorage",
        "OPTIONS": {"allow_overwrite": True},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Upload limits: enforced by the upload services and the API, and by Django for raw request size.
HDR_UPLOAD_MAX_BYTES = env_int("HDR_UPLOAD_MAX_BYTES", 50 * 1024 * 1024)
HDR_UPLOAD_MAX_FILES = env_int("HDR_UPLOAD_MAX_FILES", 100)
HDR_UPLOAD_MAX_PAGES = env_int("HDR_UPLOAD_MAX_PAGES", 50)
HDR_UPLOAD_MAX_PIXELS = env_int("HDR_UPLOAD_MAX_PIXELS", 60_000_000)
DATA_UPLOAD_MAX_NUMBER_FILES = HDR_UPLOAD_MAX_FILES
# Files above this size are streamed to a temporary file instead of being held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- security (production values whenever DEBUG is off) ---------------------------------------

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers and container orchestrators probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("HDR_BEHIND_TLS_PROXY", False):
    # Only behind a proxy that overwrites this header; a client could forge it otherwise.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- REST API ---------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "recognition.api.authentication.RememberingTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "recognition.api.errors.api_exception_handler",
    # `?format=csv|json` selects an export file, not a DRF renderer.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "hdr API",
    "DESCRIPTION": "Upload scans, read handwritten digits, review and export the results.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # The API docs page works offline: its JavaScript is served from our own static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "DocumentStatusEnum": "recognition.models.DocumentStatus.choices",
        "FieldStatusEnum": "recognition.models.FieldStatus.choices",
        "ReviewModeEnum": [("field", "field"), ("api", "api")],
        "FieldKindEnum": "recognition.models.FieldKind.choices",
        "ModelKindEnum": "recognition.models.ModelKind.choices",
        "TemplateKindEnum": "recognition.models.TemplateKind.choices",
        "PlaygroundModeEnum": [("digit", "digit"), ("number", "number")],
    },
}

# --- Celery -----------------------------------------------------------------------------------

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost/")
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # One folder for producers and consumers: every process on this machine shares the queues.
    for _sub in ("queue", "control"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        # The filesystem transport polls its folder; at the default 1 s a worker process takes at
        # most one task a second, which caps a 3-task page pipeline at ~40 pages/min.
        "polling_interval": env_float("HDR_BROKER_POLL_S", 0.05),
    }
    _default_result_backend = f"file://{VAR_DIR / 'celery-results'}"
    (VAR_DIR / "celery-results").mkdir(parents=True, exist_ok=True)
else:
    # A task whose worker died unacknowledged is delivered again after this many seconds (it must
    # exceed the longest task: a running task is never handed to a second worker before then).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("HDR_BROKER_VISIBILITY_TIMEOUT_S", 3600)
    }
    _default_result_backend = CELERY_BROKER_URL
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", _default_result_backend)
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE

# Two pools by resource: `cpu` (ingest, segmentation, housekeeping) scales out on any node; `gpu`
# (recognition, retraining) runs where the accelerators are, one task at a time per process.
HDR_QUEUES = ("cpu", "gpu")
CELERY_TASK_QUEUES = tuple(Queue(name, Exchange(name), routing_key=name) for name in HDR_QUEUES)
CELERY_TASK_DEFAULT_EXCHANGE = "cpu"
CELERY_TASK_DEFAULT_ROUTING_KEY = "cpu"
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_TASK_ROUTES = {
    "hdr.ping": {"queue": "cpu"},
    "hdr.sessions_clear_expired": {"queue": "cpu"},
    "hdr.device_info": {"queue": "gpu"},
    "hdr.document_ingest": {"queue": "cpu"},
    "hdr.page_segment": {"queue": "cpu"},
    "hdr.page_recognize": {"queue": "gpu"},
    "hdr.documents_reap_stuck": {"queue": "cpu"},
    "hdr.retraining_reap_stuck": {"queue": "cpu"},
    "hdr.batch_webhook_deliver": {"queue": "cpu"},
    "hdr.batches_sweep": {"queue": "cpu"},
    "hdr.documents_expire": {"queue": "cpu"},
    "hdr.retrain": {"queue": "gpu"},
    "hdr.retrain_due": {"queue": "cpu"},
}
# A task is acknowledged after it ran, and given back to the queue when its worker dies, so a
# crash or a deploy never loses work (tasks are idempotent, so a rerun is safe).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per process: tasks are long and uneven, and the gpu workers must not
# hoard pages that an idle node could take. The cpu pool may raise it on its command line.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 600)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 660)
CELERY_TASK_TRACK_STARTED = True
# Task events (received, started, succeeded: three messages per task) are for monitors such as
# Flower; nothing in the platform reads them, so they are sent only when asked for.
CELERY_WORKER_SEND_TASK_EVENTS = env_bool("HDR_WORKER_TASK_EVENTS", False)
# Celery's Django fix-up closes the database connections around every task unless this is set;
# it then closes them only every 2 x this many tasks. The worker keeps them as long as the web
# does instead (DATABASE_CONN_MAX_AGE, checked around each task: worker/celery.py).
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "documents-reap-stuck": {"task": "hdr.documents_reap_stuck", "schedule": 300},
    # Retraining jobs whose worker died (no heartbeat) or whose message was lost.
    "retraining-reap-stuck": {"task": "hdr.retraining_reap_stuck", "schedule": 300},
    # Batch events and webhooks that a crash or a broker outage cost (recognition.services.batches).
    "batches-sweep": {"task": "hdr.batches_sweep", "schedule": 300},
    # Nightly; edit the time in the admin (Periodic tasks). It only starts a job when enough new
    # reviewed samples arrived (Learning settings).
    "retrain-due": {"task": "hdr.retrain_due", "schedule": crontab(hour=2, minute=0)},
    # Retention (HDR_RETENTION_DAYS); does nothing while that is 0.
    "documents-expire": {"task": "hdr.documents_expire", "schedule": 3600},
    "sessions-clear-expired": {
        "task": "hdr.sessions_clear_expired",
        "schedule": 6 * 3600,
    },
}

# Batch webhooks are signed with HMAC-SHA256 of this secret (X-Hdr-Signature).
# The default is derived from SECRET_KEY so that sharing it with receivers never shares SECRET_KEY.
HDR_WEBHOOK_SECRET = (
    env_str("HDR_WEBHOOK_SECRET")
    or hashlib.sha256(f"hdr-webhook:{SECRET_KEY}".encode()).hexdigest()
)
HDR_WEBHOOK_TIMEOUT_S = env_float("HDR_WEBHOOK_TIMEOUT_S", 10.0)
# Allow callback URLs on private, loopback and link-local addresses (refused by default).
HDR_WEBHOOK_ALLOW_PRIVATE = env_bool("HDR_WEBHOOK_ALLOW_PRIVATE", False)
# Documents in `processing` longer than this are re-queued (or failed after 3 attempts).
HDR_STUCK_AFTER_S = env_int("HDR_STUCK_AFTER_S", 1800)
# A running retraining job with no heartbeat (one a minute) for this long failed: its worker
# died. A queued one not started after this long is sent to the queue again.
HDR_RETRAIN_STALE_S = env_int("HDR_RETRAIN_STALE_S", 1800)
# Retention: final documents (done or failed) older than this many days are deleted with their
# results and files, every hour. 0 keeps every document.
HDR_RETENTION_DAYS = env_int("HDR_RETENTION_DAYS", 0)
# How long a web process accepts an API token it has checked without asking the database again
# (recognition/api/authentication.py): a token deleted elsewhere works this much longer. 0: off.
HDR_API_TOKEN_CACHE_S = env_float("HDR_API_TOKEN_CACHE_S", 5.0)

# Score the marks of string fields with the digit model's "not a digit" class (words and
# scribbles go to review). With digits-cnn-v4 it sends 99.25% of letter and scribble fields to
# review and passes 88.6% of genuine numbers (docs/models/strings.md). Only a digit model whose
# card holds a rule measured with it scores marks (v4, v5, v2; not v3 or the 10-class v1).
HDR_STRING_REJECT = env_bool("HDR_STRING_REJECT", True)
# Threads each process gives OpenCV and ONNX Runtime. A prefork worker runs one process per core,
# so more than one thread each only makes the processes fight over the cores.
HDR_WORKER_THREADS = env_int("HDR_WORKER_THREADS", 1)

# Review: the share of auto-accepted fields also sent to review, to measure their real error.
HDR_REVIEW_SAMPLE_RATE = env_float("HDR_REVIEW_SAMPLE_RATE", 0.02)
# How long a reviewer holds a field they opened before another reviewer may take it.
HDR_REVIEW_CLAIM_S = env_int("HDR_REVIEW_CLAIM_S", 300)

# How long /healthz waits for the broker and for workers to answer.
HDR_HEALTH_TIMEOUT_S = env_float("HDR_HEALTH_TIMEOUT_S", 1.5)

# --- logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
