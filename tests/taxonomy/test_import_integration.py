"""The reconciliation engine inside `import_project` and `reconcile_taxa` (SQLite by default,
PostgreSQL with DATABASE_URL).

The demo project is exported once per module (in a rolled-back transaction), with three taxa the
target names differently: "Cenopis niveana" (the target holds its accepted name, Sparganothis
niveana), "Olethreutes lacunanum" (the target spells it Olethreutes lacunana) and a species whose
Backbone key differs from the target's. Each test builds the target taxonomy (every other archived
taxon by name, new UUIDs) in an otherwise empty database and imports the archive: through the
local moth checklist, through the loopback GBIF replay server, or with a policy that refuses.
"""

from __future__ import annotations

import csv
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from ami.main.models import Occurrence, Project, Taxon, TaxonRank
from dwca_port.importer import ImportOptions, ImportRefused, import_project
from dwca_port.taxonomy.checklists import BACKBONE
from dwca_port.taxonomy.options import TaxaSettings
from tests.portability.helpers import table_counts

pytestmark = pytest.mark.django_db

SYNONYM, ACCEPTED = "Cenopis niveana", "Sparganothis niveana"
VARIANT, SPELLED = "Olethreutes lacunanum", "Olethreutes lacunana"
ARCHIVE_KEY, TARGET_KEY = "1111111", "2222222"


class _Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def archive(django_db_setup, django_db_blocker, tmp_path_factory) -> dict:
    """The demo's export with the three differing taxa, and what the target needs to know of it."""
    from ami.main.demo import load_demo_project
    from dwca_port.export import export_project

    path = tmp_path_factory.mktemp("archive") / "demo.zip"
    info = {}
    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                project = load_demo_project()
                used = set(Taxon.objects.filter(occurrences__project=project))
                used |= set(Taxon.objects.filter(classifications__detection__source_image__project=project))
                for species_list in project.taxa_lists.all():  # keep the archive's taxa few: a fast test
                    species_list.taxa.set([t for t in species_list.taxa.all() if t in used])
                order = Taxon.objects.get(name="Lepidoptera")
                family, _ = Taxon.objects.get_or_create(
                    name="Tortricidae", defaults={"rank": TaxonRank.FAMILY, "parent": order}
                )
                for genus_name, species_name in (("Cenopis", SYNONYM), ("Olethreutes", VARIANT)):
                    genus, _ = Taxon.objects.get_or_create(
                        name=genus_name, defaults={"rank": TaxonRank.GENUS, "parent": family}
                    )
                    species, _ = Taxon.objects.get_or_create(
                        name=species_name, defaults={"rank": TaxonRank.SPECIES, "parent": genus}
                    )
                    project.taxa.add(species)
                keyed = (
                    Taxon.objects.filter(occurrences__project=project, rank=TaxonRank.SPECIES).order_by("name").first()
                )
                Taxon.objects.filter(pk=keyed.pk).update(gbif_key=ARCHIVE_KEY, gbif_checklist_key=BACKBONE)
                Taxon.objects.update_all_calculated_fields()
                export_project(project, path, profile="full")
                info["keyed"] = keyed.name
                raise _Rollback
        except _Rollback:
            pass
    info["path"] = path
    return info


def build_target(archive: dict, leave_out: tuple[str, ...] = ()) -> None:
    """The target: every archived taxon by name (new UUIDs, no keys) except the differing ones and
    `leave_out`, plus the accepted name, the other spelling and the other key."""
    wanted = {}
    for row in _taxon_rows(archive["path"]):
        wanted[row["name"]] = (row["rank"], row["parent"])
    skip = {SYNONYM, VARIANT, "Cenopis", *leave_out}
    taxa = {}
    for name, (rank, _) in wanted.items():
        if name not in skip:
            taxa[name] = Taxon(name=name, rank=rank)
    taxa[ACCEPTED] = Taxon(name=ACCEPTED, rank=TaxonRank.SPECIES)
    taxa["Sparganothis"] = Taxon(name="Sparganothis", rank=TaxonRank.GENUS)
    taxa[SPELLED] = Taxon(name=SPELLED, rank=TaxonRank.SPECIES)
    Taxon.objects.bulk_create(taxa.values())
    taxa = {t.name: t for t in Taxon.objects.all()}
    parents = {name: parent for name, (_, parent) in wanted.items()}
    parents.update({ACCEPTED: "Sparganothis", "Sparganothis": "Tortricidae", SPELLED: "Olethreutes"})
    linked = []
    for name, taxon in taxa.items():
        parent = parents.get(name)
        if parent in taxa:
            taxon.parent = taxa[parent]
            linked.append(taxon)
    Taxon.objects.bulk_update(linked, ["parent"])
    Taxon.objects.filter(name=archive["keyed"]).update(gbif_key=TARGET_KEY, gbif_checklist_key=BACKBONE)
    Taxon.objects.update_all_calculated_fields()


