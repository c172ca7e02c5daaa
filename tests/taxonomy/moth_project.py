"""The end-to-end taxonomy measurement: archive in, occurrences on accepted keys out.

A project whose occurrences, classifications and identifications name real moths (names of the
moth fixture, each with GBIF's real v1 answer) is exported as a full archive, then imported into
a target that holds GBIF's accepted names for a subset of them, through the loopback GBIF
replaying those answers. Where every occurrence lands is then read from the database: the
accepted taxon of its determination (the target's `synonym_of` followed) and that taxon's
Backbone key, against GBIF's accepted key for the archived name.

Used by tests/taxonomy/test_end_to_end.py (a few hundred names, on SQLite and PostgreSQL) and
bench/reconcile.py (every name).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models import OuterRef, Subquery

from ami.main.models import Classification, Identification, Occurrence, Taxon, TaxonRank
from ami.main.synthetic import SyntheticSpec, seed_synthetic_project
from dwca_port.export import export_project
from dwca_port.importer import ImportOptions, import_project
from dwca_port.taxonomy.checklists import BACKBONE, legacy_key
from dwca_port.taxonomy.names import normalize_spaces
from dwca_port.taxonomy.options import TaxaSettings

from .gbif_replay import load_moth_rows

LEPIDOPTERA = (("KINGDOM", "Animalia"), ("PHYLUM", "Arthropoda"), ("CLASS", "Insecta"), ("ORDER", "Lepidoptera"))
ROWS = load_moth_rows()


def _duplicate_accepted_names() -> set[str]:
    """Accepted names the 2023 Backbone holds under two keys (Coleophora duplicis is 5120739 and
    6212392). Antenna names are unique, so every name GBIF sends there lands on one taxon with
    one key: counts per key cannot equal GBIF's for them, whatever the importer does."""
    keys: dict[str, set[str]] = {}
    for row in ROWS:
        if row["match_type"] in ("EXACT", "FUZZY") and row["accepted_taxon_key"] != "-1":
            keys.setdefault(row["gbif_species"], set()).add(row["accepted_taxon_key"])
    return {name for name, found in keys.items() if len(found) > 1}


DUPLICATE_ACCEPTED_NAMES = _duplicate_accepted_names()


def answered_rows() -> list[dict]:
    """The rows GBIF answered (MANUAL_SEARCH rows were curated by hand, not by GBIF), without the
    Backbone's duplicate accepted names."""
    return [
        r
        for r in ROWS
        if r["match_type"] != "MANUAL_SEARCH"
        and r["gbif_species"] not in DUPLICATE_ACCEPTED_NAMES
        and r["search_species"] not in DUPLICATE_ACCEPTED_NAMES
    ]


def expected_key(row: dict) -> str | None:
    """GBIF's accepted Backbone key for the archived name (None: GBIF gives it no species)."""
    if row["match_type"] in ("EXACT", "FUZZY") and row["accepted_taxon_key"] != "-1":
        return row["accepted_taxon_key"]
    return None


def category(row: dict) -> str:
    if expected_key(row) is None:
        return "unknown to GBIF"
    if row["status"] == "SYNONYM":
        return "synonym"
    return "spelling variant" if row["match_type"] == "FUZZY" else "exact"


@dataclass
class SourceProject:
    path: Path
    rows: dict[str, dict]  # archived name -> its moth-fixture row
    determinations: dict[str, str] = field(default_factory=dict)  # occurrence uuid -> archived name
    classifications: dict[str, str] = field(default_factory=dict)  # classification uuid -> archived name
    identifications: dict[str, str] = field(default_factory=dict)  # identification uuid -> archived name

    def source_counts(self) -> Counter:
        """Occurrences per accepted taxon in the source, synonyms collapsed as GBIF does:
        GBIF's accepted key, or the archived name where GBIF gives no species."""
        return Counter(expected_label(self.rows[name]) for name in self.determinations.values())


def expected_label(row: dict) -> str:
    key = expected_key(row)
    return f"key {key}" if key else f"name {normalize_spaces(row['search_species'])}"


