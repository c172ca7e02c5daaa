"""A synthetic project of any size, written set-wise for benchmarks and scale tests.

Rows are generated in Python and streamed to the database: PostgreSQL's COPY, or batched
executemany on SQLite. Primary keys are allocated up front so that foreign keys need no
read-back. Only columns that exist in the table are written, so the generator also works on a
database migrated back to an older schema (the identity benchmark relies on that).
"""

from __future__ import annotations

import datetime
import itertools
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction

from ami.jobs.models import Job, JobState
from ami.main.models import (
    Classification,
    Deployment,
    Detection,
    Device,
    Event,
    Identification,
    Occurrence,
    Project,
    S3StorageSource,
    Site,
    SourceImage,
    Taxon,
    TaxonRank,
)
from ami.ml.models import Algorithm, Pipeline
from ami.users.models import User

BATCH_ROWS = 10_000


class TableWriter:
    """Streams rows (dicts keyed by field attname) into one model's table."""

    def __init__(self, model: type[models.Model]):
        self.model = model
        self.table = model._meta.db_table
        with connection.cursor() as cursor:
            existing = {c.name for c in connection.introspection.get_table_description(cursor, self.table)}
        self.fields = [f for f in model._meta.concrete_fields if f.column in existing]
        self.rows_written = 0

    def _prepared(self, rows: Iterable[dict]) -> Iterator[list]:
        # The real connection, not the thread-local proxy, and each field's constant default
        # prepared once: at 10 million rows the per-cell lookups were most of the seeding time.
        database = connections[DEFAULT_DB_ALIAS]
        now = datetime.datetime.now()
        constants, per_row = {}, []
        for field in self.fields:
            if field.name in ("created_at", "updated_at"):
                constants[field.attname] = field.get_db_prep_save(now, database)
            elif not callable(field.default):
                constants[field.attname] = field.get_db_prep_save(field.get_default(), database)
            per_row.append((field.attname, field.get_db_prep_save, field.get_default))
        for row in rows:
            yield [
                prepare(row[attname], database)
                if attname in row
                else constants[attname]
                if attname in constants
                else prepare(default(), database)
                for attname, prepare, default in per_row
            ]

    def write(self, rows: Iterable[dict]) -> int:
        columns = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        count = 0
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {connection.ops.quote_name(self.table)} ({columns}) FROM STDIN") as copy:
                    for values in self._prepared(rows):
                        copy.write_row(values)
                        count += 1
            else:
                placeholders = ", ".join(["%s"] * len(self.fields))
                sql = f"INSERT INTO {connection.ops.quote_name(self.table)} ({columns}) VALUES ({placeholders})"
                prepared = self._prepared(rows)
                while batch := list(itertools.islice(prepared, BATCH_ROWS)):
                    cursor.executemany(sql, batch)
                    count += len(batch)
        self.rows_written += count
        return count


def next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1


