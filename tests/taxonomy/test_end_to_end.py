"""Archive in, occurrences on GBIF's accepted keys out (SQLite by default, PostgreSQL with
DATABASE_URL).

A project naming 350-odd real moths (every synonym, spelling variant and name GBIF does not know
in the moth fixture, and every 20th exact name) is exported once per module; each test imports it
into a target holding GBIF's accepted names for half of them, through the loopback GBIF replaying
the fixture's real v1 answers. `Acentria ephemerella` (EXACT, key 4531687) and `Ancylis geminana`
(the accepted name of the archived `Ancylis diminuatana`, key 5771236) are never in the target.
"""

from __future__ import annotations

import json
import time

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from ami.main.models import Classification, Identification, Occurrence, Taxon
from dwca_port.importer import ImportOptions, ImportRefused, import_project
from dwca_port.taxonomy.checklists import BACKBONE
from dwca_port.taxonomy.matchers import default_cache_path
from dwca_port.taxonomy.options import TaxaSettings
from tests.portability.helpers import table_counts

from .moth_project import (
    answered_rows,
    build_source_archive,
    build_target,
    expected_label,
    import_through_replay,
    landing,
    measure,
)

pytestmark = pytest.mark.django_db

MISSING_EXACT, MISSING_EXACT_KEY = "Acentria ephemerella", "4531687"
SYNONYM, ACCEPTED, ACCEPTED_KEY = "Ancylis diminuatana", "Ancylis geminana", "5771236"


def population() -> list[dict]:
    rows = answered_rows()
    hard = [r for r in rows if r["status"] == "SYNONYM" or r["match_type"] != "EXACT"]
    exact = [r for r in rows if r["status"] != "SYNONYM" and r["match_type"] == "EXACT"]
    chosen = hard + exact[::20]
    chosen += [r for r in exact if r["search_species"] == MISSING_EXACT and r not in chosen]
    return chosen