def build_source_archive(rows: list[dict], path: Path, occurrences_per_name: int = 2) -> SourceProject:
    """Export a project naming these moths to `path` (full profile); nothing is kept in the
    database. Each name is a species under its genus, family and Lepidoptera, without keys (as
    a project named by people or a classifier carries them)."""
    source = SourceProject(path=path, rows={normalize_spaces(r["search_species"]): r for r in rows})
    names = list(source.rows)
    try:
        with transaction.atomic():
            project = seed_synthetic_project(
                SyntheticSpec(
                    images=len(names),
                    detections_per_image=occurrences_per_name,
                    occurrences=len(names) * occurrences_per_name,
                    identifications=len(names) * occurrences_per_name,
                    deployments=1,
                    nights_per_deployment=2,
                    taxa=len(names),
                    name="Moth names end to end",
                ),
                progress=None,
            )
            _rename_species(list(project.taxa.order_by("pk")), source.rows)
            _agree_with_determinations(project)
            source.determinations = _names_of(Occurrence.objects.filter(project=project), "determination__name")
            source.classifications = _names_of(
                Classification.objects.filter(detection__source_image__project=project), "taxon__name"
            )
            source.identifications = _names_of(
                Identification.objects.filter(occurrence__project=project), "taxon__name"
            )
            export_project(project, path, profile="full")
            raise _Rollback
    except _Rollback:
        pass
    return source


class _Rollback(Exception):
    pass


def _rename_species(species: list[Taxon], rows: dict[str, dict]) -> None:
    order = Taxon.objects.get(name="Lepidoptera")
    families, genera = {}, {}
    for taxon, (name, row) in zip(species, rows.items()):
        family = families.get(row["family"])
        if family is None:
            family = families[row["family"]] = Taxon.objects.get_or_create(
                name=row["family"], defaults={"rank": TaxonRank.FAMILY, "parent": order}
            )[0]
        genus_name = name.split(" ")[0]
        if genus_name not in genera:
            genera[genus_name] = Taxon.objects.get_or_create(
                name=genus_name, defaults={"rank": TaxonRank.GENUS, "parent": family}
            )[0]
        taxon.name, taxon.parent, taxon.rank = name, genera[genus_name], TaxonRank.SPECIES
    Taxon.objects.bulk_update(species, ["name", "parent", "rank"], batch_size=500)
    Taxon.objects.update_all_calculated_fields()


def _agree_with_determinations(project) -> None:
    """Every classification and identification names its occurrence's determination, so each
    archived name is referenced by all three kinds of row."""
    determination = Occurrence.objects.filter(pk=OuterRef("occurrence_id")).values("determination_id")[:1]
    Identification.objects.filter(occurrence__project=project).update(taxon_id=Subquery(determination))
    Classification.objects.filter(detection__source_image__project=project).update(
        taxon_id=Subquery(Occurrence.objects.filter(detections=OuterRef("detection_id")).values("determination_id")[:1])
    )


def _names_of(queryset, path: str) -> dict[str, str]:
    return {str(uuid): name for uuid, name in queryset.values_list("uuid", path)}


def build_target(rows: list[dict], share: float = 0.5, seed: int = 3, leave_out: tuple[str, ...] = ()) -> set[str]:
    """The target: Animalia..Lepidoptera, and GBIF's accepted name of a `share` of the rows (with
    its genus and family and upstream's integer Backbone key), never those in `leave_out`.
    Returns the accepted names held."""
    accepted = sorted({r["gbif_species"] for r in rows if expected_key(r)})
    held = set(random.Random(seed).sample(accepted, round(len(accepted) * share))) - set(leave_out)
    parent = None
    for rank, name in LEPIDOPTERA:
        parent = Taxon.objects.create(name=name, rank=rank, parent=parent)
    order, taxa = parent, {}
    for row in rows:
        name = row["gbif_species"]
        if name not in held or name in taxa:
            continue
        family = taxa.get(row["family"]) or Taxon.objects.create(
            name=row["family"], rank=TaxonRank.FAMILY, parent=order
        )
        genus = taxa.get(row["genus"]) or Taxon.objects.create(name=row["genus"], rank=TaxonRank.GENUS, parent=family)
        taxa.update({row["family"]: family, row["genus"]: genus})
        taxa[name] = Taxon.objects.create(
            name=name, rank=TaxonRank.SPECIES, parent=genus, gbif_taxon_key=int(row["accepted_taxon_key"])
        )
    Taxon.objects.update_all_calculated_fields()
    return held


def import_through_replay(source: SourceProject, replay_url: str, cache_path: Path, policy: str = "match"):
    options = ImportOptions(
        create_missing_users=True,
        taxa=TaxaSettings(
            policy=policy,
            checklist="backbone",
            gbif_url=f"{replay_url}/v1",
            matcher_options={"cache_path": cache_path, "max_requests_per_second": 0},
        ),
    )
    return import_project(source.path, options)


