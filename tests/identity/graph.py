"""One row of every exported model, built with plain `objects.create` calls so that the same
code works with the live models and with historical (migration) models."""

from __future__ import annotations

import datetime

T0 = datetime.datetime(2023, 6, 1, 22, 0)

# Every model that carries an identity UUID (docs/identity.md).
UUID_MODELS = (
    "users.User",
    "main.Organization",
    "main.Project",
    "main.UserProjectMembership",
    "main.Device",
    "main.Site",
    "main.S3StorageSource",
    "main.Deployment",
    "main.Event",
    "main.SourceImage",
    "main.Detection",
    "main.Classification",
    "main.Occurrence",
    "main.Identification",
    "main.Taxon",
    "main.TaxaList",
    "main.Tag",
    "main.SourceImageCollection",
    "ml.AlgorithmCategoryMap",
    "ml.Algorithm",
    "ml.Pipeline",
    "ml.ProcessingService",
    "ml.ProjectPipelineConfig",
    "jobs.Job",
    "jobs.JobLog",
    "exports.DataExport",
)


def build_graph(apps, tag: str = "a", captures: int = 5) -> dict:
    def model(label):
        return apps.get_model(*label.split("."))

    user = model("users.User").objects.create(email=f"{tag}@example.org", password="!")
    organization = model("main.Organization").objects.create(name=f"Org {tag}", slug=f"org-{tag}")
    category_map = model("ml.AlgorithmCategoryMap").objects.create(data=[{"index": 0, "label": "x"}], labels=["x"])
    detector = model("ml.Algorithm").objects.create(name=f"Detector {tag}", key=f"detector-{tag}", version=1)
    classifier = model("ml.Algorithm").objects.create(
        name=f"Classifier {tag}", key=f"classifier-{tag}", version=2, category_map=category_map
    )
    pipeline = model("ml.Pipeline").objects.create(name=f"Pipeline {tag}", slug=f"pipeline-{tag}", version=1)
    pipeline.algorithms.add(detector, classifier)
    service = model("ml.ProcessingService").objects.create(name=f"Service {tag}")
    service.pipelines.add(pipeline)

    Project = model("main.Project")
    project_fields = {"name": f"Project {tag}", "owner": user}
    if "organization" in {f.name for f in Project._meta.get_fields()}:
        project_fields["organization"] = organization
    project = Project.objects.create(**project_fields)
    model("main.UserProjectMembership").objects.get_or_create(user=user, project=project)
    model("ml.ProjectPipelineConfig").objects.create(project=project, pipeline=pipeline)
    service.projects.add(project)

    parent = model("main.Taxon").objects.create(name=f"Genus{tag}", rank="GENUS")
    taxon = model("main.Taxon").objects.create(name=f"Genus{tag} species", rank="SPECIES", parent=parent)
    taxon.projects.add(project)
    taxa_list = model("main.TaxaList").objects.create(name=f"List {tag}")
    taxa_list.taxa.add(taxon)
    taxa_list.projects.add(project)
    label = model("main.Tag").objects.create(name=f"Tag {tag}", project=project)
    taxon.tags.add(label)

    device = model("main.Device").objects.create(name=f"Device {tag}", project=project)
    site = model("main.Site").objects.create(name=f"Site {tag}", project=project)
    storage = model("main.S3StorageSource").objects.create(
        name=f"Bucket {tag}", bucket="bucket", access_key="key", secret_key="secret", project=project
    )
    deployment = model("main.Deployment").objects.create(
        name=f"Station {tag}", project=project, device=device, research_site=site, data_source=storage
    )
    event = model("main.Event").objects.create(group_by="2023-06-01", start=T0, project=project, deployment=deployment)
    images = [
        model("main.SourceImage").objects.create(
            path=f"{tag}/2023060122{n:02d}00.jpg",
            timestamp=T0 + datetime.timedelta(minutes=n),
            project=project,
            deployment=deployment,
            event=event,
        )
        for n in range(captures)
    ]
    collection = model("main.SourceImageCollection").objects.create(name=f"Set {tag}", project=project)
    collection.images.add(*images)

    occurrence = model("main.Occurrence").objects.create(
        project=project, deployment=deployment, event=event, determination=taxon, determination_score=0.9
    )
    detection = model("main.Detection").objects.create(
        source_image=images[0], bbox=[1, 2, 30, 40], occurrence=occurrence, detection_algorithm=detector
    )
    model("main.Detection").objects.create(source_image=images[1], bbox=None, detection_algorithm=detector)
    classification = model("main.Classification").objects.create(
        detection=detection,
        taxon=taxon,
        score=0.9,
        timestamp=T0,
        algorithm=classifier,
        category_map=category_map,
        scores=[0.9],
        logits=[2.0],
    )
    identification = model("main.Identification").objects.create(
        user=user, taxon=taxon, occurrence=occurrence, agreed_with_prediction=classification
    )
    export = model("exports.DataExport").objects.create(user=user, project=project, format="dwca")
    job = model("jobs.Job").objects.create(
        name=f"Job {tag}",
        project=project,
        deployment=deployment,
        pipeline=pipeline,
        source_image_collection=collection,
        data_export=export,
    )
    model("jobs.JobLog").objects.create(job=job, level="INFO", message="started")
    return {
        "user": user,
        "organization": organization,
        "project": project,
        "deployment": deployment,
        "event": event,
        "images": images,
        "detection": detection,
        "classification": classification,
        "identification": identification,
        "taxon": taxon,
        "tag": label,
        "job": job,
    }
