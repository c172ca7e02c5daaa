"""occurrence.txt (Occurrence): the occurrences the project's default filters publish, each with
its own time and images, its determination, the taxon's classification and what supports it
(tables/evidence.py). The capture session stays the occurrence's event (its parent)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from ami.main.models import Taxon
from dwca_port.postgres.cells import offset_datetime_sql as offset
from dwca_port.postgres.cells import text_sql
from dwca_port.tables.base import DWC, Column, Statement, Table, by_name
from dwca_port.tables.context import ExportContext
from dwca_port.tables.darwin_core.common import (
    EVENT,
    OCCURRENCE,
    interval,
    moments,
    published_ctes,
    utc_instant,
    utc_instant_sql,
)
from dwca_port.tables.evidence import IS_URL_SQL, capture_url_sql
from dwca_port.values import Kind, local_instant, with_offset

# One vocabulary (HISPID's identification verification status), documented in the EML.
MACHINE_STATUS = "verification required"  # a machine prediction no person has checked
HUMAN_STATUS = "verified"  # a project identifier confirmed or set the name from the recorded images
RANK_TERMS = ("kingdom", "phylum", "class", "order", "family", "genus")
GBIF_TAXON = "https://www.gbif.org/species/"  # + a GBIF Backbone Taxonomy key
MEDIA_SEPARATOR = " | "  # Darwin Core's list separator (GBIF splits associatedMedia on "|")

# Antenna's taxon trees usually stop at the order. Above it, what every checklist agrees on for
# the orders a light trap catches; other orders keep phylum and class empty rather than guessed.
ARTHROPOD_CLASSES = {
    "Insecta": (
        "Lepidoptera Coleoptera Diptera Hymenoptera Hemiptera Trichoptera Neuroptera Ephemeroptera Orthoptera "
        "Plecoptera Odonata Blattodea Megaloptera Psocodea Mantodea Raphidioptera Mecoptera Dermaptera "
        "Thysanoptera Siphonaptera Phasmida Embioptera Strepsiptera Zygentoma Archaeognatha"
    ),
    "Arachnida": "Araneae Opiliones Pseudoscorpiones",
}
CLASS_OF_ORDER = {order: name for name, orders in ARTHROPOD_CLASSES.items() for order in orders.split()}

# Each column's `sql` reads the query of occurrence_sql: occ (the occurrence), tx (its taxon's
# cells), h (its standing human identification), b (its best machine evidence), m (the times and
# crops of its detections), c (its captures' URLs).
HUMAN = "h.occurrence_id IS NOT NULL"
MACHINE = "b.occurrence_id IS NOT NULL"

COLUMNS = (
    Column(
        DWC + "eventID",
        Kind.UUID,
        required=True,
        references=EVENT,
        doc="The capture session (else deployment).",
        sql="occ.event_id",
    ),
    Column(
        DWC + "occurrenceID", Kind.UUID, required=True, unique=True, doc="UUID of the occurrence.", sql="occ.uuid::text"
    ),
    Column(
        DWC + "basisOfRecord",
        Kind.TEXT,
        required=True,
        vocabulary=("MachineObservation",),
        doc="Always MachineObservation: a machine made the capture, even when a person verified the name.",
        sql="'MachineObservation'",
    ),
    Column(DWC + "occurrenceStatus", Kind.TEXT, required=True, vocabulary=("present",), sql="'present'"),
    Column(DWC + "individualCount", Kind.INTEGER, doc="1: an occurrence is one individual.", sql="'1'"),
    Column(
        DWC + "eventDate",
        Kind.EVENT_DATE,
        doc="First to last capture the individual was detected on, local time with UTC offset "
        "(one instant when they are the same).",
        sql=f"CASE WHEN m.first = m.last THEN {offset('m.first')} "
        f"ELSE {offset('m.first')} || '/' || {offset('m.last')} END",
    ),
    Column(
        DWC + "eventTime",
        Kind.TEXT,
        doc="The time part of eventDate: `00:15:59-04:00`, or `23:50:00-04:00/00:10:00-04:00`.",
        sql=f"CASE WHEN m.first = m.last THEN substr({offset('m.first')}, 12) "
        f"ELSE substr({offset('m.first')}, 12) || '/' || substr({offset('m.last')}, 12) END",
    ),
    Column(
        DWC + "associatedMedia",
        Kind.TEXT,
        doc="Public URLs of the detection crops, then of the captures, in time order, ` | `-separated.",
        sql=f"NULLIF(concat_ws('{MEDIA_SEPARATOR}', m.crops, c.captures), '')",
    ),
    Column(
        DWC + "taxonID",
        Kind.URI,
        doc=f"The determination's GBIF Backbone Taxonomy key as {GBIF_TAXON}<key>, when Antenna has one.",
        sql=text_sql("tx.taxon"),
    ),
    Column(
        DWC + "scientificName",
        Kind.TEXT,
        required=True,
        doc="The determination, without qualifiers.",
        sql=text_sql("tx.name"),
    ),
    Column(DWC + "scientificNameAuthorship", Kind.TEXT, sql=text_sql("tx.author")),
    Column(DWC + "taxonRank", Kind.TEXT, doc="Lower-case rank of the determination.", sql=text_sql("tx.rank")),
    *(
        Column(
            DWC + term,
            Kind.TEXT,
            sql=text_sql(f'tx."{term}"'),
            doc={
                "kingdom": "From the parent chain; Animalia when it stops below kingdom (Antenna monitors insects).",
                "phylum": "From the parent chain; else Arthropoda for the orders of a light trap's catch (see class).",
                "class": "From the parent chain; else Insecta or Arachnida for well-known orders; else empty.",
            }.get(term, "From the taxon's parent chain."),
        )
        for term in RANK_TERMS
    ),
    Column(DWC + "vernacularName", Kind.TEXT, sql=text_sql("tx.vernacular")),
    Column(
        DWC + "identifiedBy",
        Kind.TEXT,
        doc="The classifier (name and version), or the role of the person who identified it: never a person's name.",
        sql=text_sql(f"CASE WHEN {HUMAN} THEN h.role ELSE b.algorithm END"),
    ),
    Column(
        DWC + "dateIdentified",
        Kind.DATETIME,
        doc="When the classification or identification was made, in UTC (`2022-06-25T13:00:00Z`).",
        sql=f"CASE WHEN {HUMAN} THEN {utc_instant_sql('h.created_at')} ELSE {utc_instant_sql('b.timestamp')} END",
    ),
    Column(
        DWC + "identificationVerificationStatus",
        Kind.TEXT,
        vocabulary=(MACHINE_STATUS, HUMAN_STATUS),
        doc=f"HISPID vocabulary: `{MACHINE_STATUS}` for a machine prediction; `{HUMAN_STATUS}` for a name a "
        "project identifier confirmed or set from the recorded images.",
        sql=f"CASE WHEN {HUMAN} THEN '{HUMAN_STATUS}' WHEN {MACHINE} THEN '{MACHINE_STATUS}' END",
    ),
    Column(
        DWC + "identificationRemarks",
        Kind.TEXT,
        sql=f"CASE WHEN {HUMAN} THEN 'identified by a person' || CASE WHEN h.agreed THEN ' agreeing with the machine' "
        f"ELSE '' END WHEN {MACHINE} THEN 'classified by a machine' || CASE WHEN occ.determination_score "
        "BETWEEN 0 AND 1 THEN ' with a degree of certainty of ' || round(occ.determination_score * 100)::bigint::text "
        "|| '%%' ELSE '' END END",
    ),
    Column(
        DWC + "verbatimIdentification",
        Kind.TEXT,
        doc="The classifier's own label for its best detection.",
        sql=text_sql("b.label"),
    ),
)


def taxon_cells(taxon) -> dict[str, str | None]:
    """A determination's cells: name, authorship, rank and its classification from the parent chain."""
    chain = {parent["rank"].lower(): parent["name"] for parent in (taxon.parents_json or [])}
    chain[taxon.rank.lower()] = taxon.name
    chain.setdefault("kingdom", "Animalia")
    if chain.get("order") in CLASS_OF_ORDER and chain["kingdom"] == "Animalia":
        chain.setdefault("class", CLASS_OF_ORDER[chain["order"]])
        chain.setdefault("phylum", "Arthropoda")
    return {
        "taxonID": f"{GBIF_TAXON}{taxon.gbif_taxon_key}" if taxon.gbif_taxon_key else None,
        "scientificName": taxon.name,
        "scientificNameAuthorship": taxon.author or None,
        "taxonRank": taxon.rank.lower(),
        **{term: chain.get(term) for term in RANK_TERMS},
        "vernacularName": taxon.common_name_en or None,
    }


