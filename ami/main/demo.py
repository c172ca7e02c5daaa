"""Build a realistic demo project from the real Vermont station export in fixtures/.

The fixture (an AMI Data Companion export of one light trap, June 2022) gives 95 occurrences,
333 detections with bounding boxes and scores on 120 captures over 4 nights. What it lacks
(coordinates, device, site, storage, algorithms, users, human identifications, a tag, a
collection, a job) is filled in with plausible, clearly illustrative values. No real credentials.
"""

from __future__ import annotations

import datetime
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from ami.base.bulk import update_rows
from ami.exports.models import DataExport
from ami.jobs.models import Job, JobLog, JobState
from ami.main.models import (
    Classification,
    Deployment,
    Detection,
    Device,
    Identification,
    Occurrence,
    Project,
    S3StorageSource,
    Site,
    SourceImage,
    SourceImageCollection,
    Tag,
    TaxaList,
    Taxon,
    TaxonRank,
    group_images_into_events,
    timestamp_from_filename,
)
from ami.ml.models import Algorithm, AlgorithmCategoryMap, Pipeline, ProcessingService, ProjectPipelineConfig
from ami.users.models import User
from ami.users.roles import Identifier, Researcher, assign_role

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
OCCURRENCES_FILE = FIXTURES / "vermont-occurrences.json"
SPECIES_LIST_FILE = FIXTURES / "quebec-vermont-taxa-20221220.json"

PROJECT_NAME = "Vermont moth snapshots (demo)"
DEPLOYMENT_NAME = "Vermont-Snapshots-Sample"  # the fixture's own station name
# Species the demo's people name where they disagree with the machine (and tag for review).
ALTERNATIVE_NAMES = ("Hypoprepia fucosa", "Lithophane innominata", "Palpita magniferalis")
STORAGE_BASE_URL = "https://object-store.example.org/ami-demo/vermont"


@dataclass(frozen=True)
class DemoUsers:
    owner: User
    identifier: User
    researcher: User


def load_demo_project(stdout=sys.stdout) -> Project:
    """Create the demo project in one transaction and return it. Taxa are shared: existing ones are reused."""
    occurrences = json.loads(OCCURRENCES_FILE.read_text())
    species_rows = _species_of_recorded_genera(json.loads(SPECIES_LIST_FILE.read_text()), occurrences)
    with transaction.atomic():
        users = _users()
        taxa = _taxa(species_rows, occurrences)
        project = Project.objects.create(
            name=PROJECT_NAME,
            description=(
                "Nightly snapshots of an automated light trap with a camera in Vermont, June 2022: "
                "moths detected and identified by machine learning, some verified by people. "
                "Built from a real Antenna export for demonstrations and tests."
            ),
            owner=users.owner,
            license="CC-BY-4.0",
            rights_holder="Antenna demo consortium",
            default_filters_score_threshold=0.6,
            create_defaults=False,
        )
        project.default_filters_include_taxa.add(taxa["Lepidoptera"])
        assign_role(project, users.identifier, Identifier)
        assign_role(project, users.researcher, Researcher)

        species_list = TaxaList.objects.create(
            name="Quebec & Vermont moths of the recorded genera",
            description="The regional species list (2022-12-20) restricted to the genera this station recorded.",
        )
        species_list.taxa.set([taxa[row["species"]] for row in species_rows if row["species"] in taxa])
        species_list.projects.add(project)

        pipeline, detector, classifier = _pipeline(project, occurrences, taxa)
        deployment = _station(project)
        captures = _captures(deployment, occurrences)
        group_images_into_events(deployment)
        detections = _occurrences_and_detections(project, deployment, occurrences, captures, taxa, detector, classifier)
        _identifications(users, taxa, detections)
        _extras(project, users, deployment, pipeline, taxa, captures)

        used = Taxon.objects.filter(occurrences__project=project).distinct()
        project.taxa.add(
            *used, *Taxon.objects.filter(classifications__detection__source_image__project=project).distinct()
        )
        Taxon.objects.update_all_calculated_fields()
        project.update_related_calculated_fields()
    return project


def _users() -> DemoUsers:
    def user(email: str, name: str) -> User:
        found = User.objects.filter(email=email).first()
        return found or User.objects.create_user(email=email, password=None, name=name)

    return DemoUsers(
        owner=user("manager@demo.antenna.example.org", "Demo Project Manager"),
        identifier=user("identifier@demo.antenna.example.org", "Demo Taxonomist"),
        researcher=user("researcher@demo.antenna.example.org", "Demo Researcher"),
    )


