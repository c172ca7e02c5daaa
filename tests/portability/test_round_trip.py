"""Export, import into an empty database, export again: every data file is identical."""

import pytest
from django.core.management import call_command

from ami.main.models import Classification, Identification, Occurrence, Organization, Project, Taxon
from dwca_port.export import export_project
from dwca_port.importer import ImportOptions, ImportRefused, import_project
from tests.portability.helpers import data_files, table_counts, wipe_graph

pytestmark = pytest.mark.django_db


def _enrich(project):
    """Populate what the demo leaves empty, so that every model and relation travels."""
    project.organization = Organization.objects.create(name="Demo consortium", slug="demo-consortium")
    project.save()
    project.default_filters_exclude_taxa.add(Taxon.objects.create(name="Not a moth", rank="UNKNOWN"))
    first, second = Classification.objects.filter(detection__source_image__project=project).order_by("pk")[:2]
    second.applied_to = first
    second.save()
    agreed = Identification.objects.filter(occurrence__project=project).order_by("pk").first()
    Identification.objects.filter(pk=agreed.pk + 1).update(agreed_with_identification=agreed)
    synonym = Taxon.objects.create(
        name="Baileya ophthalmica var. demo", rank="SPECIES", synonym_of=Taxon.objects.get(name="Baileya ophthalmica")
    )
    synonym.projects.add(project)
    Taxon.objects.update_all_calculated_fields()


def _import(path, **options):
    options.setdefault("create_missing_users", True)
    return import_project(path, ImportOptions(**options))


def test_full_round_trip_is_identical(demo, export):
    _enrich(demo)
    first = export(demo)
    wipe_graph()
    report = _import(first)
    assert report.models["main.Occurrence"].created == 95
    assert report.models["main.Detection"].created == 333
    assert not report.cache_differences, report.cache_difference_examples
    second = export(Project.objects.get())
    assert data_files(first) == data_files(second)
    # ids kept in JSON travel as UUIDs and point at the imported rows
    collection = Project.objects.get().sourceimage_collections.get()
    assert sorted(collection.kwargs["image_ids"]) == sorted(collection.images.values_list("pk", flat=True))
    assert b"image_ids" in data_files(first)["antenna_sourceimagecollection.txt"]
    assert str(collection.images.first().uuid).encode() in data_files(first)["antenna_sourceimagecollection.txt"]


def test_json_round_trip_is_identical(demo, export, tmp_path):
    first = export(demo)
    document = tmp_path / "demo.json"
    export_project(demo, document, format="json")
    wipe_graph()
    _import(document)
    assert data_files(first) == data_files(export(Project.objects.get()))


def test_importing_twice_with_error_changes_nothing(demo, export):
    path = export(demo)
    before = table_counts()
    with pytest.raises(ImportRefused, match="already exist here"):
        _import(path)
    assert table_counts() == before


def test_skip_creates_nothing_new(demo, export):
    path = export(demo)
    before = table_counts()
    report = _import(path, on_conflict="skip")
    assert table_counts() == before
    assert report.models["main.Detection"].skipped == 333
    assert sum(c.created for c in report.models.values()) == 0


def test_update_changes_exactly_the_edited_fields(demo, export):
    path = export(demo)
    occurrence = Occurrence.objects.filter(project=demo).order_by("uuid").first()
    original = occurrence.determination_score
    Occurrence.objects.filter(pk=occurrence.pk).update(determination_score=0.123)
    demo.description = "edited here"
    demo.save()
    untouched = export(demo)
    report = _import(path, on_conflict="update")
    occurrence.refresh_from_db()
    assert occurrence.determination_score == original
    assert Project.objects.get(pk=demo.pk).description != "edited here"
    assert report.models["main.Occurrence"].updated == 95
    assert data_files(export(Project.objects.get(pk=demo.pk))) == data_files(path)
    assert data_files(untouched) != data_files(path)


def test_dry_run_writes_nothing(demo, export):
    path = export(demo)
    wipe_graph()
    before = table_counts()
    report = _import(path, dry_run=True)
    assert report.dry_run and report.models["main.Occurrence"].created == 95
    assert table_counts() == before


def test_unknown_users_are_reported_not_created(demo, export):
    path = export(demo)
    wipe_graph()
    report = _import(path, create_missing_users=False)
    assert sorted(report.users_not_found) == [
        "identifier@demo.antenna.example.org",
        "manager@demo.antenna.example.org",
        "researcher@demo.antenna.example.org",
    ]
    project = Project.objects.get()
    assert project.owner is None and not project.members.exists()
    assert Identification.objects.filter(occurrence__project=project, user__isnull=True).count() == 7
    assert report.models["exports.DataExport"].dropped == 1  # its user is required


def test_command_prints_report_and_writes_json(demo, export, tmp_path, capsys):
    import json

    path = export(demo)
    wipe_graph()
    call_command("import_project", str(path), "--create-missing-users", "--quiet", "--report", str(tmp_path / "r.json"))
    out = capsys.readouterr().out
    assert "main.Occurrence" in out and "storage sources needing credentials" in out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["models"]["main.Detection"]["created"] == 333
    assert report["storage_sources_needing_credentials"] == ["Vermont snapshots bucket"]