def _time(moment) -> str:
    return with_offset(moment)[11:]


def _when(moment) -> tuple:
    """A sort key in time order, untimed last."""
    return (True, 0) if moment is None else (False, local_instant(moment))


def seen(detections) -> dict[str, str | None]:
    """When and on which images an occurrence was seen: eventDate and eventTime from the first
    to the last capture of its detections; associatedMedia, their crops then their captures, each
    in time order (then by UUID)."""
    ordered = sorted(detections, key=lambda d: (*_when(d.capture.timestamp), d.uuid))
    times = [d.capture.timestamp for d in ordered if d.capture.timestamp is not None]
    captures = {d.capture.uuid: d.capture for d in ordered}
    shots = sorted(captures.values(), key=lambda c: (*_when(c.timestamp), c.uuid))
    media = [d.crop for d in ordered if d.crop] + [c.url for c in shots if c.url]
    first, last = (times[0], times[-1]) if times else (None, None)
    return {
        "eventDate": interval(first, last),
        "eventTime": "/".join(_time(moment) for moment in moments(first, last)) or None,
        "associatedMedia": MEDIA_SEPARATOR.join(media) or None,
    }


def rows(context: ExportContext) -> Iterator[dict]:
    for chunk in context.published_occurrence_chunks():
        evidence = context.evidence(chunk)
        for occurrence in chunk:
            row = {
                "eventID": str(context.core_event(occurrence)),
                "occurrenceID": str(occurrence.uuid),
                "basisOfRecord": "MachineObservation",
                "occurrenceStatus": "present",
                "individualCount": "1",
                **seen(evidence.detections.get(occurrence.pk, ())),
                **taxon_cells(occurrence.determination),
            }
            human = evidence.identifications.get(occurrence.pk)
            best = evidence.best.get(occurrence.pk)
            if human:
                row.update(
                    identifiedBy=human.role,
                    dateIdentified=utc_instant(human.created_at),
                    identificationVerificationStatus=HUMAN_STATUS,
                    identificationRemarks="identified by a person"
                    + (" agreeing with the machine" if human.agreed else ""),
                )
            elif best:
                score = occurrence.determination_score
                # A probability is stated as a percentage; any other score (none, out of range) is not.
                certainty = (
                    f" with a degree of certainty of {round(score * 100)}%"
                    if score is not None and 0 <= score <= 1
                    else ""
                )
                row.update(
                    identifiedBy=best.algorithm,
                    dateIdentified=utc_instant(best.timestamp),
                    identificationVerificationStatus=MACHINE_STATUS,
                    identificationRemarks=f"classified by a machine{certainty}",
                )
            row["verbatimIdentification"] = best.label if best else None
            yield row


