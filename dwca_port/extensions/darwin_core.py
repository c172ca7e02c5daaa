"""The Darwin Core tables GBIF and the IPT know, in both profiles.

- event.txt (Event core): the project's root event, one event per deployment, one per capture
  session (parentEventID links them).
- occurrence.txt (Occurrence): the occurrences the project's default filters publish.
- humboldt.txt (Humboldt eco:Event): sampling effort and scope, in its own file because GBIF reads
  eco: terms only from the extension.
- measurementorfact.txt (OBIS extended MeasurementOrFact): scores and bounding boxes, with
  occurrenceID.
- multimedia.txt (GBIF Simple Multimedia): captures and detection crops that have a URL.

These tables are computed views of the data (a model's lossless home is its Antenna table);
each declares its columns and a `rows(context)` generator yielding the cells in column order.
"""
from __future__ import annotations

import functools
import mimetypes
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.db.models import Count, Max, Min

from dwca_port.extensions.base import DCTERMS, DWC, ECO, GBIF, OBIS, Column, Kind, Table
from dwca_port.values import canonical_json, format_float, with_offset

if TYPE_CHECKING:
    from dwca_port.export import ExportContext

EVENT = DWC + "Event"
OCCURRENCE = DWC + "Occurrence"
CHUNK = 2000

SAMPLING_PROTOCOL = "Automated light trap with a time-lapse camera; insects detected and classified by machine learning (Antenna)"
MACHINE_STATUS = "0"  # HISPID/ABCD: not verified (a machine prediction)
HUMAN_STATUS = "verified by expert"  # a project identifier confirmed or set the name
EVENT_TYPES = ("Project", "Survey", "Sample")  # root, deployment, capture session


def _interval(start, end) -> str | None:
    if start is None:
        return None
    if end is None or end == start:
        return with_offset(start)
    return f"{with_offset(start)}/{with_offset(end)}"


def _decimal(value) -> str | None:
    return None if value is None else format_float(float(value))


def _hours(start, end) -> str | None:
    if start is None or end is None:
        return None
    return format_float(round((end - start).total_seconds() / 3600, 2))


# -- Event core ---------------------------------------------------------------------------------

EVENT_COLUMNS = (
    Column(DWC + "eventID", Kind.UUID, required=True, unique=True, doc="UUID of the project, deployment or session."),
    Column(DWC + "parentEventID", Kind.UUID, references=EVENT, doc="The deployment of a session; the project of a deployment."),
    Column(DWC + "eventType", Kind.TEXT, required=True, vocabulary=EVENT_TYPES,
           doc="Project (root), Survey (deployment) or Sample (capture session)."),
    Column(DWC + "eventDate", Kind.EVENT_DATE, doc="First to last capture, local time with UTC offset."),
    Column(DWC + "samplingProtocol", Kind.TEXT, required=True),
    Column(DWC + "sampleSizeValue", Kind.DECIMAL, doc="Duration of a session in hours."),
    Column(DWC + "sampleSizeUnit", Kind.TEXT, doc="hour"),
    Column(DWC + "samplingEffort", Kind.TEXT, doc="Captures taken (and nights, for a deployment)."),
    Column(DWC + "locationID", Kind.UUID, doc="UUID of the research site (else of the deployment): one per place."),
    Column(DWC + "locality", Kind.TEXT, doc="Site name, else deployment name."),
    Column(DWC + "decimalLatitude", Kind.DECIMAL),
    Column(DWC + "decimalLongitude", Kind.DECIMAL),
    Column(DWC + "geodeticDatum", Kind.TEXT, doc="WGS84 when coordinates are given."),
    Column(DWC + "eventRemarks", Kind.TEXT, doc="Deployment description."),
    Column(DCTERMS + "license", Kind.URI, doc="The dataset licence."),
    Column(DCTERMS + "rightsHolder", Kind.TEXT),
)


