"""Settings for the Antenna portability toolkit.

The database comes from DATABASE_URL (PostgreSQL in production, as upstream Antenna runs);
without it, an SQLite file in the project folder is the embedded default.
Time handling is upstream's: USE_TZ = False with naive America/New_York datetimes.
"""

import os
import tempfile
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-local-key-for-the-portability-toolkit")
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "ami.users",
    "ami.main",
    "ami.ml",
    "ami.jobs",
    "ami.exports",
    "dwca_port",
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a competing writer instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
    # A transaction takes the write lock when it begins: two writers (a job's import and its
    # progress heartbeat) then wait for each other instead of failing at once with "locked".
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    # The test database is a file, not memory: a Celery worker (another process) must see it.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("SQLITE_TEST_NAME") or f"{tempfile.gettempdir()}/antenna-port-test-{os.getpid()}.sqlite3"
    }

AUTH_USER_MODEL = "users.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# As upstream Antenna: naive local datetimes.
USE_TZ = False
TIME_ZONE = "America/New_York"
LANGUAGE_CODE = "en-us"
USE_I18N = False

ROOT_URLCONF = "config.urls"
MEDIA_URL = "/media/"

# Rows per committed batch when the identity migration backfills UUIDs on existing tables.
UUID_BACKFILL_BATCH_SIZE = int(os.environ.get("UUID_BACKFILL_BATCH_SIZE", "10000"))

# The GBIF species-match API as a taxon matcher (import_project, reconcile_taxa; --gbif-timeout and
# --gbif-attempts override them): seconds to wait for a connection and for each answer, and
# requests per name before GBIF counts as unavailable and the import is refused.
TAXA_MATCHER_TIMEOUT = float(os.environ.get("TAXA_MATCHER_TIMEOUT", "10"))
TAXA_MATCHER_ATTEMPTS = int(os.environ.get("TAXA_MATCHER_ATTEMPTS", "3"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# The name archives exported here record as their source instance (e.g. "antenna.example.org").
DWCA_SOURCE_INSTANCE = os.environ.get("DWCA_SOURCE_INSTANCE", "")
# Long work as Antenna runs it: export, import and clone as Jobs on a Celery worker (docs/operations.md).
# RabbitMQ carries the tasks, Redis keeps their results (as upstream). A task is acknowledged only
# once it has run (acks_late) and handed back if its worker dies (reject_on_worker_lost): the
# redelivered task finds its Job "started" and marks it failed with the reason, instead of running
# it a second time.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "redis://127.0.0.1:6379/0")
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "antenna-port")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Seconds between the writes of a running job's progress (its heartbeat) and between its cancel checks.
JOBS_HEARTBEAT_SECONDS = float(os.environ.get("JOBS_HEARTBEAT_SECONDS", "1"))
# A job "started" whose heartbeat is older than this is reported as stale (its worker is gone).
JOBS_STALE_AFTER_SECONDS = float(os.environ.get("JOBS_STALE_AFTER_SECONDS", "120"))
# Seconds a job sleeps after each step it reports (0 in production; demos and tests slow jobs down with it).
JOBS_STEP_DELAY = float(os.environ.get("JOBS_STEP_DELAY", "0"))

# Archives in Django's storage: the local folder MEDIA_ROOT by default; S3 (or any S3-compatible
# server) through django-storages when AWS_STORAGE_BUCKET_NAME is set. Credentials come from the
# environment (or boto3's own chain) and never travel in an archive or a job's stored arguments.
MEDIA_ROOT = os.environ.get("MEDIA_ROOT", str(BASE_DIR / "media"))
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": AWS_STORAGE_BUCKET_NAME,
                "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
                "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
                "file_overwrite": False,
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
# Largest archive an export may write and an import may read, in bytes (0: no limit).
DWCA_MAX_EXPORT_BYTES = int(os.environ.get("DWCA_MAX_EXPORT_BYTES", "0"))
DWCA_MAX_IMPORT_BYTES = int(os.environ.get("DWCA_MAX_IMPORT_BYTES", "0"))
# Database connections an export reads with on PostgreSQL, all in its one snapshot (docs/operations.md).
DWCA_EXPORT_CONNECTIONS = int(os.environ.get("DWCA_EXPORT_CONNECTIONS", "2"))
# Where exports go in the storage (upstream: exports/<project-slug>_export-<pk>.<ext>).
DWCA_EXPORTS_FOLDER = os.environ.get("DWCA_EXPORTS_FOLDER", "exports")
