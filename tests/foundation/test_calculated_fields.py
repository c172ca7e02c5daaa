"""Cached counts and derived values against hand-computed expectations."""

import datetime

import pytest

from ami.main.models import (
    Classification,
    Deployment,
    Detection,
    Event,
    Identification,
    Occurrence,
    Project,
    SourceImage,
    Taxon,
    TaxonRank,
    group_images_into_events,
    update_detection_counts,
)
from ami.ml.models import Algorithm

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2023, 6, 1, 22, 0)


@pytest.fixture
def taxa():
    order = Taxon.objects.create(name="Lepidoptera", rank=TaxonRank.ORDER)
    family = Taxon.objects.create(name="Nymphalidae", rank=TaxonRank.FAMILY, parent=order)
    genus = Taxon.objects.create(name="Vanessa", rank=TaxonRank.GENUS, parent=family)
    species = {
        n: Taxon.objects.create(name=n, rank=TaxonRank.SPECIES, parent=genus)
        for n in ("Vanessa atalanta", "Vanessa cardui", "Vanessa itea")
    }
    not_moth = Taxon.objects.create(name="Not a moth", rank=TaxonRank.UNKNOWN)
    Taxon.objects.update_all_calculated_fields()
    return {"order": order, "family": family, "genus": genus, "not_moth": not_moth, **species}


@pytest.fixture
def station(user):
    project = Project.objects.create(name="Counts", owner=user, create_defaults=False)
    return Deployment.objects.create(name="Station", project=project)


def _night(station, start, minutes):
    """Captures at the given minute offsets from `start`."""
    return [
        SourceImage.objects.create(
            deployment=station,
            project=station.project,
            path=f"{start:%Y%m%d}-{m}.jpg",
            timestamp=start + datetime.timedelta(minutes=m),
            size=1000 + m,
        )
        for m in minutes
    ]


def _occurrence(station, captures, taxon, scores, bbox=(1, 1, 5, 5)):
    occurrence = Occurrence.objects.create(project=station.project, deployment=station)
    algorithm, _ = Algorithm.objects.get_or_create(name="clf", version=1)
    for capture, score in zip(captures, scores):
        detection = Detection.objects.create(
            source_image=capture, occurrence=occurrence, bbox=list(bbox) if bbox else None
        )
        Classification.objects.create(detection=detection, taxon=taxon, score=score, timestamp=T0, algorithm=algorithm)
    occurrence.update_determination()
    occurrence.refresh_from_db()
    return occurrence


def test_taxon_parents_json_and_display_name(taxa):
    cardui = Taxon.objects.get(name="Vanessa cardui")
    assert cardui.parents_json == [
        {"id": taxa["order"].pk, "name": "Lepidoptera", "rank": "ORDER"},
        {"id": taxa["family"].pk, "name": "Nymphalidae", "rank": "FAMILY"},
        {"id": taxa["genus"].pk, "name": "Vanessa", "rank": "GENUS"},
    ]
    assert Taxon.objects.get(name="Vanessa").display_name == "Vanessa sp."
    assert cardui.display_name == "Vanessa cardui"
    assert Taxon.objects.with_descendants([taxa["family"].pk]) == {
        taxa["family"].pk,
        taxa["genus"].pk,
        taxa["Vanessa atalanta"].pk,
        taxa["Vanessa cardui"].pk,
        taxa["Vanessa itea"].pk,
    }


def test_grouping_into_sessions_by_gap_and_day(station):
    _night(station, T0, [0, 30, 60, 90])  # one night
    # 18:00 to 21:30 on 2 June with a 3h10 gap: two groups starting the same day share one event
    _night(station, T0 + datetime.timedelta(days=1, hours=-4), [0, 10, 200, 210])
    _night(station, T0 + datetime.timedelta(days=2, hours=3), [0])  # 01:00 on 4 June: its own event
    events = group_images_into_events(station)
    assert [e.group_by for e in Event.objects.filter(deployment=station)] == ["2023-06-01", "2023-06-02", "2023-06-04"]
    assert len(events) == 4  # four groups, two of which share a day and thus an event
    counts = dict(Event.objects.filter(deployment=station).values_list("group_by", "captures_count"))
    assert counts == {"2023-06-01": 4, "2023-06-02": 4, "2023-06-04": 1}
    first = Event.objects.get(group_by="2023-06-01")
    assert (first.start, first.end) == (T0, T0 + datetime.timedelta(minutes=90))