def event_rows(context: ExportContext) -> Iterator[list]:
    from ami.main.models import Event, SourceImage

    project = context.project
    licence, holder = context.licence_url, project.rights_holder or None
    captures = SourceImage.objects.filter(project=project)
    span = captures.aggregate(first=Min("timestamp"), last=Max("timestamp"), n=Count("pk"))
    yield [str(project.uuid), None, "Project", _interval(span["first"], span["last"]), SAMPLING_PROTOCOL, None, None,
           f"{span['n']} captures" if span["n"] else None, None, None, None, None, None, None, licence, holder]

    per_deployment = {
        row["deployment"]: row
        for row in captures.values("deployment").annotate(first=Min("timestamp"), last=Max("timestamp"), n=Count("pk"),
                                                          nights=Count("event", distinct=True))
    }
    places = {}
    for deployment in context.deployments():
        stats = per_deployment.get(deployment.pk, {})
        site = deployment.research_site
        located = deployment.latitude is not None and deployment.longitude is not None
        place = [str(site.uuid if site else deployment.uuid), site.name if site else deployment.name,
                 _decimal(deployment.latitude), _decimal(deployment.longitude), "WGS84" if located else None]
        places[deployment.pk] = place
        effort = f"{stats['n']} captures over {stats['nights']} nights" if stats.get("n") else None
        yield [str(deployment.uuid), str(project.uuid), "Survey", _interval(stats.get("first"), stats.get("last")),
               SAMPLING_PROTOCOL, None, None, effort, *place, deployment.description or None, licence, holder]

    sessions = Event.objects.filter(project=project).order_by("uuid").annotate(n=Count("captures"))
    for event in sessions.iterator(chunk_size=CHUNK):
        place = places.get(event.deployment_id, [None] * 5)
        parent = context.deployment_uuids.get(event.deployment_id, project.uuid)
        hours = _hours(event.start, event.end)
        yield [str(event.uuid), str(parent), "Sample", _interval(event.start, event.end), SAMPLING_PROTOCOL,
               hours, "hour" if hours else None, f"{event.n} captures", *place, None, licence, holder]


# -- Occurrence ---------------------------------------------------------------------------------

RANK_TERMS = ("kingdom", "phylum", "class", "order", "family", "genus")

OCCURRENCE_COLUMNS = (
    Column(DWC + "eventID", Kind.UUID, required=True, references=EVENT, doc="The capture session (else deployment)."),
    Column(DWC + "occurrenceID", Kind.UUID, required=True, unique=True, doc="UUID of the occurrence."),
    Column(DWC + "basisOfRecord", Kind.TEXT, required=True, vocabulary=("MachineObservation",),
           doc="Always MachineObservation: a machine made the capture, even when a person verified the name."),
    Column(DWC + "occurrenceStatus", Kind.TEXT, required=True, vocabulary=("present",)),
    Column(DWC + "individualCount", Kind.INTEGER, doc="1: an occurrence is one individual."),
    Column(DWC + "scientificName", Kind.TEXT, required=True, doc="The determination, without qualifiers."),
    Column(DWC + "scientificNameAuthorship", Kind.TEXT),
    Column(DWC + "taxonRank", Kind.TEXT, doc="Lower-case rank of the determination."),
    *(Column(DWC + term, Kind.TEXT, doc=f"From the taxon's parent chain." if term != "kingdom" else
             "From the parent chain; Animalia when the chain stops below kingdom (Antenna monitors insects).")
      for term in RANK_TERMS),
    Column(DWC + "vernacularName", Kind.TEXT),
    Column(DWC + "identifiedBy", Kind.TEXT,
           doc="The classifier (name and version), or the role of the person who identified it: never a person's name."),
    Column(DWC + "dateIdentified", Kind.DATETIME, doc="When the classification or identification was made."),
    Column(DWC + "identificationVerificationStatus", Kind.TEXT, vocabulary=(MACHINE_STATUS, HUMAN_STATUS),
           doc=f"{MACHINE_STATUS!r}: machine prediction, not verified; {HUMAN_STATUS!r}: confirmed or set by a person."),
    Column(DWC + "identificationRemarks", Kind.TEXT),
    Column(DWC + "verbatimIdentification", Kind.TEXT, doc="The classifier's own label for its best detection."),
)


def _classification(taxon) -> list:
    chain = {parent["rank"].lower(): parent["name"] for parent in (taxon.parents_json or [])}
    chain[taxon.rank.lower()] = taxon.name
    chain.setdefault("kingdom", "Animalia")
    return [chain.get(term) for term in RANK_TERMS]


def occurrence_rows(context: ExportContext) -> Iterator[list]:
    for chunk in context.published_occurrence_chunks():
        evidence = context.evidence(chunk)
        for occurrence in chunk:
            taxon = occurrence.determination
            human = evidence.identifications.get(occurrence.pk)
            best = evidence.best.get(occurrence.pk)
            if human:
                by, when, status = human.role, human.created_at, HUMAN_STATUS
                remarks = "identified by a person" + (" agreeing with the machine" if human.agreed else "")
            elif best:
                by, when, status = best.algorithm, best.timestamp, MACHINE_STATUS
                remarks = f"classified by a machine with a degree of certainty of {round((occurrence.determination_score or 0) * 100)}%"
            else:
                by = when = status = remarks = None
            yield [
                str(context.core_event(occurrence)), str(occurrence.uuid), "MachineObservation", "present", "1",
                taxon.name, taxon.author or None, taxon.rank.lower(), *_classification(taxon),
                taxon.common_name_en or None, by, with_offset(when) if when else None, status, remarks,
                best.label if best else None,
            ]


