"""Settings for the Antenna portability toolkit.

The database comes from DATABASE_URL (PostgreSQL in production, as upstream Antenna runs);
without it, an SQLite file in the project folder is the embedded default.
Time handling is upstream's: USE_TZ = False with naive America/New_York datetimes.
"""

import os
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
