"""Partial exports: some deployments, a date range, a capture set (and combinations).

Each selection's archive passes validation in both profiles, holds every row its rows reference,
and merges by UUID into an instance that holds the rest of the project: import the complement,
then the subset, and the instance holds the full project, nothing duplicated.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ami.main.models import Deployment, Event, Occurrence, Project, SourceImage, SourceImageCollection
from dwca_port.eml.reader import read_eml
from dwca_port.importer import ImportOptions, import_project
from dwca_port.subset import Subset, SubsetError
from dwca_port.validate import validate_archive
from tests.portability.helpers import column, members, table_counts, wipe_graph
from tests.portability.test_export_sql import assert_same_files

pytestmark = pytest.mark.django_db


def _second_station(project) -> Deployment:
    """Move the demo's later half of nights (with their captures and occurrences) to a second station."""
    first = Deployment.objects.get(project=project)
    second = Deployment.objects.create(
        name="Second station",
        project=project,
        latitude=45.1,
        longitude=-72.9,
        research_site=first.research_site,
        device=first.device,
        data_source=first.data_source,
    )
    nights = list(Event.objects.filter(project=project).order_by("start"))
    moved = [e.pk for e in nights[len(nights) // 2 :]]
    Event.objects.filter(pk__in=moved).update(deployment=second)
    SourceImage.objects.filter(event__in=moved).update(deployment=second)
    Occurrence.objects.filter(event__in=moved).update(deployment=second)
    project.update_related_calculated_fields()
    return second


def _nights(project) -> list[datetime.date]:
    return sorted({e.start.date() for e in Event.objects.filter(project=project)})


def _rest_collection(project) -> SourceImageCollection:
    """A capture set of every capture outside the demo's sample: the complement of the sample."""
    sample = SourceImageCollection.objects.get(project=project)
    rest = SourceImageCollection.objects.create(name="The rest", project=project, method="manual")
    rest.images.set(SourceImage.objects.filter(project=project).exclude(collections=sample))
    return rest


def _import(path, on_conflict="error"):
    options = ImportOptions(on_conflict=on_conflict, create_missing_users=True)
    return import_project(path, options)


def _selections(project):
    """(subset, [complement subsets]) for each kind of selection: together they cover the project."""
    first = Deployment.objects.get(project=project, name__startswith="Vermont")
    second = _second_station(project)
    nights = _nights(project)
    middle = nights[len(nights) // 3], nights[2 * len(nights) // 3]
    day = datetime.timedelta(days=1)
    sample = SourceImageCollection.objects.get(project=project, name__startswith="First")
    rest = _rest_collection(project)
    return {
        "deployment": (Subset(deployments=(second.pk,)), [Subset(deployments=(first.pk,))]),
        "dates": (
            Subset(since=middle[0], until=middle[1]),
            [Subset(until=middle[0] - day), Subset(since=middle[1] + day)],
        ),
        "collection": (Subset(collection=sample.pk), [Subset(collection=rest.pk)]),
        "deployment and dates": (
            Subset(deployments=(second.pk,), since=middle[0]),
            [Subset(deployments=(first.pk,)), Subset(deployments=(second.pk,), until=middle[0] - day)],
        ),
    }


@pytest.mark.parametrize("kind", ["deployment", "dates", "collection", "deployment and dates"])
def test_a_subset_validates_and_merges_into_an_instance_holding_the_rest(demo, export, kind):
    subset, complements = _selections(demo)[kind]
    whole = export(demo)
    full = export(demo, subset=subset)  # export() validates, and raises on any blocking finding
    published = export(demo, "gbif", subset=subset)
    assert validate_archive(full, profile="full").ok and validate_archive(published, profile="gbif").ok
    captures = "antenna_sourceimage.txt", "sourceImageID"
    assert 0 < len(column(full, *captures)) < len(column(whole, *captures))
    rest = [export(demo, subset=c) for c in complements]
    expected = table_counts()

    wipe_graph()
    _import(rest[0])
    for path in rest[1:]:
        _import(path, on_conflict="skip")
    assert table_counts() != expected  # the complement alone is not the project
    report = _import(full, on_conflict="skip")
    assert table_counts() == expected
    assert sum(m.created for m in report.models.values()) > 0
    # merging again, or with update, creates nothing
    _import(full, on_conflict="update")
    assert table_counts() == expected
    assert Project.objects.count() == 1
    # the last part imported with update restores the ids a capture set keeps in its kwargs
    sample = SourceImageCollection.objects.get(name__startswith="First")
    assert sorted(sample.kwargs["image_ids"]) == sorted(sample.images.values_list("pk", flat=True))


def test_a_subset_holds_every_row_its_rows_reference(demo, export):
    """A night's captures bring their session and station; the occurrences their detections point to come too."""
    nights = _nights(demo)
    path = export(demo, subset=Subset(since=nights[2], until=nights[2]))
    captures = SourceImage.objects.filter(uuid__in=column(path, "antenna_sourceimage.txt", "sourceImageID"))
    sessions = set(column(path, "antenna_event.txt", "eventID"))
    assert captures.exists()
    assert {str(c.event.uuid) for c in captures} <= sessions
    occurrences = set(column(path, "antenna_occurrence.txt", "occurrenceID"))
    detections = column(path, "antenna_detection.txt", "occurrenceID")
    assert {d for d in detections if d} <= occurrences
    assert set(column(path, "antenna_deployment.txt", "deploymentID")) == {
        str(Deployment.objects.get(project=demo).uuid)
    }


def test_the_eml_coverage_describes_the_subset(demo, export):
    second = _second_station(demo)
    nights = _nights(demo)
    whole = read_eml(members(export(demo, "gbif"))["eml.xml"])
    part = read_eml(members(export(demo, "gbif", subset=Subset(deployments=(second.pk,), until=nights[-2])))["eml.xml"])
    assert part.bounding_box == (-72.9, -72.9, 45.1, 45.1)
    assert "in this part of the project (deployment(s) Second station; from the start to" in " ".join(part.abstract)
    assert whole.bounding_box != part.bounding_box
    first_night = Event.objects.filter(deployment=second).order_by("start").first().start.date()
    assert part.temporal_range[0] == first_night > whole.temporal_range[0]
    assert part.temporal_range[1] < whole.temporal_range[1]
    published = Occurrence.objects.filter(deployment=second, event__start__date__lte=nights[-2])
    assert part.taxonomic_coverage and len(part.taxonomic_coverage) <= len(whole.taxonomic_coverage)
    assert published.exists()


def test_a_whole_subset_is_the_full_archive(demo, export):
    from tests.portability.helpers import data_files

    assert data_files(export(demo)) == data_files(export(demo, subset=Subset()))


def test_the_subset_travels_as_plain_parameters(demo):
    second = _second_station(demo)
    sample = SourceImageCollection.objects.get(project=demo, name__startswith="First")
    subset = Subset.parse(
        demo, deployments=str(second.uuid), since="2022-06-01", until="2022-07-31", collection=sample.pk
    )
    params = subset.as_params()
    assert params == {
        "deployments": [str(second.uuid)],
        "since": "2022-06-01",
        "until": "2022-07-31",
        "collection": str(sample.uuid),
    }
    assert Subset.from_params(demo, params) == subset
    assert Subset().as_params() == {} and Subset.from_params(demo, {}).is_whole()
    with pytest.raises(SubsetError, match="unknown subset parameter"):
        Subset.from_params(demo, {"station": 1})


def _other_project_collection(demo) -> SourceImageCollection:
    other = Project.objects.create(name="Another project")
    return SourceImageCollection.objects.create(name="Theirs", project=other, method="manual")


@pytest.mark.parametrize(
    "options, message",
    [
        ({"deployments": "999999"}, "no deployment with id or UUID '999999'"),
        ({"deployments": "station-3"}, "deployment 'station-3' is neither an id nor a UUID"),
        ({"since": "2022-07-01", "until": "2022-06-01"}, "--since 2022-07-01 is after --until 2022-06-01"),
        ({"since": "June"}, "--since 'June' is not a date (YYYY-MM-DD)"),
        ({"collection": "OTHER"}, "capture set '{other}' belongs to project"),
    ],
)
def test_wrong_options_give_one_clear_line_and_write_nothing(demo, tmp_path, options, message):
    other = _other_project_collection(demo)
    options = {k: (str(other.pk) if v == "OTHER" else v) for k, v in options.items()}
    output = tmp_path / "part.zip"
    with pytest.raises(CommandError) as raised:
        call_command("export_project", project=str(demo.pk), output=str(output), quiet=True, **options)
    text = str(raised.value)
    assert message.format(other=other.pk) in text and "\n" not in text
    assert not output.exists() and not list(tmp_path.iterdir())


def test_a_deployment_of_another_project_is_refused(demo):
    other = Project.objects.create(name="Another project")
    theirs = Deployment.objects.create(name="Theirs", project=other)
    with pytest.raises(SubsetError, match=f"deployment '{theirs.uuid}' belongs to project {other.pk}, not to project"):
        Subset.parse(demo, deployments=[str(theirs.uuid)])


def test_the_command_exports_a_partial_archive(demo, tmp_path, capsys):
    second = _second_station(demo)
    output = tmp_path / "station.zip"
    call_command("export_project", project=str(demo.pk), output=str(output), deployments=str(second.pk), quiet=True)
    assert "partial: deployment(s) Second station" in capsys.readouterr().out
    assert column(output, "antenna_deployment.txt", "deploymentID") == [str(second.uuid)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL fast path is PostgreSQL's")
@pytest.mark.parametrize("profile", ["full", "gbif"])
def test_a_subset_exports_the_same_in_sql_and_in_python(demo, export, profile):
    for subset, _ in _selections(demo).values():
        assert_same_files(
            export(demo, profile, subset=subset, in_sql=False, validate=False),
            export(demo, profile, subset=subset, in_sql=True, validate=False),
        )
