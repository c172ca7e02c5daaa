"""The demo project built from the real Vermont export: exact counts and realistic structure."""

import json
from collections import Counter

import pytest
from django.core.management import call_command

from ami.main.demo import OCCURRENCES_FILE, load_demo_project, summarize
from ami.main.models import Classification, Detection, Event, Identification, Occurrence, Taxon, TaxonRank
from ami.users.roles import Identifier, ProjectManager, Researcher, get_primary_role

pytestmark = pytest.mark.django_db

FIXTURE = json.loads(OCCURRENCES_FILE.read_text())


@pytest.fixture(scope="module")
def fixture_counts():
    examples = [e for o in FIXTURE for e in o["examples"]]
    return {
        "occurrences": len(FIXTURE),
        "detections": len(examples),
        "images": len({e["source_image_id"] for e in examples}),
        "per_event": Counter(o["event"]["day"][:10] for o in FIXTURE),
    }


@pytest.fixture
def demo(db):
    return load_demo_project()


def test_counts_match_the_fixture(demo, fixture_counts):
    assert (
        fixture_counts["occurrences"] == 95 and fixture_counts["detections"] == 333 and fixture_counts["images"] == 120
    )
    summary = summarize(demo)
    assert summary["occurrences"] == 95
    assert summary["detections"] == 333
    assert summary["classifications"] == 333
    assert summary["source images"] == 120
    assert summary["capture sessions (events)"] == 4
    assert summary["deployments"] == 1


def test_sessions_are_the_fixture_nights(demo, fixture_counts):
    per_event = Counter(Occurrence.objects.filter(project=demo).values_list("event__group_by", flat=True))
    assert (
        dict(per_event)
        == dict(fixture_counts["per_event"])
        == {"2022-06-20": 29, "2022-06-21": 12, "2022-06-22": 30, "2022-06-23": 24}
    )
    assert sum(Event.objects.filter(project=demo).values_list("captures_count", flat=True)) == 120


def test_bounding_boxes_and_scores_are_the_fixture_values(demo):
    by_crop = {d.path: d for d in Detection.objects.filter(source_image__project=demo)}
    for occurrence in FIXTURE:
        for example in occurrence["examples"]:
            detection = by_crop[example["cropped_image_path"]]
            assert detection.bbox == example["bbox"]
            classification = detection.classifications.get()
            assert classification.score == example["score"]
            assert classification.taxon.name == example["label"]


def test_machine_determinations_equal_the_fixture_labels(demo):
    identified = set(Identification.objects.filter(withdrawn=False).values_list("occurrence_id", flat=True))
    labels = {o["examples"][0]["cropped_image_path"]: (o["label"], o["best_score"]) for o in FIXTURE}
    for detection in Detection.objects.filter(path__in=labels).select_related("occurrence__determination"):
        occurrence = detection.occurrence
        if occurrence.pk in identified:
            assert occurrence.determination_score == 1.0
        else:
            assert (occurrence.determination.name, occurrence.determination_score) == labels[detection.path]


def test_taxa_form_a_tree_under_lepidoptera(demo):
    for taxon in Taxon.objects.filter(occurrences__project=demo).distinct():
        ranks = [p["rank"] for p in taxon.parents_json]
        assert ranks == ["ORDER", "FAMILY", "GENUS"], taxon.name
        assert taxon.parents_json[0]["name"] == "Lepidoptera"
    genus = Taxon.objects.filter(rank=TaxonRank.GENUS).first()
    assert genus.display_name == f"{genus.name} sp."


def test_users_roles_identifications_and_extras(demo):
    roles = {m.user.email: get_primary_role(demo, m.user) for m in demo.project_memberships.select_related("user")}
    assert sorted(roles.values(), key=lambda r: r.__name__) == [Identifier, ProjectManager, Researcher]
    identifications = Identification.objects.filter(occurrence__project=demo)
    agreeing = [i for i in identifications if i.agreed_with_prediction_id]
    disagreeing = [i for i in identifications if not i.withdrawn and not i.agreed_with_prediction_id]
    assert agreeing and disagreeing and identifications.filter(withdrawn=True).exists()
    for identification in disagreeing:
        assert identification.occurrence.determination == identification.taxon
    assert demo.tags.get().taxa.count() == 2
    assert demo.taxa_lists.get().taxa.count() == 218  # species of the recorded genera
    collection = demo.sourceimage_collections.get()
    assert collection.images.count() == 4
    assert demo.jobs.filter(status="SUCCESS").count() == 2
    assert demo.default_processing_pipeline.algorithms.count() == 2
    assert demo.storage_sources.get().public_base_url


def test_command_prints_a_summary_and_is_idempotent(db, capsys):
    call_command("load_demo_project")
    call_command("load_demo_project")
    out = capsys.readouterr().out
    assert "already exists" in out and "occurrences" in out and "95" in out
    call_command("load_demo_project", "--replace")
    assert Occurrence.objects.count() == 95
    assert Classification.objects.count() == 333