def _taxon_rows(path) -> list[dict]:
    """The archive's taxon rows: name, rank and the parent's name."""
    from tests.portability.helpers import column

    member = "antenna_taxon.txt"
    uuids = column(path, member, "taxonID")
    names = column(path, member, "name")
    ranks = column(path, member, "rank")
    parent_ids = column(path, member, "parentID")
    by_uuid = dict(zip(uuids, names))
    return [{"name": n, "rank": r, "parent": by_uuid.get(p)} for n, r, p in zip(names, ranks, parent_ids)]


def _import(archive, **taxa):
    options = ImportOptions(create_missing_users=True, taxa=TaxaSettings(**taxa) if taxa else None)
    return import_project(archive["path"], options)


def _decisions(report) -> dict[str, dict]:
    return {entry["name"]: entry for entry in report.taxa}


def _checklist(moth_index_path) -> dict:
    return {"checklist": str(moth_index_path)}


def test_local_checklist_maps_synonym_variant_and_other_key(archive, moth_index_path):
    build_target(archive)
    before = Taxon.objects.count()
    report = _import(archive, policy="match", **_checklist(moth_index_path))
    decisions = _decisions(report)
    assert decisions[SYNONYM]["target"] == ACCEPTED and decisions[SYNONYM]["decision"] == "synonym"
    assert decisions[VARIANT]["target"] == SPELLED and decisions[VARIANT]["decision"] == "fuzzy"
    assert decisions[VARIANT]["confidence"] >= 90
    assert decisions[archive["keyed"]]["decision"] == "name"
    assert "key" in decisions[archive["keyed"]]["divergence"]
    # Only the archived genus Cenopis is new; everything else mapped onto the target's taxa.
    assert Taxon.objects.count() == before + 1
    assert not Taxon.objects.filter(name__in=[SYNONYM, VARIANT]).exists()
    assert Taxon.objects.get(name="Cenopis").parent.name == "Tortricidae"
    assert report.models["main.Taxon"].created == 1
    assert report.models["main.Taxon"].skipped == len(report.taxa) - 1
    assert "1 created" in report.taxa_summary and "as synonyms" in report.taxa_summary
    # Project rows point at the mapped taxa; the project's taxa include the accepted name.
    project = Project.objects.get()
    assert project.taxa.filter(name=ACCEPTED).exists() and project.taxa.filter(name=SPELLED).exists()
    assert Occurrence.objects.filter(project=project, determination__name=archive["keyed"]).exists()
    assert Taxon.objects.get(name=archive["keyed"]).gbif_key == TARGET_KEY  # the target's own is kept


def test_replayed_gbif_api_maps_the_synonym(archive, replay, tmp_path):
    replay.unknown = "none"  # names GBIF was never asked about (genera of the demo) get its NONE answer
    build_target(archive)
    report = _import(
        archive,
        policy="match",
        checklist="backbone",
        gbif_url=f"{replay.url}/v1",
        matcher_options={"cache_path": tmp_path / "cache.sqlite", "max_requests_per_second": 0},
    )
    decisions = _decisions(report)
    assert decisions[SYNONYM]["target"] == ACCEPTED
    assert decisions[VARIANT]["target"] == SPELLED and decisions[VARIANT]["confidence"] == 95
    assert 0 < replay.match_requests <= 5  # only the names the target does not hold are asked
    assert "Matcher: GBIF" in report.taxa_summary


def test_network_failure_mid_import_writes_nothing(archive, replay, tmp_path):
    replay.unknown = "none"
    build_target(archive, leave_out=("Tortricidae",))  # more names to ask
    before = table_counts()
    replay.fail("503", after=1)
    with pytest.raises(
        ImportRefused, match=r"^taxa: the matcher is unavailable .*nothing|^taxa: the matcher is unavailable"
    ) as raised:
        _import(
            archive,
            policy="match",
            checklist="backbone",
            gbif_url=f"{replay.url}/v1",
            matcher_options={
                "cache_path": tmp_path / "cache.sqlite",
                "max_requests_per_second": 0,
                "retries": 1,
                "backoff": 0.01,
            },
        )
    assert "\n" not in str(raised.value)
    assert replay.match_requests >= 2
    assert table_counts() == before


