"""A busy Antenna instance in a second process: captures with their detections, classifications
and occurrences keep arriving in one project, one transaction per capture, until stopped.

    python -m tests.portability.live_writer PROJECT_PK   (DATABASE_URL names the database)

It prints "ready" once it has written its first capture, and the number written when stopped
(SIGTERM)."""

from __future__ import annotations

import os
import signal
import sys
import uuid


def main(project_pk: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.db import transaction

    from ami.main.models import Classification, Detection

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    template = Detection.objects.filter(source_image__project_id=project_pk, occurrence__isnull=False).order_by("pk")
    template = template.select_related("source_image", "occurrence").first()
    classification = Classification.objects.filter(detection=template).first()
    written = 0
    while not stop:
        with transaction.atomic():
            capture, occurrence, detection = template.source_image, template.occurrence, template
            capture.pk, capture.uuid, capture.path = None, uuid.uuid4(), f"live/{uuid.uuid4()}.jpg"
            capture.save()
            occurrence.pk, occurrence.uuid = None, uuid.uuid4()
            occurrence.save()
            detection.pk, detection.uuid = None, uuid.uuid4()
            detection.source_image, detection.occurrence = capture, occurrence
            detection.save()
            if classification is not None:
                classification.pk, classification.uuid, classification.detection = None, uuid.uuid4(), detection
                classification.save()
        written += 1
        if written == 1:
            print("ready", flush=True)
    print(written, flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