@pytest.fixture(scope="module")
def archive(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        return build_source_archive(population(), tmp_path_factory.mktemp("moths") / "moths.zip")


@pytest.fixture
def target(archive):
    return build_target(list(archive.rows.values()), leave_out=(MISSING_EXACT, ACCEPTED))


@pytest.fixture
def gbif(replay):
    replay.unknown = "none"  # genera and families of the archive: GBIF's NONE answer
    return replay


def _import(archive, gbif, tmp_path, policy="match"):
    return import_through_replay(archive, gbif.url, tmp_path / "cache.sqlite", policy=policy)


def _entry(report, name) -> dict:
    return next(entry for entry in report.taxa if entry["name"] == name)


def _keys(taxon) -> tuple:
    return taxon.gbif_key, taxon.gbif_checklist_key, taxon.gbif_taxon_key


def _backbone(key: str) -> tuple:
    """What a taxon carries for a Backbone key: the key, the checklist, upstream's integer field."""
    return key, BACKBONE, int(key)


def _landed_on(archive, name) -> set[str]:
    """Names of the taxa the rows that named `name` in the source now point at."""
    found = set()
    for model, field_name, source in (
        (Occurrence, "determination", archive.determinations),
        (Classification, "taxon", archive.classifications),
        (Identification, "taxon", archive.identifications),
    ):
        uuids = [uuid for uuid, archived in source.items() if archived == name]
        assert uuids, f"the source has no {model.__name__} naming {name}"
        found |= set(model.objects.filter(uuid__in=uuids).values_list(f"{field_name}__name", flat=True))
    return found


def test_exact_match_the_target_lacks_is_created_with_the_matchers_key(archive, target, gbif, tmp_path):
    report = _import(archive, gbif, tmp_path)
    taxon = Taxon.objects.get(name=MISSING_EXACT)
    assert _keys(taxon) == _backbone(MISSING_EXACT_KEY)
    entry = _entry(report, MISSING_EXACT)
    assert entry["outcome"] == "created" and entry["key"] == MISSING_EXACT_KEY and entry["confidence"] == 99
    assert str(taxon.uuid) == entry["uuid"]  # created from the archive: its UUID kept
    assert _landed_on(archive, MISSING_EXACT) == {MISSING_EXACT}


def test_synonym_whose_accepted_name_is_missing_lands_on_the_created_accepted_taxon(archive, target, gbif, tmp_path):
    report = _import(archive, gbif, tmp_path)
    accepted = Taxon.objects.get(name=ACCEPTED)
    assert _keys(accepted) == _backbone(ACCEPTED_KEY)
    assert [p["name"] for p in accepted.parents_json][-2:] == ["Tortricidae", "Ancylis"]
    synonym = Taxon.objects.get(name=SYNONYM)
    assert synonym.synonym_of == accepted and synonym.gbif_key is None
    entry = _entry(report, SYNONYM)
    assert str(synonym.uuid) == entry["uuid"]  # the archived name keeps its UUID, on the synonym
    assert (entry["decision"], entry["outcome"], entry["target"], entry["key"]) == (
        "synonym",
        "created",
        ACCEPTED,
        ACCEPTED_KEY,
    )
    assert f"recorded as a synonym of {ACCEPTED}" in entry["note"]
    # Every row that named the synonym (determinations, classifications, identifications) moved.
    assert _landed_on(archive, SYNONYM) == {ACCEPTED}
    assert "archived taxa land on accepted taxa created from the matcher's answer" in report.taxa_summary


def test_spelling_variants_whose_accepted_name_is_missing_are_kept_as_its_search_names(archive, target, gbif, tmp_path):
    _import(archive, gbif, tmp_path)
    variants = {
        name: row["gbif_species"]
        for name, row in archive.rows.items()
        if row["match_type"] == "FUZZY" and row["gbif_species"] not in target
    }
    assert len(variants) > 5
    for variant, accepted in variants.items():
        assert variant in Taxon.objects.get(name=accepted).search_names
        assert not Taxon.objects.filter(name=variant).exists()  # a misspelling is no taxon
        assert _landed_on(archive, variant) == {accepted}


def test_counts_per_accepted_key_equal_the_sources(archive, target, gbif, tmp_path, record_accuracy):
    _import(archive, gbif, tmp_path)
    landed = landing(archive)
    measured = measure(archive, landed)
    record_accuracy("\n".join(measured.lines(f"end to end, {len(archive.rows)} names (--taxa=match, GBIF API v1)")))
    assert measured.count_differences == []
    assert measured.wrong == []
    assert measured.occurrences_right == measured.occurrences == len(archive.determinations)
    # Classifications and identifications land where the occurrences do.
    for landed_rows, source_rows in (
        (landed.classifications, archive.classifications),
        (landed.identifications, archive.identifications),
    ):
        wrong = [uuid for uuid, name in source_rows.items() if landed_rows[uuid] != expected_label(archive.rows[name])]
        assert wrong == []


def test_create_policy_keeps_the_archived_name(archive, target, gbif, tmp_path):
    report = import_project(
        archive.path,
        ImportOptions(create_missing_users=True, taxa=TaxaSettings("create", gbif_url=gbif.url)),
    )
    assert gbif.match_requests == 0  # --taxa=create asks no matcher, even with --gbif-url
    synonym = Taxon.objects.get(name=SYNONYM)
    assert synonym.synonym_of is None and not Taxon.objects.filter(name=ACCEPTED).exists()
    assert _entry(report, SYNONYM)["outcome"] == "created"
    assert _landed_on(archive, SYNONYM) == {SYNONYM}


def test_strict_policy_refuses_and_says_why(archive, target, gbif, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    before = table_counts()
    with pytest.raises(ImportRefused, match="cannot be mapped"):
        # (the answers cached where the command below looks for them: it asks GBIF nothing)
        import_through_replay(archive, gbif.url, default_cache_path(), policy="strict")
    assert table_counts() == before
    asked = gbif.match_requests
    json_report = tmp_path / "taxa.json"
    with pytest.raises(CommandError, match="would be refused"):
        call_command(
            "reconcile_taxa",
            str(archive.path),
            "--taxa=strict",
            "--gbif-url",
            f"{gbif.url}/v1",
            "--report",
            str(json_report),
            "--quiet",
        )
    assert gbif.match_requests == asked  # every answer came from the cache
    decisions = {d["archived_name"]: d for d in json.loads(json_report.read_text())["decisions"]}
    assert decisions[SYNONYM]["outcome"] == "refused"
    assert f"synonym of {ACCEPTED} ({ACCEPTED_KEY})" in decisions[SYNONYM]["note"]
    assert "--taxa=strict creates nothing" in decisions[SYNONYM]["note"]
    assert f"exact match ({MISSING_EXACT_KEY})" in decisions[MISSING_EXACT]["note"]


@pytest.fixture
def hung_gbif(gbif, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # nothing answered from an earlier run
    gbif.fail("hang")
    return gbif


def test_hung_gbif_fails_fast_with_the_command_options(archive, target, hung_gbif):
    before = table_counts()
    started = time.monotonic()
    with pytest.raises(CommandError) as raised:
        call_command(
            "import_project",
            str(archive.path),
            "--create-missing-users",
            "--quiet",
            "--gbif-url",
            f"{hung_gbif.url}/v1",
            "--gbif-timeout",
            "2",
            "--gbif-attempts",
            "1",
        )
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"a hung GBIF held the import for {elapsed:.1f} s"
    message = str(raised.value)
    assert message.startswith("import refused, nothing was written: taxa: the matcher is unavailable")
    assert "no answer within 2 s after 1 attempt" in message and "\n" not in message
    assert hung_gbif.match_requests == 1
    assert table_counts() == before


@override_settings(TAXA_MATCHER_TIMEOUT=2, TAXA_MATCHER_ATTEMPTS=1)
def test_hung_gbif_fails_fast_with_the_settings(archive, target, hung_gbif):
    before = table_counts()
    started = time.monotonic()
    with pytest.raises(ImportRefused, match="no answer within 2 s after 1 attempt"):
        import_project(
            archive.path,
            ImportOptions(create_missing_users=True, taxa=TaxaSettings(gbif_url=f"{hung_gbif.url}/v1")),
        )
    assert time.monotonic() - started < 10
    assert table_counts() == before
