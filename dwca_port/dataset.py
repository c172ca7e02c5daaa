"""A project's dataset description (eml.xml), computed from the project and its data, with what
the publisher adds (a metadata file: dwca_port/eml/additions.py, docs/publishing.md).

What the data say is computed: coverage, stations, nights, the models that detected and
classified, the publication filters, the verification vocabulary and how many records a person
verified. What only people know (contacts, project, funding, citation, homepage, keywords) comes
from the publisher's file; without it the rights holder stands in for every party.

No personal data: a party names a person only with an ORCID iD (the file's rule), never a user of
the instance, and carries no e-mail address (DESIGN section 5; reference item 47).
"""

from __future__ import annotations

import datetime

from django.db.models import Max, Min

from ami.main.models import Classification, Identification
from ami.ml.models import Algorithm
from dwca_port.eml import (
    DatasetMetadata,
    GeographicCoverage,
    KeywordSet,
    Methods,
    Party,
    Project,
    Taxon,
    TemporalCoverage,
)
from dwca_port.tables.context import ExportContext
from dwca_port.tables.darwin_core.common import SAMPLING_PROTOCOL, publisher_name
from dwca_port.tables.darwin_core.country import country_codes
from dwca_port.tables.darwin_core.measurement import MEASURES
from dwca_port.tables.darwin_core.occurrence import GBIF_TAXON, HUMAN_STATUS, MACHINE_STATUS
from dwca_port.tables.evidence import algorithm_label

DATASET_TYPE_THESAURUS = "GBIF Dataset Type Vocabulary: http://rs.gbif.org/vocabulary/gbif/dataset_type_2015-07-10.xml"
TAXONOMIC_RANKS = ("ORDER", "FAMILY")
THEMES = (
    "moths",
    "nocturnal insects",
    "light trap",
    "camera trap",
    "automated insect monitoring",
    "computer vision",
    "machine learning",
    "Antenna",
)
HISPID = "HISPID identification verification status vocabulary (HISCOM)"
SESSION_CAP_HOURS = 24  # Antenna never groups more than a day of captures into one session


def _abstract(paragraphs: list[str], counts: dict[str, int], part: str | None = None) -> list[str]:
    return [
        *paragraphs,
        f"Automated insect monitoring with light traps and cameras (Antenna): {counts['deployments']} station(s), "
        f"{counts['sessions']} night(s) (capture sessions), {counts['captures']} captures and {counts['occurrences']} "
        f"published occurrence(s)" + (f" in this part of the project ({part})." if part else "."),
    ]


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
    for taxon in context.project.default_filters_include_taxa.exclude(rank="UNKNOWN"):
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


def _models(context: ExportContext) -> tuple[list[str], list[str]]:
    """The detectors and the classifiers behind the archive's detections, by name and version."""
    detections = context.detections()
    detectors = Algorithm.objects.filter(pk__in=detections.values("detection_algorithm_id"))
    classifiers = Algorithm.objects.filter(
        pk__in=Classification.objects.filter(detection__in=detections).values("algorithm_id")
    )
    return tuple(
        sorted(filter(None, (algorithm_label(a.name, a.version_name) for a in algorithms)))
        for algorithms in (detectors, classifiers)
    )


def _stations(context: ExportContext) -> tuple[str, list[str]]:
    """Where: the research sites and the countries of the stations (where one is unambiguous)."""
    sites = sorted({d.research_site.name for d in context.deployments if d.research_site})
    located = [
        (d.latitude, d.longitude) for d in context.deployments if d.latitude is not None and d.longitude is not None
    ]
    countries = sorted({code for code in country_codes(located).values() if code})
    return "; ".join(sites), countries