def _labels(occurrences: list[dict]) -> set[str]:
    return {o["label"] for o in occurrences} | {e["label"] for o in occurrences for e in o["examples"]}


def _species_of_recorded_genera(species_rows: list[dict], occurrences: list[dict]) -> list[dict]:
    """The regional list's species in the genera the fixture recorded (about 200 of 3,108): a
    realistic candidate list, small enough that every test can build the demo in a second or two."""
    names = _labels(occurrences) | set(ALTERNATIVE_NAMES)
    genera = {row["genus"] for row in species_rows if row["species"] in names}
    return [row for row in species_rows if row["genus"] in genera]


def _taxa(species_rows: list[dict], occurrences: list[dict]) -> dict[str, Taxon]:
    """Order Lepidoptera > families > genera > species, from the regional species list (which
    holds every label of the fixture). Existing taxa of the same name are reused, as upstream."""
    wanted: dict[str, tuple[str, str | None]] = {"Lepidoptera": (TaxonRank.ORDER, None)}
    for row in species_rows:
        family, genus, species = row["family"], row["genus"], row["species"]
        if not species or species == "-1":  # the list's one junk row
            continue
        wanted.setdefault(family, (TaxonRank.FAMILY, "Lepidoptera"))
        wanted.setdefault(genus, (TaxonRank.GENUS, family))
        wanted.setdefault(species, (TaxonRank.SPECIES, genus))
    missing = _labels(occurrences) - wanted.keys()
    if missing:
        raise ValueError(f"{SPECIES_LIST_FILE.name} lacks the fixture labels {sorted(missing)}")

    existing = {t.name: t for t in Taxon.objects.filter(name__in=wanted)}
    Taxon.objects.bulk_create(
        [Taxon(name=name, rank=rank) for name, (rank, _) in wanted.items() if name not in existing],
        batch_size=1000,
    )
    taxa = {t.name: t for t in Taxon.objects.filter(name__in=wanted)}
    orphans = [t for name, t in taxa.items() if t.parent_id is None and wanted[name][1]]
    for taxon in orphans:
        taxon.parent = taxa[wanted[taxon.name][1]]
    update_rows(Taxon, orphans, ["parent"])
    return taxa


def _pipeline(project: Project, occurrences: list[dict], taxa: dict[str, Taxon]):
    labels = sorted({e["label"] for o in occurrences for e in o["examples"]})
    category_map = AlgorithmCategoryMap.objects.create(
        data=[{"index": i, "label": label, "taxon_rank": "SPECIES"} for i, label in enumerate(labels)],
        labels=labels,
        version="vermont-demo-2022",
        description="Labels of the demo classifier (the fixture's labels).",
    )
    detector, _ = Algorithm.objects.get_or_create(
        name="Fasterrcnn for AMI Moth Traps 2021",
        version=1,
        defaults={
            "task_type": Algorithm.TaskType.DETECTION,
            "description": "Object detector for moths on light-trap images.",
        },
    )
    classifier, _ = Algorithm.objects.get_or_create(
        name="Quebec & Vermont Species Classifier",
        version=1,
        defaults={"task_type": Algorithm.TaskType.CLASSIFICATION, "category_map": category_map},
    )
    pipeline = Pipeline.objects.filter(name="Quebec & Vermont moths", version=1).first()
    if pipeline is None:
        pipeline = Pipeline.objects.create(
            name="Quebec & Vermont moths",
            version=1,
            description="Detect moths, then classify them among Quebec and Vermont species.",
            default_config={"example_config_param": 1},
        )
    pipeline.algorithms.add(detector, classifier)
    service = ProcessingService(name="Demo processing service", description="Pull-mode service (no endpoint).")
    service.save()
    service.projects.add(project)
    service.pipelines.add(pipeline)
    ProjectPipelineConfig.objects.create(project=project, pipeline=pipeline, enabled=True, config={"batch_size": 8})
    project.default_processing_pipeline = pipeline
    project.save(update_fields=["default_processing_pipeline"])
    return pipeline, detector, classifier


def _station(project: Project) -> Deployment:
    device = Device.objects.create(
        name="AMI trap with Raspberry Pi camera",
        project=project,
        description="Illustrative device (the fixture names none).",
    )
    site = Site.objects.create(
        name="Vermont field station", project=project, description="Illustrative site (the fixture has no coordinates)."
    )
    storage = S3StorageSource.objects.create(
        name="Vermont snapshots bucket",
        bucket="ami-demo",
        prefix="vermont",
        endpoint_url="https://object-store.example.org",
        public_base_url=STORAGE_BASE_URL,
        access_key="DEMO-ACCESS-KEY-NOT-REAL",
        secret_key="demo-secret-key-not-real",
        project=project,
    )
    return Deployment.objects.create(
        name=DEPLOYMENT_NAME,
        description="Automated light trap photographed every few minutes through the night.",
        latitude=44.4759,  # illustrative, in Vermont
        longitude=-73.2121,
        project=project,
        data_source=storage,
        data_source_subdir="snapshots",
        data_source_regex=r".*\.jpg",
        research_site=site,
        device=device,
    )


