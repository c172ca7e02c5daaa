"""The Celery app that runs the toolkit's jobs (export, import, clone), configured from the Django
settings' CELERY_* names. Start a worker with:

    celery -A config worker -Q antenna-port --loglevel INFO
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("antenna_port")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["dwca_port.jobs"], related_name="tasks")