def _determination_taxa(context: ExportContext) -> str:
    """Every determination taxon's cells, as JSON rows (a few thousand taxa: computed in Python)."""
    taxa = Taxon.objects.filter(pk__in=context.published_occurrences().values("determination_id")).order_by("pk")
    cells = [{"id": taxon.pk, **taxon_cells(taxon)} for taxon in taxa]
    renamed = {
        "scientificName": "name",
        "taxonID": "taxon",
        "scientificNameAuthorship": "author",
        "taxonRank": "rank",
        "vernacularName": "vernacular",
    }
    return json.dumps([{renamed.get(key, key): value for key, value in row.items()} for row in cells])


def occurrence_sql(context: ExportContext) -> list[Statement]:
    ctes, params = published_ctes(context)
    t = context.db_tables
    rank_columns = ", ".join(f'"{rank}" text' for rank in RANK_TERMS)
    sql = f"""
        WITH {ctes},
        taxa AS (SELECT * FROM jsonb_to_recordset(%s::jsonb)
                 AS x(id bigint, taxon text, name text, author text, rank text, {rank_columns}, vernacular text)),
        shots AS (
            SELECT d.occurrence_id, d.uuid, si.uuid AS capture, si.timestamp AS at,
                   CASE WHEN d.path {IS_URL_SQL} THEN d.path END AS crop, {capture_url_sql("si")} AS url
            FROM {t["detection"]} d JOIN pub ON pub.id = d.occurrence_id
                 JOIN {t["source_image"]} si ON si.id = d.source_image_id),
        m AS (
            SELECT occurrence_id, min(at) AS first, max(at) AS last,
                   string_agg(crop, '{MEDIA_SEPARATOR}' ORDER BY at NULLS LAST, uuid) AS crops
            FROM shots GROUP BY occurrence_id),
        c AS (
            SELECT occurrence_id, string_agg(url, '{MEDIA_SEPARATOR}' ORDER BY at NULLS LAST, capture) AS captures
            FROM (SELECT DISTINCT occurrence_id, capture, at, url FROM shots WHERE url IS NOT NULL) s
            GROUP BY occurrence_id)
        SELECT {", ".join(column.sql for column in COLUMNS)}
        FROM occ JOIN taxa tx ON tx.id = occ.determination_id
             LEFT JOIN human h ON h.occurrence_id = occ.id LEFT JOIN best b ON b.occurrence_id = occ.id
             LEFT JOIN m ON m.occurrence_id = occ.id LEFT JOIN c ON c.occurrence_id = occ.id
        ORDER BY occ.uuid
    """
    return [(sql, [*params, _determination_taxa(context)])]


TABLE = Table(
    "occurrence.txt",
    OCCURRENCE,
    COLUMNS,
    identifier_term=DWC + "occurrenceID",
    rows=by_name(COLUMNS, rows),
    sql=occurrence_sql,
    doc="Occurrences published under the project's default filters.",
)
