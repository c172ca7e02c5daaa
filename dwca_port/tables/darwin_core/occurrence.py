"""occurrence.txt (Occurrence): the occurrences the project's default filters publish, each with
its determination, the taxon's classification and what supports it (tables/evidence.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from ami.main.models import Taxon
from dwca_port.postgres.cells import offset_datetime_sql as offset
from dwca_port.postgres.cells import text_sql
from dwca_port.tables.base import DWC, Column, Statement, Table, by_name
from dwca_port.tables.context import ExportContext
from dwca_port.tables.darwin_core.common import EVENT, OCCURRENCE, published_ctes
from dwca_port.values import Kind, with_offset

MACHINE_STATUS = "0"  # HISPID/ABCD: not verified (a machine prediction)
HUMAN_STATUS = "verified by expert"  # a project identifier confirmed or set the name
RANK_TERMS = ("kingdom", "phylum", "class", "order", "family", "genus")

# Each column's `sql` reads the query of occurrence_sql: occ (the occurrence), tx (its taxon's
# cells), h (its standing human identification), b (its best machine evidence).
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
            doc="From the taxon's parent chain."
            if term != "kingdom"
            else "From the parent chain; Animalia when the chain stops below kingdom (Antenna monitors insects).",
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
        doc="When the classification or identification was made.",
        sql=f"CASE WHEN {HUMAN} THEN {offset('h.created_at')} ELSE {offset('b.timestamp')} END",
    ),
    Column(
        DWC + "identificationVerificationStatus",
        Kind.TEXT,
        vocabulary=(MACHINE_STATUS, HUMAN_STATUS),
        doc=f"{MACHINE_STATUS!r}: machine prediction, not verified; {HUMAN_STATUS!r}: confirmed or set by a person.",
        sql=f"CASE WHEN {HUMAN} THEN '{HUMAN_STATUS}' WHEN {MACHINE} THEN '{MACHINE_STATUS}' END",
    ),
    Column(
        DWC + "identificationRemarks",
        Kind.TEXT,
        sql=f"CASE WHEN {HUMAN} THEN 'identified by a person' || CASE WHEN h.agreed THEN ' agreeing with the machine' "
        f"ELSE '' END WHEN {MACHINE} THEN 'classified by a machine with a degree of certainty of ' "
        "|| round(COALESCE(occ.determination_score, 0) * 100)::bigint::text || '%%' END",
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
    return {
        "scientificName": taxon.name,
        "scientificNameAuthorship": taxon.author or None,
        "taxonRank": taxon.rank.lower(),
        **{term: chain.get(term) for term in RANK_TERMS},
        "vernacularName": taxon.common_name_en or None,
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
                **taxon_cells(occurrence.determination),
            }
            human = evidence.identifications.get(occurrence.pk)
            best = evidence.best.get(occurrence.pk)
            if human:
                row.update(
                    identifiedBy=human.role,
                    dateIdentified=with_offset(human.created_at),
                    identificationVerificationStatus=HUMAN_STATUS,
                    identificationRemarks="identified by a person"
                    + (" agreeing with the machine" if human.agreed else ""),
                )
            elif best:
                certainty = round((occurrence.determination_score or 0) * 100)
                row.update(
                    identifiedBy=best.algorithm,
                    dateIdentified=with_offset(best.timestamp),
                    identificationVerificationStatus=MACHINE_STATUS,
                    identificationRemarks=f"classified by a machine with a degree of certainty of {certainty}%",
                )
            row["verbatimIdentification"] = best.label if best else None
            yield row


def _determination_taxa(context: ExportContext) -> str:
    """Every determination taxon's cells, as JSON rows (a few thousand taxa: computed in Python)."""
    taxa = Taxon.objects.filter(pk__in=context.published_occurrences().values("determination_id")).order_by("pk")
    cells = [{"id": taxon.pk, **taxon_cells(taxon)} for taxon in taxa]
    renamed = {
        "scientificName": "name",
        "scientificNameAuthorship": "author",
        "taxonRank": "rank",
        "vernacularName": "vernacular",
    }
    return json.dumps([{renamed.get(key, key): value for key, value in row.items()} for row in cells])


def occurrence_sql(context: ExportContext) -> list[Statement]:
    ctes, params = published_ctes(context)
    rank_columns = ", ".join(f'"{rank}" text' for rank in RANK_TERMS)
    sql = f"""
        WITH {ctes},
        taxa AS (SELECT * FROM jsonb_to_recordset(%s::jsonb)
                 AS x(id bigint, name text, author text, rank text, {rank_columns}, vernacular text))
        SELECT {", ".join(column.sql for column in COLUMNS)}
        FROM occ JOIN taxa tx ON tx.id = occ.determination_id
             LEFT JOIN human h ON h.occurrence_id = occ.id LEFT JOIN best b ON b.occurrence_id = occ.id
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