@dataclass
class Landing:
    """Where the archive's rows landed: per archived name and per occurrence."""

    names: dict[str, str | None]  # archived name -> accepted label its occurrences landed on (None: mixed)
    occurrences: dict[str, str]  # occurrence uuid -> accepted label
    classifications: dict[str, str]
    identifications: dict[str, str]

    def counts(self) -> Counter:
        return Counter(self.occurrences.values())


def landing(source: SourceProject) -> Landing:
    """Read back where every archived occurrence, classification and identification landed."""
    accepted = _accepted_labels()
    occurrences = _labels_of(Occurrence.objects.filter(uuid__in=list(source.determinations)), "determination", accepted)
    classifications = _labels_of(
        Classification.objects.filter(uuid__in=list(source.classifications)), "taxon", accepted
    )
    identifications = _labels_of(
        Identification.objects.filter(uuid__in=list(source.identifications)), "taxon", accepted
    )
    per_name: dict[str, set[str]] = {}
    for uuid, name in source.determinations.items():
        per_name.setdefault(name, set()).add(occurrences.get(uuid, "missing"))
    names = {name: (labels.pop() if len(labels) == 1 else None) for name, labels in per_name.items()}
    return Landing(names, occurrences, classifications, identifications)


def _accepted_labels() -> dict[int, str]:
    """Every taxon's accepted label: its accepted taxon's Backbone key, else that taxon's name."""
    rows = {
        pk: (name, synonym_of, key, checklist, legacy)
        for pk, name, synonym_of, key, checklist, legacy in Taxon._base_manager.values_list(
            "pk", "name", "synonym_of_id", "gbif_key", "gbif_checklist_key", "gbif_taxon_key"
        )
    }
    labels = {}
    for pk in rows:
        accepted, seen = pk, {pk}
        while rows[accepted][1] is not None and rows[accepted][1] not in seen:
            accepted = rows[accepted][1]
            seen.add(accepted)
        name, _, key, checklist, legacy = rows[accepted]
        backbone = legacy or legacy_key(checklist or (BACKBONE if (key or "").isdigit() else ""), key)
        labels[pk] = f"key {backbone}" if backbone else f"name {name}"
    return labels


def _labels_of(queryset, field_name: str, labels: dict[int, str]) -> dict[str, str]:
    return {str(uuid): labels.get(pk, "none") for uuid, pk in queryset.values_list("uuid", f"{field_name}_id")}


@dataclass
class Measurement:
    names_right: int
    names: int
    occurrences_right: int
    occurrences: int
    by_category: dict[str, tuple[int, int]]  # category -> (right, total)
    wrong: list[str]
    count_differences: list[str]

    def lines(self, label: str) -> list[str]:
        lines = [
            f"{label}: occurrences on GBIF's accepted key {self.occurrences_right}/{self.occurrences} "
            f"({100 * self.occurrences_right / self.occurrences:.2f}%); archived names "
            f"{self.names_right}/{self.names} ({100 * self.names_right / self.names:.2f}%)",
            "  " + "; ".join(f"{kind} {right}/{total}" for kind, (right, total) in sorted(self.by_category.items())),
            "  counts per accepted key equal the source's"
            if not self.count_differences
            else f"  counts per accepted key differ for {len(self.count_differences)}: "
            + "; ".join(self.count_differences[:5]),
        ]
        if self.wrong:
            lines.append(f"  {len(self.wrong)} names wrong: " + "; ".join(self.wrong[:10]))
        return lines


def measure(source: SourceProject, landed: Landing) -> Measurement:
    by_category: dict[str, list[int]] = {}
    wrong = []
    names_right = 0
    for name, row in source.rows.items():
        if name not in landed.names:
            continue  # a name no occurrence uses
        right = landed.names[name] == expected_label(row)
        names_right += right
        tally = by_category.setdefault(category(row), [0, 0])
        tally[0] += right
        tally[1] += 1
        if not right:
            wrong.append(f"{name}: expected {expected_label(row)}, landed on {landed.names[name]}")
    expected = {uuid: expected_label(source.rows[name]) for uuid, name in source.determinations.items()}
    occurrences_right = sum(1 for uuid, label in expected.items() if landed.occurrences.get(uuid) == label)
    ours, theirs = landed.counts(), source.source_counts()
    differences = [
        f"{label}: {theirs.get(label, 0)} in the source, {ours.get(label, 0)} here"
        for label in sorted(set(ours) | set(theirs))
        if ours.get(label, 0) != theirs.get(label, 0)
    ]
    return Measurement(
        names_right,
        len(landed.names),
        occurrences_right,
        len(expected),
        {kind: (right, total) for kind, (right, total) in by_category.items()},
        wrong,
        differences,
    )