def test_determination_rule(station, taxa):
    captures = _night(station, T0, [0, 10, 20])
    occurrence = _occurrence(station, captures[:2], taxa["Vanessa cardui"], [0.7, 0.9])
    assert (occurrence.determination, occurrence.determination_score) == (taxa["Vanessa cardui"], 0.9)
    # a non-terminal classifier with a higher score loses to the terminal one
    other = Algorithm.objects.create(name="binary", version=1)
    Classification.objects.create(
        detection=occurrence.detections.first(),
        taxon=taxa["order"],
        score=0.99,
        timestamp=T0,
        algorithm=other,
        terminal=False,
    )
    occurrence.update_determination()
    assert occurrence.determination == taxa["Vanessa cardui"]
    # a human identification wins with score 1.0; withdrawn ones do not count
    Identification.objects.create(occurrence=occurrence, taxon=taxa["Vanessa itea"], withdrawn=True)
    occurrence.update_determination()
    assert occurrence.determination == taxa["Vanessa cardui"]
    Identification.objects.create(occurrence=occurrence, taxon=taxa["Vanessa atalanta"])
    occurrence.update_determination()
    assert (occurrence.determination, occurrence.determination_score) == (taxa["Vanessa atalanta"], 1.0)


def test_counts_with_default_filters(station, taxa):
    project = station.project
    night1 = _night(station, T0, [0, 10, 20, 30])
    night2 = _night(station, T0 + datetime.timedelta(days=1), [0, 10])
    _occurrence(station, night1[:2], taxa["Vanessa cardui"], [0.8, 0.9])  # 2 detections, score 0.9
    _occurrence(station, night1[2:3], taxa["Vanessa atalanta"], [0.3])  # under the 0.5 threshold
    _occurrence(station, night1[3:4], taxa["not_moth"], [0.95])  # excluded taxon
    _occurrence(station, night2[:1], taxa["Vanessa itea"], [0.6])
    _occurrence(station, night2[1:2], taxa["Vanessa itea"], [0.7], bbox=None)  # a null marker only
    project.default_filters_exclude_taxa.add(taxa["not_moth"])
    group_images_into_events(station)
    project.update_related_calculated_fields()

    station.refresh_from_db()
    # passing occurrences with an event: cardui (night 1), itea and the null-marker itea (night 2)
    assert station.occurrences_count == 3
    assert station.taxa_count == 2
    assert station.detections_count == 3  # valid detections of passing occurrences
    assert station.captures_count == station.data_source_total_files == 6
    assert station.data_source_total_size == sum(1000 + m for m in (0, 10, 20, 30, 0, 10))
    assert station.events_count == 2
    assert (station.first_capture_timestamp, station.last_capture_timestamp) == (
        T0,
        T0 + datetime.timedelta(days=1, minutes=10),
    )
    events = {e.group_by: e for e in Event.objects.filter(deployment=station)}
    assert (events["2023-06-01"].occurrences_count, events["2023-06-01"].detections_count) == (1, 2)
    assert (events["2023-06-02"].occurrences_count, events["2023-06-02"].detections_count) == (2, 1)
    counts = dict(SourceImage.objects.filter(deployment=station).values_list("path", "detections_count"))
    assert counts == {
        "20230601-0.jpg": 1,
        "20230601-10.jpg": 1,
        "20230601-20.jpg": 0,
        "20230601-30.jpg": 0,
        "20230602-0.jpg": 1,
        "20230602-10.jpg": 0,
    }

    # include filter: only Vanessa itea and its descendants
    project.default_filters_include_taxa.add(taxa["Vanessa itea"])
    project = Project.objects.get(pk=project.pk)
    project.update_related_calculated_fields()
    station.refresh_from_db()
    assert (station.occurrences_count, station.taxa_count, station.detections_count) == (2, 1, 1)
    # no project: all valid detections; 4 of the 6 captures change (it returns the rows it rewrote)
    assert update_detection_counts(SourceImage.objects.filter(deployment=station)) == 4
    assert update_detection_counts(SourceImage.objects.filter(deployment=station)) == 0  # nothing left to change
    assert SourceImage.objects.get(path="20230601-20.jpg").detections_count == 1