def reset_sequences(*model_classes: type[models.Model]) -> None:
    """After explicit ids, point PostgreSQL's id sequences past them (SQLite needs nothing)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(_NoStyle(), model_classes):
            cursor.execute(statement)


class _NoStyle:
    def __getattr__(self, name: str) -> Callable[[str], str]:
        return lambda text: text


@dataclass(frozen=True)
class SyntheticSpec:
    images: int = 1000
    detections_per_image: float = 1.0
    classifications_per_detection: int = 1
    occurrences: int | None = None  # default: one per 6 detections
    identifications: int = 0
    deployments: int = 2
    nights_per_deployment: int = 10
    taxa: int = 200
    name: str = "Synthetic project"
    seed: int = 1


def seed_synthetic_project(spec: SyntheticSpec, progress=sys.stderr) -> Project:
    """Create one project of the given size and return it."""
    rng = random.Random(spec.seed)
    started = time.monotonic()

    def report(message: str) -> None:
        if progress:
            progress.write(f"[{time.monotonic() - started:7.1f}s] {message}\n")
            progress.flush()

    with transaction.atomic():
        owner, _ = User.objects.get_or_create(email="synthetic-owner@example.org", defaults={"name": "Synthetic owner"})
        project = Project.objects.create(
            name=spec.name, owner=owner, create_defaults=False, license="CC0-1.0", rights_holder="Synthetic data"
        )
        taxa = _taxa(spec.taxa)
        project.taxa.add(*taxa)
        detector, _ = Algorithm.objects.get_or_create(
            name="Synthetic detector", version=1, defaults={"task_type": "detection"}
        )
        classifier, _ = Algorithm.objects.get_or_create(
            name="Synthetic classifier", version=1, defaults={"task_type": "classification"}
        )
        pipeline = Pipeline.objects.filter(name="Synthetic pipeline", version=1).first() or Pipeline.objects.create(
            name="Synthetic pipeline", version=1
        )
        pipeline.algorithms.add(detector, classifier)

        storage = S3StorageSource.objects.create(
            name="Synthetic bucket",
            bucket="synthetic",
            project=project,
            access_key="not-a-key",
            secret_key="not-a-secret",
            public_base_url="https://object-store.example.org/synthetic",
        )
        device = Device.objects.create(name="Synthetic trap", project=project)
        site = Site.objects.create(name="Synthetic site", project=project)
        deployments = [
            Deployment.objects.create(
                name=f"Station {n + 1}",
                project=project,
                data_source=storage,
                device=device,
                research_site=site,
                latitude=45 + rng.random(),
                longitude=-73 - rng.random(),
            )
            for n in range(spec.deployments)
        ]
        nights = _events(project, deployments, spec.nights_per_deployment)
        report(f"project {project.pk}: {len(deployments)} deployments, {len(nights)} sessions, {len(taxa)} taxa")

        image_ids = _source_images(project, nights, spec.images, storage.public_base_url)
        report(f"{len(image_ids):,} source images")
        detection_count = round(spec.images * spec.detections_per_image)
        occurrence_count = (
            spec.occurrences if spec.occurrences is not None else max(1, detection_count // 6) if detection_count else 0
        )
        occurrence_ids = _occurrences(project, nights, image_ids, occurrence_count, taxa, rng)
        report(f"{len(occurrence_ids):,} occurrences")
        detection_ids = _detections(image_ids, occurrence_ids, detection_count, detector, rng)
        report(f"{len(detection_ids):,} detections")
        count = _classifications(detection_ids, spec.classifications_per_detection, taxa, classifier, rng)
        report(f"{count:,} classifications")
        if spec.identifications:
            _identifications(owner, occurrence_ids, spec.identifications, taxa, rng)
        Job.objects.create(
            name="Synthetic processing",
            project=project,
            pipeline=pipeline,
            status=JobState.SUCCESS,
            job_type_key=Job.JobType.ML,
        )
        reset_sequences(SourceImage, Occurrence, Detection, Classification, Identification)
        # The cached counts, as a real instance keeps them (an archive carries them to be checked);
        # the planner needs statistics of the tables just filled to count by index.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "ANALYZE "
                    + ", ".join(m._meta.db_table for m in (SourceImage, Occurrence, Detection, Classification))
                )
        project.update_related_calculated_fields()
        report("cached counts computed")
    report("done")
    return project


def _taxa(count: int) -> list[Taxon]:
    order, _ = Taxon.objects.get_or_create(name="Lepidoptera", defaults={"rank": TaxonRank.ORDER})
    family, _ = Taxon.objects.get_or_create(name="Syntheticidae", defaults={"rank": TaxonRank.FAMILY, "parent": order})
    genera = [
        Taxon.objects.get_or_create(name=f"Synthgenus{g}", defaults={"rank": TaxonRank.GENUS, "parent": family})[0]
        for g in range(max(1, count // 20))
    ]
    names = [f"Synthgenus{n % len(genera)} species{n}" for n in range(count)]
    existing = set(Taxon.objects.filter(name__in=names).values_list("name", flat=True))
    Taxon.objects.bulk_create(
        [
            Taxon(name=name, rank=TaxonRank.SPECIES, parent=genera[n % len(genera)])
            for n, name in enumerate(names)
            if name not in existing
        ],
        batch_size=1000,
    )
    species = list(Taxon.objects.filter(name__in=names).order_by("pk"))
    Taxon.objects.update_all_calculated_fields([order, family, *genera, *species])
    return species


def _events(project, deployments, nights_per_deployment) -> list[tuple[Event, datetime.datetime]]:
    first_night = datetime.datetime(2023, 6, 1, 21, 0)
    nights = []
    for deployment in deployments:
        for n in range(nights_per_deployment):
            start = first_night + datetime.timedelta(days=n)
            event = Event.objects.create(
                deployment=deployment,
                project=project,
                group_by=str(start.date()),
                start=start,
                end=start + datetime.timedelta(hours=8),
            )
            nights.append((event, start))
    return nights


def _source_images(project, nights, count, base_url) -> list[tuple[int, int, int, datetime.datetime]]:
    """(image id, deployment id, event id, timestamp) per image, spread over the nights."""
    first = next_id(SourceImage)
    per_night = -(-count // len(nights)) if nights else 0
    images = []
    for n in range(count):
        event, start = nights[n // per_night]
        offset = n % per_night
        timestamp = start + datetime.timedelta(seconds=offset * 28800 // max(per_night, 1))
        images.append((first + n, event.deployment_id, event.pk, timestamp))
    TableWriter(SourceImage).write(
        {
            "id": image_id,
            "path": f"{timestamp:%Y_%m_%d}/{timestamp:%Y%m%d%H%M%S}-{image_id}-snapshot.jpg",
            "timestamp": timestamp,
            "width": 4096,
            "height": 2160,
            "size": 1_500_000 + image_id % 100_000,
            "public_base_url": base_url,
            "project_id": project.pk,
            "deployment_id": deployment_id,
            "event_id": event_id,
            "test_image": False,
            "detections_count": 0,
        }
        for image_id, deployment_id, event_id, timestamp in images
    )
    return images


def _occurrences(project, nights, images, count, taxa, rng) -> list[tuple[int, int, int]]:
    """(occurrence id, deployment id, event id); determinations are fixed up after classification."""
    first = next_id(Occurrence)
    rows = []
    for n in range(count):
        _, deployment_id, event_id, _ = images[n * len(images) // count]
        rows.append((first + n, deployment_id, event_id))
    TableWriter(Occurrence).write(
        {
            "id": occurrence_id,
            "project_id": project.pk,
            "deployment_id": deployment_id,
            "event_id": event_id,
            "determination_id": taxa[occurrence_id % len(taxa)].pk,
            "determination_score": round(0.5 + rng.random() / 2, 4),
        }
        for occurrence_id, deployment_id, event_id in rows
    )
    return rows


def _detections(images, occurrences, count, detector, rng) -> list[int]:
    first = next_id(Detection)
    ids = list(range(first, first + count))

    def rows():
        for n, detection_id in enumerate(ids):
            image_id, _, _, timestamp = images[n * len(images) // count]
            occurrence_id = occurrences[n * len(occurrences) // count][0] if occurrences else None
            x, y = rng.randrange(0, 3800), rng.randrange(0, 1900)
            yield {
                "id": detection_id,
                "source_image_id": image_id,
                "occurrence_id": occurrence_id,
                "bbox": [x, y, x + rng.randrange(40, 300), y + rng.randrange(40, 260)],
                "timestamp": timestamp,
                "frame_num": 0,
                "detection_algorithm_id": detector.pk,
                "detection_score": round(rng.random(), 4),
                "path": f"crops/{detection_id}.jpg",
            }

    TableWriter(Detection).write(rows())
    return ids


def _classifications(detection_ids, per_detection, taxa, classifier, rng) -> int:
    first = next_id(Classification)
    timestamp = datetime.datetime(2023, 7, 1, 12, 0)

    def rows():
        n = 0
        for detection_id in detection_ids:
            for rank in range(per_detection):
                yield {
                    "id": first + n,
                    "detection_id": detection_id,
                    "taxon_id": taxa[(detection_id + rank) % len(taxa)].pk,
                    "score": round(rng.random(), 4),
                    "timestamp": timestamp,
                    "terminal": rank == 0,
                    "algorithm_id": classifier.pk,
                }
                n += 1

    return TableWriter(Classification).write(rows())


def _identifications(user, occurrences, count, taxa, rng) -> int:
    first = next_id(Identification)
    chosen = occurrences[:count]
    return TableWriter(Identification).write(
        {
            "id": first + n,
            "user_id": user.pk,
            "occurrence_id": occurrence_id,
            "taxon_id": rng.choice(taxa).pk,
            "withdrawn": False,
            "comment": "",
        }
        for n, (occurrence_id, _, _) in enumerate(chosen)
    )
