"""A project's dataset description (eml.xml), computed from the project and its data.

No personal data: creators and contacts are the rights holder's (or organization's) name, never a
user's name or e-mail address (DESIGN section 5; reference item 47).
"""

from __future__ import annotations

import datetime

from django.db.models import Max, Min

from dwca_port.eml import DatasetMetadata, GeographicCoverage, KeywordSet, Methods, Party, Taxon, TemporalCoverage
from dwca_port.tables.context import ExportContext
from dwca_port.tables.darwin_core.common import SAMPLING_PROTOCOL
from dwca_port.tables.darwin_core.occurrence import HUMAN_STATUS, MACHINE_STATUS

DATASET_TYPE_THESAURUS = "GBIF Dataset Type Vocabulary: http://rs.gbif.org/vocabulary/gbif/dataset_type_2015-07-10.xml"
TAXONOMIC_RANKS = ("ORDER", "FAMILY")


def _publisher(project) -> str:
    if project.rights_holder.strip():
        return project.rights_holder.strip()
    if project.organization_id:
        return project.organization.name
    return f"Antenna project {project.name}"


def _abstract(project, counts: dict[str, int]) -> list[str]:
    paragraphs = [p.strip() for p in (project.description or "").split("\n\n") if p.strip()]
    paragraphs.append(
        f"Automated insect monitoring with light traps and cameras (Antenna): {counts['deployments']} deployment(s), "
        f"{counts['sessions']} capture session(s), {counts['captures']} captures and {counts['occurrences']} "
        f"published occurrence(s)."
    )
    return paragraphs


def _geographic(context: ExportContext) -> GeographicCoverage | None:
    points = [
        (d.latitude, d.longitude) for d in context.deployments if d.latitude is not None and d.longitude is not None
    ]
    if not points:
        return None
    latitudes, longitudes = [p[0] for p in points], [p[1] for p in points]
    return GeographicCoverage(
        description="The locations of the project's deployments (light-trap stations).",
        west=min(longitudes),
        east=max(longitudes),
        north=max(latitudes),
        south=min(latitudes),
    )


def _temporal(context: ExportContext) -> TemporalCoverage | None:
    """From the first to the last capture or session (event.txt dates both)."""
    captures = context.captures().aggregate(first=Min("timestamp"), last=Max("timestamp"))
    sessions = context.sessions().aggregate(first=Min("start"), last=Max("end"), last_start=Max("start"))
    moments = [m for m in (*captures.values(), *sessions.values()) if m is not None]
    if not moments:
        return None
    return TemporalCoverage(begin=min(moments).date(), end=max(moments).date())


def _taxonomic(context: ExportContext) -> list[Taxon]:
    """Orders and families of the published determinations (or of the include filter)."""
    names: set[tuple[str, str]] = set()
    for taxon in context.project.default_filters_include_taxa.all():
        names.add((taxon.rank.lower(), taxon.name))
    determinations = (
        context.published_occurrences()
        .order_by()  # (ordering columns would defeat DISTINCT)
        .values_list("determination__rank", "determination__name", "determination__parents_json")
        .distinct()
    )
    for rank, name, parents in determinations:
        for entry in [*(parents or []), {"rank": rank, "name": name}]:
            if entry["rank"] in TAXONOMIC_RANKS:
                names.add((entry["rank"].lower(), entry["name"]))
    return [Taxon(rank, name) for rank, name in sorted(names)]


def dataset_metadata(context: ExportContext, today: datetime.date | None = None) -> DatasetMetadata:
    project = context.project
    counts = {
        "deployments": len(context.deployments),
        "sessions": context.sessions().count(),
        "captures": context.captures().count(),
        "occurrences": context.published_occurrences().count(),
    }
    now = datetime.datetime.now()
    publisher = Party(organisation=_publisher(project))
    pipeline = project.default_processing_pipeline
    steps = [SAMPLING_PROTOCOL + "."]
    if pipeline:
        steps.append(
            f"Captures were processed with the pipeline {pipeline.name} (version "
            f"{pipeline.version_name or pipeline.version}): "
            "moths were detected, then classified."
        )
    steps.append(
        f"Occurrences are published when their determination score is at least "
        f"{project.default_filters_score_threshold} and their taxon passes the project's taxon filters."
    )
    return DatasetMetadata(
        package_id=f"{project.uuid}/{now:%Y%m%dT%H%M%S}",
        title=project.name,
        abstract=_abstract(project, counts),
        pub_date=today or now.date(),
        creators=[publisher],
        contacts=[Party(organisation=publisher.organisation, position="Data manager")],
        metadata_providers=[publisher],
        keyword_sets=[KeywordSet(["Samplingevent"], DATASET_TYPE_THESAURUS)],
        licence=context.licence,
        rights_holder=project.rights_holder,
        geographic_coverage=_geographic(context),
        temporal_coverage=_temporal(context),
        taxonomic_coverage=_taxonomic(context),
        methods=Methods(
            steps=steps,
            study_extent=f"{counts['deployments']} light-trap station(s) photographed through the night.",
            sampling_description="Each night's captures form a capture session (a new session starts after a gap of "
            f"{project.session_time_gap_seconds // 60} minutes without captures).",
            quality_control=[
                f"identificationVerificationStatus {MACHINE_STATUS!r} marks a machine prediction not verified by a "
                f"person; {HUMAN_STATUS!r} marks a name a project identifier confirmed or set. identifiedBy names "
                "the classifier, or the role (never the name) of the person who identified the occurrence."
            ],
        ),
    )