def test_strict_policy_refuses_cleanly(archive, moth_index_path):
    build_target(archive, leave_out=("Tortricidae",))
    before = table_counts()
    with pytest.raises(ImportRefused) as raised:
        _import(archive, policy="strict", **_checklist(moth_index_path))
    message = str(raised.value)
    assert message.startswith("taxa: ") and "cannot be mapped" in message and "Cenopis" in message
    assert "\n" not in message
    assert table_counts() == before


def test_strict_command_refuses_with_one_line(archive, moth_index_path):
    build_target(archive, leave_out=("Tortricidae",))
    before = table_counts()
    with pytest.raises(CommandError) as raised:
        call_command(
            "import_project",
            str(archive["path"]),
            "--create-missing-users",
            "--quiet",
            "--taxa=strict",
            "--checklist",
            str(moth_index_path),
        )
    assert str(raised.value).startswith("import refused, nothing was written: taxa: ")
    assert table_counts() == before


def test_import_command_prints_the_taxa_summary(archive, moth_index_path, capsys):
    build_target(archive)
    call_command(
        "import_project", str(archive["path"]), "--create-missing-users", "--quiet", "--checklist", str(moth_index_path)
    )
    out = capsys.readouterr().out
    assert "taxa: " in out and "--taxa=match" in out and "as synonyms" in out and "1 created" in out


def test_gbif_policy_without_checklist_is_refused(archive):
    build_target(archive)
    before = table_counts()
    with pytest.raises(ImportRefused, match="--taxa=gbif needs a matcher"):
        _import(archive, policy="gbif")
    assert table_counts() == before


def test_reconcile_taxa_reports_and_writes_nothing(archive, moth_index_path, tmp_path, capsys):
    build_target(archive)
    before = table_counts()
    csv_path, json_path = tmp_path / "taxa.csv", tmp_path / "taxa.json"
    call_command(
        "reconcile_taxa",
        str(archive["path"]),
        "--checklist",
        str(moth_index_path),
        "--report",
        str(csv_path),
        "--quiet",
    )
    out = capsys.readouterr().out
    assert "archived taxa (--taxa=match)" in out and "as synonyms" in out and "as spelling variants" in out
    assert f"Report: {csv_path}" in out
    with open(csv_path, newline="") as handle:
        by_name = {row["archived_name"]: row for row in csv.DictReader(handle)}
    assert by_name[SYNONYM]["target_name"] == ACCEPTED and by_name[SYNONYM]["method"] == "synonym"
    assert by_name[VARIANT]["method"] == "fuzzy" and int(by_name[VARIANT]["confidence"]) >= 90
    assert by_name["Cenopis"]["outcome"] == "created"
    assert "key" in by_name[archive["keyed"]]["divergences"]
    call_command(
        "reconcile_taxa",
        str(archive["path"]),
        "--checklist",
        str(moth_index_path),
        "--report",
        str(json_path),
        "--quiet",
    )
    document = json.loads(json_path.read_text())
    assert document["counts"]["created"] == 1 and document["to_create"][0]["name"] == "Cenopis"
    assert table_counts() == before


def test_reconcile_taxa_strict_exits_1(archive, moth_index_path, capsys):
    build_target(archive)
    with pytest.raises(CommandError) as raised:
        call_command(
            "reconcile_taxa", str(archive["path"]), "--taxa=strict", "--checklist", str(moth_index_path), "--quiet"
        )
    assert raised.value.returncode == 1
    assert "would be refused" in str(raised.value)
    assert "refused Cenopis" in capsys.readouterr().out


def test_reconcile_taxa_clear_errors(archive, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("reconcile_taxa", str(tmp_path / "missing.zip"))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("reconcile_taxa", str(archive["path"]), "--checklist", str(tmp_path / "nope.zip"), "--quiet")
    with pytest.raises(CommandError, match=r"\.csv or \.json"):
        call_command("reconcile_taxa", str(archive["path"]), "--report", str(tmp_path / "taxa.txt"))
