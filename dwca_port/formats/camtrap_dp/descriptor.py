"""datapackage.json of a Camtrap DP package, from the same dataset description as the DwC-A's
eml.xml (dwca_port/dataset.py, with the publisher's additions), so the two say the same."""

from __future__ import annotations

import datetime

from django.db.models import Max, Min

from ami.main.models import Classification, Taxon
from dwca_port.eml import DatasetMetadata, Party
from dwca_port.tables import Table
from dwca_port.tables.camtrap.common import CAPTURE_METHOD, PROFILE_URL, packaged_media
from dwca_port.tables.camtrap.observations import LEVELS
from dwca_port.tables.context import ExportContext
from dwca_port.tables.darwin_core.occurrence import RANK_TERMS, taxon_cells

# Stations are placed where the moths of interest are expected (Camtrap DP's vocabulary).
SAMPLING_DESIGN = "targeted"
# The profile's taxonRank vocabulary; other ranks (tribe, subfamily...) are left out of the entry.
CAMTRAP_RANKS = ("kingdom", "phylum", "class", "order", "family", "genus", "species", "subspecies")
# EML roles that have a Camtrap DP counterpart; every other party is a contributor.
ROLES = {"pointOfContact": "contact", "principalInvestigator": "principalInvestigator", "publisher": "publisher"}


def _contributor(party: Party, role: str) -> dict:
    orcid = next((f"{uid.directory}{uid.value}" for uid in party.user_ids if uid.value), None)
    entry = {"title": party.citation_name or party.organisation, "role": role}
    if party.organisation and party.organisation != entry["title"]:
        entry["organization"] = party.organisation
    if orcid or party.online_url:
        entry["path"] = orcid or party.online_url
    return entry


def contributors(metadata: DatasetMetadata) -> list[dict]:
    """The EML's parties, each once (first role wins): contacts, creators, the rights holder."""
    found: list[dict] = []
    parties = [
        *((party, "contact") for party in metadata.contacts),
        *((party, "principalInvestigator") for party in metadata.creators),
        *((party, ROLES.get(party.role, "contributor")) for party in metadata.associated_parties),
    ]
    if metadata.rights_holder:
        parties.append((Party(organisation=metadata.rights_holder), "rightsHolder"))
    if metadata.publisher:
        parties.append((metadata.publisher, "publisher"))
    for party, role in parties:
        entry = _contributor(party, role)
        if entry["title"] and all(entry["title"] != other["title"] for other in found):
            found.append(entry)
    return found


def taxonomic(context: ExportContext) -> list[dict]:
    """Every name observations.csv can hold: the published determinations and the taxa proposed
    by the classifications of their detections (a superset of each detection's top one)."""
    published = context.published_occurrences()
    proposed = Classification.objects.filter(
        detection__occurrence__in=published, detection__source_image__in=packaged_media(context)
    )
    taxa = Taxon.objects.filter(pk__in=published.values("determination_id")) | Taxon.objects.filter(
        pk__in=proposed.values("taxon_id")
    )
    entries = {}
    for taxon in taxa.distinct():
        cells = taxon_cells(taxon)
        entry = {"scientificName": taxon.name}
        if cells["taxonID"]:
            entry["taxonID"] = cells["taxonID"]
        if cells["taxonRank"] in CAMTRAP_RANKS:
            entry["taxonRank"] = cells["taxonRank"]
        entry |= {rank: cells[rank] for rank in RANK_TERMS if cells[rank] and rank != cells["taxonRank"]}
        if taxon.common_name_en:
            entry["vernacularNames"] = {"eng": taxon.common_name_en}
        entries.setdefault(taxon.name, entry)
    return [entries[name] for name in sorted(entries)]


def spatial(metadata: DatasetMetadata) -> dict:
    """The stations' bounding box as a GeoJSON polygon (a point when there is one station)."""
    box = metadata.geographic_coverage
    if box.west == box.east and box.south == box.north:
        return {"type": "Point", "coordinates": [box.west, box.south]}
    ring = [[box.west, box.south], [box.east, box.south], [box.east, box.north], [box.west, box.north]]
    return {"type": "Polygon", "bbox": [box.west, box.south, box.east, box.north], "coordinates": [[*ring, ring[0]]]}


def temporal(context: ExportContext) -> dict:
    """From the first to the last packaged capture (local dates)."""
    span = packaged_media(context).aggregate(first=Min("timestamp"), last=Max("timestamp"))
    return {"start": span["first"].date().isoformat(), "end": span["last"].date().isoformat()}


def package_descriptor(
    context: ExportContext, metadata: DatasetMetadata, tables: tuple[Table, ...], created: datetime.datetime
) -> dict:
    """The descriptor; the caller checks there is a licence and a located station first."""
    project = context.project
    licence = metadata.licence
    description = "\n\n".join(metadata.abstract)
    keywords = sorted({word for keyword_set in metadata.keyword_sets[1:] for word in keyword_set.keywords})
    described = metadata.project
    descriptor = {
        "resources": [
            {
                "name": table.file.removesuffix(".csv"),
                "path": table.file,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": table.row_type,
            }
            for table in tables
        ],
        "profile": PROFILE_URL,
        "name": f"antenna-project-{project.uuid}",
        "id": str(project.uuid),
        "created": created.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "title": metadata.title,
        "contributors": contributors(metadata),
        "description": description,
        "keywords": keywords,
        "licenses": [
            {"name": licence.spdx_id, "path": licence.url, "title": licence.title, "scope": scope}
            for scope in ("data", "media")
        ],
        "bibliographicCitation": metadata.citation,
        "project": {
            "id": described.identifier or str(project.uuid),
            "title": described.title,
            "description": described.design_description or described.title,
            "samplingDesign": SAMPLING_DESIGN,
            "captureMethod": [CAPTURE_METHOD],
            "individualAnimals": False,
            "observationLevel": list(LEVELS),
        },
        "spatial": spatial(metadata),
        "temporal": temporal(context),
        "taxonomic": taxonomic(context),
    }
    if metadata.homepage:
        descriptor["homepage"] = metadata.homepage
        descriptor["project"]["path"] = metadata.homepage
    return descriptor