# -- Humboldt -----------------------------------------------------------------------------------

HUMBOLDT_COLUMNS = (
    Column(DWC + "eventID", Kind.UUID, required=True, references=EVENT),
    Column(ECO + "targetTaxonomicScope", Kind.TEXT, doc="The project's include taxa (its default filter)."),
    Column(ECO + "excludedTaxonomicScope", Kind.TEXT, doc="The project's exclude taxa."),
    Column(ECO + "isAbsenceReported", Kind.BOOLEAN, doc="false: only what was detected is reported."),
    Column(ECO + "isAbundanceReported", Kind.BOOLEAN, doc="true: one occurrence per individual."),
    Column(ECO + "protocolNames", Kind.TEXT),
    Column(ECO + "samplingPerformedBy", Kind.TEXT, doc="The trap's device configuration."),
    Column(ECO + "isSamplingEffortReported", Kind.BOOLEAN),
    Column(ECO + "samplingEffortValue", Kind.DECIMAL, doc="Captures taken during the session."),
    Column(ECO + "samplingEffortUnit", Kind.TEXT, doc="captures"),
    Column(ECO + "eventDurationValue", Kind.DECIMAL),
    Column(ECO + "eventDurationUnit", Kind.TEXT, doc="hours"),
    Column(ECO + "hasVouchers", Kind.BOOLEAN),
    Column(ECO + "hasMaterialSamples", Kind.BOOLEAN),
)


def humboldt_rows(context: ExportContext) -> Iterator[list]:
    from ami.main.models import Event

    include = " | ".join(sorted(context.project.default_filters_include_taxa.values_list("name", flat=True))) or None
    exclude = " | ".join(sorted(context.project.default_filters_exclude_taxa.values_list("name", flat=True))) or None
    devices = {d.pk: d.device.name if d.device else None for d in context.deployments()}
    sessions = Event.objects.filter(project=context.project).order_by("uuid").annotate(n=Count("captures"))
    for event in sessions.iterator(chunk_size=CHUNK):
        hours = _hours(event.start, event.end)
        yield [str(event.uuid), include, exclude, "false", "true", SAMPLING_PROTOCOL, devices.get(event.deployment_id),
               "true", str(event.n), "captures", hours, "hours" if hours else None, "false", "false"]


# -- OBIS extended MeasurementOrFact ---------------------------------------------------------------

MEASUREMENT_COLUMNS = (
    Column(DWC + "eventID", Kind.UUID, required=True, references=EVENT),
    Column(DWC + "measurementID", Kind.TEXT, required=True, unique=True,
           doc="The occurrence's or detection's UUID with the measurement's name: stable."),
    Column(DWC + "occurrenceID", Kind.UUID, required=True, references=OCCURRENCE),
    Column(DWC + "measurementType", Kind.TEXT, required=True,
           vocabulary=("determination score", "bounding box", "detection score", "classification score")),
    Column(DWC + "measurementValue", Kind.TEXT, required=True),
    Column(DWC + "measurementUnit", Kind.TEXT),
    Column(DWC + "measurementDeterminedDate", Kind.DATETIME),
    Column(DWC + "measurementMethod", Kind.TEXT),
    Column(DWC + "measurementRemarks", Kind.TEXT),
)


def measurement_rows(context: ExportContext) -> Iterator[list]:
    for chunk in context.published_occurrence_chunks():
        evidence = context.evidence(chunk)
        for occurrence in chunk:
            event_id, occurrence_id = str(context.core_event(occurrence)), str(occurrence.uuid)
            best = evidence.best.get(occurrence.pk)
            if occurrence.determination_score is not None:
                yield [event_id, f"{occurrence_id}:determination-score", occurrence_id, "determination score",
                       format_float(occurrence.determination_score), None, None,
                       best.algorithm if best and occurrence.pk not in evidence.identifications else "human identification",
                       "Score of the occurrence's determination (1 for a human identification)."]
            for detection in evidence.detections.get(occurrence.pk, ()):
                detection_id = str(detection.uuid)
                when = with_offset(detection.timestamp) if detection.timestamp else None
                if detection.bbox is not None:
                    yield [event_id, f"{detection_id}:bbox", occurrence_id, "bounding box",
                           canonical_json(detection.bbox), "pixels", when,
                           detection.algorithm, "x1, y1, x2, y2 on the capture, origin top left"]
                if detection.detection_score is not None:
                    yield [event_id, f"{detection_id}:detection-score", occurrence_id, "detection score",
                           format_float(detection.detection_score), None, when, detection.algorithm, None]
                top = evidence.top_classification.get(detection.pk)
                if top is not None and top.score is not None:
                    yield [event_id, f"{detection_id}:classification-score", occurrence_id, "classification score",
                           format_float(top.score), None, with_offset(top.timestamp), top.algorithm,
                           f"top label: {top.label}"]