def _captures(deployment: Deployment, occurrences: list[dict]) -> dict[int, SourceImage]:
    """One SourceImage per distinct fixture image; capture time from the file name (local time,
    as Antenna stores it; the fixture's own timestamps are UTC)."""
    images: dict[int, dict] = {}
    for occurrence in occurrences:
        for example in occurrence["examples"]:
            images.setdefault(example["source_image_id"], example)
    SourceImage.objects.bulk_create(
        [
            SourceImage(
                path=example["source_image_path"],
                public_base_url=STORAGE_BASE_URL,
                timestamp=timestamp_from_filename(example["source_image_path"]),
                width=example["source_image_width"],
                height=example["source_image_height"],
                size=example["source_image_filesize"],
                project_id=deployment.project_id,
                deployment=deployment,
            )
            for _, example in sorted(images.items())
        ]
    )
    by_path = {c.path: c for c in SourceImage.objects.filter(deployment=deployment)}
    return {image_id: by_path[example["source_image_path"]] for image_id, example in images.items()}


def _utc_to_local(value: str) -> datetime.datetime:
    from zoneinfo import ZoneInfo

    moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).replace(tzinfo=None)


def _occurrences_and_detections(
    project, deployment, occurrences, captures, taxa, detector, classifier
) -> list[Detection]:
    """95 occurrences, 333 detections, one terminal classification per detection; each
    occurrence's determination is its best prediction (which equals the fixture's label)."""
    processed_at = datetime.datetime(2022, 6, 25, 9, 0)
    created = Occurrence.objects.bulk_create(
        [
            Occurrence(
                determination=taxa[o["label"]],
                determination_score=o["best_score"],
                deployment=deployment,
                project=project,
                event=captures[o["examples"][0]["source_image_id"]].event,
            )
            for o in occurrences
        ]
    )
    created = _reload(Occurrence, created, Occurrence.objects.filter(deployment=deployment).order_by("pk"))
    detections = []
    for occurrence, source in zip(created, occurrences):
        for frame, example in enumerate(source["examples"]):
            capture = captures[example["source_image_id"]]
            detections.append(
                Detection(
                    source_image=capture,
                    bbox=example["bbox"],
                    timestamp=capture.timestamp,
                    path=example["cropped_image_path"],
                    occurrence=occurrence,
                    frame_num=frame,
                    detection_algorithm=detector,
                    detection_time=processed_at,
                )
            )
    Detection.objects.bulk_create(detections)
    detections = list(Detection.objects.filter(source_image__deployment=deployment).order_by("pk"))
    examples = [e for o in occurrences for e in o["examples"]]
    Classification.objects.bulk_create(
        [
            Classification(
                detection=detection,
                taxon=taxa[example["label"]],
                score=example["score"],
                timestamp=processed_at,
                terminal=True,
                algorithm=classifier,
                category_map=classifier.category_map,
            )
            for detection, example in zip(detections, examples)
        ]
    )
    # Events came from grouping before the occurrences existed: re-point them now.
    group_images_into_events(deployment)
    return detections


def _reload(model, created: list, queryset) -> list:
    """bulk_create returns primary keys on PostgreSQL and recent SQLite; fall back to a query."""
    return created if all(obj.pk for obj in created) else list(queryset)


def _identifications(users: DemoUsers, taxa: dict[str, Taxon], detections: list[Detection]) -> None:
    """Human verification: agreements with the machine, disagreements, and one withdrawn change of mind."""
    occurrences = list(Occurrence.objects.filter(detections__in=detections).distinct().order_by("pk"))
    agree, disagree = occurrences[:4], occurrences[10:12]
    identifications = [
        Identification(
            user=users.identifier,
            taxon=o.determination,
            occurrence=o,
            agreed_with_prediction=o.best_prediction(),
            comment="Agrees with the classifier.",
        )
        for o in agree
    ]
    alternatives = ALTERNATIVE_NAMES[:2]
    for occurrence, name in zip(disagree, alternatives):
        if occurrence.determination and occurrence.determination.name == name:
            name = ALTERNATIVE_NAMES[2]
        identifications.append(
            Identification(
                user=users.identifier,
                taxon=taxa[name],
                occurrence=occurrence,
                comment="Wing pattern points to another species.",
            )
        )
    identifications.append(
        Identification(
            user=users.owner,
            taxon=taxa["Lepidoptera"],
            occurrence=disagree[0],
            withdrawn=True,
            comment="Only sure of the order; withdrawn.",
        )
    )
    Identification.objects.bulk_create(identifications)
    for occurrence in agree + disagree:
        occurrence.update_determination(save=True)


