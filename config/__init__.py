# The Celery app loads with Django, so that tasks queued from a command use its settings.
from config.celery import app as celery_app

__all__ = ["celery_app"]