# -- Simple Multimedia ------------------------------------------------------------------------------

MULTIMEDIA_COLUMNS = (
    Column(DWC + "eventID", Kind.UUID, required=True, references=EVENT),
    Column(DCTERMS + "type", Kind.TEXT, required=True, vocabulary=("StillImage",)),
    Column(DCTERMS + "format", Kind.TEXT),
    Column(DCTERMS + "identifier", Kind.URI, required=True, unique=True, doc="Public URL of the capture or crop."),
    Column(DCTERMS + "title", Kind.TEXT),
    Column(DCTERMS + "created", Kind.DATETIME),
    Column(DCTERMS + "license", Kind.URI),
    Column(DCTERMS + "rightsHolder", Kind.TEXT),
)


@functools.cache
def _format_of_extension(extension: str) -> str | None:
    return mimetypes.guess_type("file" + extension)[0]


def _media_format(path: str) -> str | None:
    name = path.rsplit("/", 1)[-1]
    return _format_of_extension(name[name.rfind("."):].lower()) if "." in name else None


def multimedia_rows(context: ExportContext) -> Iterator[list]:
    from ami.main.models import Detection, SourceImage

    licence, holder = context.licence_url, context.project.rights_holder or None
    captures = (
        SourceImage.objects.filter(project=context.project)
        .exclude(public_base_url__isnull=True).exclude(public_base_url="")
        .order_by("uuid")
        .values_list("uuid", "public_base_url", "path", "timestamp", "event__uuid", "deployment__uuid")
    )
    for uuid, base, path, timestamp, event, deployment in captures.iterator(chunk_size=CHUNK):
        core = event or deployment or context.project.uuid
        url = f"{base.rstrip('/')}/{path.lstrip('/')}"
        yield [str(core), "StillImage", _media_format(path), url, path.rsplit("/", 1)[-1],
               with_offset(timestamp) if timestamp else None, licence, holder]
    crops = (
        Detection.objects.filter(source_image__project=context.project, path__regex=r"^https?://")
        .order_by("uuid")
        .values_list("path", "timestamp", "source_image__event__uuid", "source_image__deployment__uuid")
    )
    for path, timestamp, event, deployment in crops.iterator(chunk_size=CHUNK):
        core = event or deployment or context.project.uuid
        yield [str(core), "StillImage", _media_format(path), path, "Detection crop",
               with_offset(timestamp) if timestamp else None, licence, holder]


# Their PostgreSQL forms (the export's fast path) use the constants and helpers above.
from dwca_port.extensions import darwin_core_sql as sql  # noqa: E402

DARWIN_CORE_TABLES = (
    Table("event.txt", EVENT, EVENT_COLUMNS, core=True, identifier_term=DWC + "eventID", rows=event_rows,
          doc="Event core: the project, its deployments and capture sessions."),
    Table("occurrence.txt", OCCURRENCE, OCCURRENCE_COLUMNS, identifier_term=DWC + "occurrenceID",
          rows=occurrence_rows, sql=sql.occurrence_sql,
          doc="Occurrences published under the project's default filters."),
    Table("humboldt.txt", ECO + "Event", HUMBOLDT_COLUMNS, rows=humboldt_rows,
          doc="Humboldt extension: effort and taxonomic scope of each capture session."),
    Table("measurementorfact.txt", OBIS + "ExtendedMeasurementOrFact", MEASUREMENT_COLUMNS,
          identifier_term=DWC + "measurementID", rows=measurement_rows, sql=sql.measurement_sql,
          doc="Scores and bounding boxes of published occurrences and their detections."),
    Table("multimedia.txt", GBIF + "Multimedia", MULTIMEDIA_COLUMNS, rows=multimedia_rows, sql=sql.multimedia_sql,
          doc="Captures (and detection crops) that have a public URL."),
)