def _extras(project, users, deployment, pipeline, taxa, captures) -> None:
    tag = Tag.objects.create(name="Needs review", project=project)
    tag.taxa.add(taxa[ALTERNATIVE_NAMES[0]], taxa[ALTERNATIVE_NAMES[1]])

    sample = SourceImageCollection.objects.create(
        name="First captures of each night",
        description="Manually chosen captures for a quick look at every session.",
        project=project,
        method=SourceImageCollection.Method.MANUAL,
        kwargs={"image_ids": []},
    )
    firsts = {}
    for capture in SourceImage.objects.filter(deployment=deployment).order_by("timestamp"):
        firsts.setdefault(capture.event_id, capture)
    sample.images.set(firsts.values())
    sample.kwargs = {"image_ids": sorted(c.pk for c in firsts.values())}
    sample.save(update_fields=["kwargs"])

    started = datetime.datetime(2022, 6, 25, 8, 30)
    job = Job.objects.create(
        name="Process Vermont snapshots",
        job_type_key=Job.JobType.ML,
        status=JobState.SUCCESS,
        project=project,
        deployment=deployment,
        source_image_collection=sample,
        pipeline=pipeline,
        scheduled_at=started,
        started_at=started,
        finished_at=started + datetime.timedelta(minutes=42),
        progress={
            "summary": {"status": JobState.SUCCESS.value, "progress": 1.0},
            "stages": [
                {
                    "key": "process",
                    "name": "Process",
                    "status": JobState.SUCCESS.value,
                    "progress": 1.0,
                    "params": [{"name": "Detections", "key": "detections", "category": "default", "value": 333}],
                },
            ],
            "errors": [],
            "logs": [],
        },
        params={"batch_size": 8},
        result={"detections": 333, "classifications": 333},
    )
    JobLog.objects.bulk_create(
        [
            JobLog(job=job, level="INFO", message="Processing 120 captures with pipeline Quebec & Vermont moths"),
            JobLog(job=job, level="INFO", message="Done: 333 detections, 95 occurrences", context={"captures": 120}),
        ]
    )
    export = DataExport.objects.create(
        user=users.researcher,
        project=project,
        format=DataExport.Format.OCCURRENCES_SIMPLE_CSV,
        filters={"collection_id": sample.pk},
        filters_display={"collection_id": {"id": sample.pk, "name": sample.name}},
        record_count=95,
    )
    Job.objects.create(
        name="Export occurrences (CSV)",
        job_type_key=Job.JobType.DATA_EXPORT,
        status=JobState.SUCCESS,
        project=project,
        data_export=export,
        started_at=started + datetime.timedelta(hours=1),
        finished_at=started + datetime.timedelta(hours=1, minutes=1),
    )


def summarize(project: Project) -> dict[str, int]:
    """Row counts of the project, as the demo prints them."""
    return {
        "deployments": project.deployments.count(),
        "capture sessions (events)": project.events.count(),
        "source images": project.captures.count(),
        "detections": Detection.objects.filter(source_image__project=project).count(),
        "classifications": Classification.objects.filter(detection__source_image__project=project).count(),
        "occurrences": project.occurrences.count(),
        "identifications": Identification.objects.filter(occurrence__project=project).count(),
        "taxa linked to the project": project.taxa.count(),
        "taxa lists": project.taxa_lists.count(),
        "members": project.project_memberships.count(),
        "jobs": project.jobs.count(),
    }


@transaction.atomic
def delete_project_data(project: Project) -> None:
    """Delete a project with everything it owns. (Deleting a Project alone orphans its stations,
    captures and occurrences upstream, and deleting detections orphans classifications.)"""
    from ami.users.roles import delete_roles_for_project

    Classification.objects.filter(detection__source_image__project=project).delete()
    Identification.objects.filter(occurrence__project=project).delete()
    Detection.objects.filter(source_image__project=project).delete()
    Job.objects.filter(project=project).delete()
    for model in (Occurrence, SourceImage):
        model.objects.filter(project=project).delete()
    project.events.all().delete()
    for model in (Deployment, Device, Site, S3StorageSource):
        model.objects.filter(project=project).delete()
    delete_roles_for_project(project)
    project.delete()