def _methods(context: ExportContext, counts: dict[str, int], verified: int) -> Methods:
    project, additions = context.project, context.additions
    devices = sorted({d.device.name for d in context.deployments if d.device})
    detectors, classifiers = _models(context)
    gap = project.session_time_gap_seconds // 60
    include = sorted(project.default_filters_include_taxa.exclude(rank="UNKNOWN").values_list("name", flat=True))
    exclude = sorted(project.default_filters_exclude_taxa.values_list("name", flat=True))
    steps = [
        SAMPLING_PROTOCOL + "." + (f" Traps and cameras: {'; '.join(devices)}." if devices else ""),
        f"Captures are grouped into nights (capture sessions): a new session starts after {gap} minutes without "
        f"a capture, and no session spans more than {SESSION_CAP_HOURS} hours.",
        "Detection: " + ("; ".join(detectors) if detectors else "the detector is not recorded") + ". Each detection "
        "is a box on a capture; the detections of one individual form an occurrence.",
        "Classification: " + ("; ".join(classifiers) if classifiers else "the classifier is not recorded") + ".",
        "Determination: the latest identification by a project member, if any, else the best machine "
        "classification of the occurrence's detections (a final classifier first, then the highest score).",
        f"Publication: occurrences whose determination score is at least {project.default_filters_score_threshold}"
        + (f", within {', '.join(include)}" if include else "")
        + (f", outside {', '.join(exclude)}" if exclude else "")
        + ".",
        *additions.method_steps,
    ]
    quality = [
        f"identificationVerificationStatus follows the {HISPID}: {MACHINE_STATUS!r} marks a machine prediction no "
        f"person has checked; {HUMAN_STATUS!r} marks a name a project identifier confirmed or set from the recorded "
        f"images. identifiedBy names the classifier (name and version) or the role, never the name, of the person. "
        f"{verified} of {counts['occurrences']} published occurrence(s) were verified by a person.",
        f"taxonID is the determination's key in the GBIF Backbone Taxonomy, as {GBIF_TAXON}<key>.",
        "measurementorfact.txt names every measurement type and unit by URI (Audubon Core, NERC P06, and "
        + ", ".join(sorted({m.type_id.rsplit("/", 1)[-1] for m in MEASURES if "antenna" in m.type_id}))
        + " in Antenna's term list, https://antenna.insectai.org/terms/).",
        *additions.quality_control,
    ]
    first_night = context.sessions().aggregate(first=Min("start"), last=Max("start"))
    period = (
        f", {first_night['first']:%Y-%m-%d} to {first_night['last']:%Y-%m-%d}"
        if first_night["first"] is not None
        else ""
    )
    return Methods(
        steps=steps,
        study_extent=f"{counts['deployments']} light-trap station(s), {counts['sessions']} night(s){period}.",
        sampling_description="Each station's trap photographs its screen through the night; each night's "
        "captures form a capture session, the sampling event of the occurrences seen on them.",
        quality_control=quality,
    )


def _project(context: ExportContext, publisher: Party) -> Project:
    if context.additions.project is not None:
        return context.additions.project
    sites, countries = _stations(context)
    where = "; ".join(part for part in (sites, ", ".join(countries)) if part)
    return Project(
        title=context.project.name,
        personnel=[Party(organisation=publisher.organisation, online_url=publisher.online_url, role="pointOfContact")],
        identifier=str(context.project.uuid),
        study_area_description=where,
        design_description="Fixed light-trap stations photographed automatically through the night; moths detected "
        "and classified by machine learning, names verified by project members; occurrences published under the "
        "project's filters.",
    )


def _citation(metadata: DatasetMetadata, publisher: str) -> str:
    """The IPT's order: creators (year). Title. Sampling event dataset. Then the homepage."""
    names = "; ".join(filter(None, (party.citation_name for party in metadata.creators))) or publisher
    year = metadata.pub_date.year if metadata.pub_date else ""
    return f"{names} ({year}). {metadata.title}. Sampling event dataset published by {publisher}." + (
        f" {metadata.homepage}" if metadata.homepage else ""
    )


def dataset_metadata(context: ExportContext, today: datetime.date | None = None) -> DatasetMetadata:
    project, additions = context.project, context.additions
    published = context.published_occurrences()
    counts = {
        "deployments": len(context.deployments),
        "sessions": context.sessions().count(),
        "captures": context.captures().count(),
        "occurrences": published.count(),
    }
    verified = (
        Identification.objects.filter(occurrence__in=published, withdrawn=False).values("occurrence").distinct().count()
    )
    now = datetime.datetime.now()
    # The export time, recorded as the EML's dateStamp (the data files stay the same between exports).
    stamp = None if today else datetime.datetime.now(datetime.UTC)
    name = publisher_name(project)
    publisher = Party(organisation=name, online_url=additions.homepage)
    description = [p.strip() for p in (project.description or "").split("\n\n") if p.strip()]
    taxa = _taxonomic(context)
    orders = sorted(taxon.name for taxon in taxa if taxon.rank == "order")
    metadata = DatasetMetadata(
        package_id=f"{project.uuid}/{now:%Y%m%dT%H%M%S}",
        title=additions.title or project.name,
        abstract=_abstract(additions.abstract or description, counts, context.subset and context.subset.describe()),
        pub_date=today or now.date(),
        date_stamp=stamp,
        creators=additions.creators or [publisher],
        contacts=additions.contacts
        or [Party(organisation=name, position="Data manager", online_url=additions.homepage)],
        metadata_providers=additions.metadata_providers or [publisher],
        associated_parties=additions.associated_parties,
        keyword_sets=[
            KeywordSet(["Samplingevent"], DATASET_TYPE_THESAURUS),
            KeywordSet([*orders, *THEMES]),
            *additions.keyword_sets,
        ],
        licence=context.licence,
        rights_holder=project.rights_holder,
        homepage=additions.homepage,
        purpose=additions.purpose,
        geographic_coverage=_geographic(context),
        temporal_coverage=_temporal(context),
        taxonomic_coverage=taxa,
        methods=_methods(context, counts, verified),
        project=_project(context, publisher),
    )
    metadata.citation = additions.citation or _citation(metadata, name)
    metadata.citation_identifier = additions.citation_identifier or additions.homepage
    return metadata
