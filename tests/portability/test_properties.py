"""Property: for any small project graph, export (full) -> empty database -> import -> export
gives identical data files.

Projects are random: 0-3 deployments, 0-3 events, 0-5 images, random detections,
classifications, occurrences and identifications, text with tabs, newlines, quotes, backslashes
and non-ASCII characters, arbitrary finite floats, and arbitrary JSON in the JSON fields. Each
example runs in its own transaction, rolled back at its end.
"""

from __future__ import annotations

import datetime
import json
import tempfile
from pathlib import Path

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from dwca_port.export import export_project
from dwca_port.importer import ImportOptions, import_project
from tests.portability.helpers import data_files, wipe_graph

pytestmark = pytest.mark.django_db

TRICKY = [
    "",
    "\t",
    "\n",
    "\r\n",
    '"',
    "'",
    '""',
    "\\",
    "\\t",
    "a\tb",
    "line\nline",
    '"quoted"',
    "é",
    "ß",
    "Ω",
    "🦋",
    "日本語",
    "\u00a0",
    "\u2028",
    " lead",
    "trail ",
    "NULL",
    "\\N",
    "null",
    "0",
    "-",
    "#",
]

# Characters a database text column can hold: no NUL, no lone surrogates.
CHARACTERS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")


def texts(max_size: int = 20):
    return st.one_of(
        st.sampled_from(TRICKY),
        st.text(CHARACTERS, max_size=max_size),
        st.lists(st.sampled_from(TRICKY), max_size=4).map("".join).filter(lambda s: len(s) <= max_size),
    )


FLOATS = st.floats(allow_nan=False, allow_infinity=False)
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), FLOATS, texts(10))
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts(8), inner, max_size=3)),
    max_leaves=8,
)


def names(max_size: int = 20):
    """Required text: something besides white space."""
    return texts(max_size).filter(lambda s: s.strip())


JSON_FIELD_VALUES = JSON_VALUES
DATETIMES = st.datetimes(min_value=datetime.datetime(1990, 1, 1), max_value=datetime.datetime(2040, 12, 31))


@st.composite
def project_graphs(draw) -> dict:
    """A plan of a project graph: plain values and indexes into the lists drawn before."""

    def maybe(strategy):
        return draw(st.one_of(st.none(), strategy))

    def pick(count):
        return maybe(st.integers(0, count - 1)) if count else None

    n_taxa = draw(st.integers(0, 3))
    plan = {
        "project": dict(
            name=draw(names(40)),
            license="CC-BY-4.0",
            description=draw(texts()),
            feature_flags=draw(JSON_FIELD_VALUES.filter(lambda v: v is not None)),
            default_filters_score_threshold=draw(FLOATS),
            rights_holder=draw(st.one_of(st.just(""), names())),
        ),  # see test_a_blank_rights_holder_exports
        "owner_name": "Ann " + draw(st.sampled_from(["Example", "Ñúñez", "O'Brien", 'van der "Berg"', "日本"])),
        "taxa": [draw(texts(15)) for _ in range(n_taxa)],
        "deployments": [
            dict(
                name=draw(names(40)),
                description=draw(texts()),
                latitude=maybe(st.floats(-90, 90)),
                longitude=maybe(st.floats(-180, 180)),
            )
            for _ in range(draw(st.integers(0, 3)))
        ],
    }
    n_deployments = len(plan["deployments"])
    plan["events"] = [
        dict(
            group_by=draw(names()),
            start=draw(DATETIMES),
            duration=maybe(st.integers(0, 30 * 86400)),
            deployment=pick(n_deployments),
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    n_events = len(plan["events"])
    # a capture's time lies within its session (the archive's temporal coverage is read from them)
    plan["images"] = [
        dict(
            path=draw(texts()),
            offset=draw(st.integers(0, 600)),
            width=maybe(st.integers(0, 10_000)),
            height=maybe(st.integers(0, 10_000)),
            deployment=pick(n_deployments),
            event=pick(n_events),
        )
        for _ in range(draw(st.integers(0, 5)))
    ]
    # every session has a capture (an empty session's dates fall outside the EML coverage: see
    # test_a_session_without_captures_exports)
    for event in set(range(n_events)) - {image["event"] for image in plan["images"]}:
        plan["images"].append(
            dict(
                path=draw(texts()),
                offset=draw(st.integers(0, 600)),
                width=None,
                height=None,
                deployment=None,
                event=event,
            )
        )
    plan["occurrences"] = [
        dict(
            event=pick(n_events),
            deployment=pick(n_deployments),
            determination=pick(n_taxa),
            determination_score=maybe(FLOATS),
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    n_occurrences = len(plan["occurrences"])
    plan["detections"] = [
        dict(
            image=image,
            bbox=draw(JSON_FIELD_VALUES),
            path=maybe(texts()),
            occurrence=pick(n_occurrences),
            detection_score=maybe(FLOATS),
            similarity_vector=draw(JSON_FIELD_VALUES),
        )
        for image in range(len(plan["images"]))
        for _ in range(draw(st.integers(0, 2)))
    ]
    plan["classifications"] = [
        dict(
            detection=detection,
            taxon=pick(n_taxa),
            score=maybe(FLOATS),
            timestamp=draw(DATETIMES),
            terminal=draw(st.booleans()),
            logits=draw(JSON_FIELD_VALUES),
            scores=draw(JSON_FIELD_VALUES),
        )
        for detection in range(len(plan["detections"]))
        for _ in range(draw(st.integers(0, 2)))
    ]
    plan["identifications"] = [
        dict(occurrence=occurrence, taxon=pick(n_taxa), comment=draw(texts()), withdrawn=draw(st.booleans()))
        for occurrence in range(n_occurrences)
        for _ in range(draw(st.integers(0, 2)))
    ]
    return plan


def build(plan: dict):
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
    )
    from ami.users.models import User

    owner = User.objects.create_user(email="owner@example.org", password=None, name=plan["owner_name"])
    project = Project.objects.create(owner=owner, create_defaults=False, **plan["project"])
    # scientific names (the import reconciles taxa by name); the random text goes in the common name
    taxa = [
        Taxon.objects.create(name=f"Testia {epithet}", common_name_en=name, rank="SPECIES")
        for epithet, name in zip(("alpha", "beta", "gamma"), plan["taxa"])
    ]

    def at(rows, index):
        return None if index is None else rows[index]

    # deployment names are unique within a project
    deployments = [
        Deployment.objects.create(project=project, **{**d, "name": f"{n} {d['name']}"})
        for n, d in enumerate(plan["deployments"])
    ]
    events = [
        Event.objects.create(
            project=project,
            group_by=e["group_by"],
            start=e["start"],
            end=None if e["duration"] is None else e["start"] + datetime.timedelta(seconds=e["duration"]),
            deployment=at(deployments, e["deployment"]),
        )
        for e in plan["events"]
    ]

    def timestamp(image):
        if image["event"] is None:
            return None
        event = events[image["event"]]
        return min(event.start + datetime.timedelta(seconds=image["offset"]), event.end or event.start)

    paths = set()

    def path(image, n):  # unique per deployment (a constraint): a repeated path gets a suffix
        key = (image["deployment"], image["path"])
        if key in paths:
            return f"{image['path']}#{n}"
        paths.add(key)
        return image["path"]

    images = [
        SourceImage.objects.create(
            project=project,
            path=path(i, n),
            timestamp=timestamp(i),
            width=i["width"],
            height=i["height"],
            deployment=at(deployments, i["deployment"]),
            event=at(events, i["event"]),
        )
        for n, i in enumerate(plan["images"])
    ]
    occurrences = [
        Occurrence.objects.create(
            project=project,
            event=at(events, o["event"]),
            deployment=at(deployments, o["deployment"]),
            determination=at(taxa, o["determination"]),
            determination_score=o["determination_score"],
        )
        for o in plan["occurrences"]
    ]
    seen = set()

    def bbox(d, n):  # unique per image (a constraint): a repeated box gets wrapped
        key = (d["image"], json.dumps(d["bbox"], sort_keys=True))
        if key in seen:
            return [n, d["bbox"]]
        seen.add(key)
        return d["bbox"]

    detections = [
        Detection.objects.create(
            source_image=images[d["image"]],
            bbox=bbox(d, n),
            path=d["path"],
            occurrence=at(occurrences, d["occurrence"]),
            detection_score=d["detection_score"],
            similarity_vector=d["similarity_vector"],
        )
        for n, d in enumerate(plan["detections"])
    ]
    for c in plan["classifications"]:
        Classification.objects.create(
            detection=detections[c["detection"]],
            taxon=at(taxa, c["taxon"]),
            score=c["score"],
            timestamp=c["timestamp"],
            terminal=c["terminal"],
            logits=c["logits"],
            scores=c["scores"],
        )
    for i in plan["identifications"]:
        Identification.objects.create(
            user=owner,
            occurrence=occurrences[i["occurrence"]],
            taxon=at(taxa, i["taxon"]),
            comment=i["comment"],
            withdrawn=i["withdrawn"],
        )
    # the caches an import recomputes, computed here too (so that both exports hold the same ones)
    Taxon.objects.update_all_calculated_fields()
    project.update_related_calculated_fields()
    return Project.objects.get(pk=project.pk)


def graph_examples(count: int):
    """Hypothesis settings for tests drawing project graphs: reproducible, no deadline. (Each example
    builds, exports and imports a project; the counts are sized to keep CI's 2-core run short.)"""
    return settings(
        max_examples=count,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@graph_examples(8)
@given(plan=project_graphs())
def test_export_import_export_is_identical(db, plan):
    from ami.main.models import Project

    with tempfile.TemporaryDirectory() as directory, transaction.atomic():
        first, second = Path(directory) / "first.zip", Path(directory) / "second.zip"
        export_project(build(plan), first, profile="full", validate=False)  # the import validates it
        wipe_graph()
        import_project(first, ImportOptions(create_missing_users=True))
        export_project(Project.objects.get(), second, profile="full", validate=False)
        before, after = data_files(first), data_files(second)
        transaction.set_rollback(True)
    for member in sorted(before.keys() | after.keys()):
        old, new = (before.get(member) or b"").split(b"\n"), (after.get(member) or b"").split(b"\n")
        assert old == new, (member, [(a, b) for a, b in zip(old, new) if a != b][:3])


@pytest.mark.parametrize("value", ["", "plain text", "[1]"])
def test_a_json_field_holding_a_string_round_trips(db, value, tmp_path):
    plan = {
        "project": dict(name="Strings", license="CC-BY-4.0", feature_flags={}),
        "owner_name": "Owner",
        "taxa": [],
        "deployments": [],
        "events": [],
        "images": [dict(path="a.jpg", offset=0, width=None, height=None, deployment=None, event=None)],
        "occurrences": [],
        "detections": [
            dict(image=0, bbox=value, path=None, occurrence=None, detection_score=None, similarity_vector=None)
        ],
        "classifications": [],
        "identifications": [],
    }
    from ami.main.models import Detection, Project

    first, second = tmp_path / "first.zip", tmp_path / "second.zip"
    export_project(build(plan), first, profile="full")
    wipe_graph()
    import_project(first, ImportOptions(create_missing_users=True))
    assert Detection.objects.get().bbox == value
    export_project(Project.objects.get(), second, profile="full")
    assert data_files(first) == data_files(second)


def test_a_session_without_captures_exports(db, tmp_path):
    plan = {
        "project": dict(name="Empty session", license="CC-BY-4.0", feature_flags={}),
        "owner_name": "Owner",
        "taxa": [],
        "deployments": [],
        "events": [
            dict(group_by="2020-06-01", start=datetime.datetime(2020, 6, 1, 22), duration=3600, deployment=None),
            dict(group_by="2030-06-01", start=datetime.datetime(2030, 6, 1, 22), duration=3600, deployment=None),
        ],
        "images": [dict(path="a.jpg", offset=0, width=None, height=None, deployment=None, event=0)],
        "occurrences": [],
        "detections": [],
        "classifications": [],
        "identifications": [],
    }
    export_project(build(plan), tmp_path / "a.zip", profile="full")


def test_a_blank_rights_holder_exports(db, tmp_path):
    plan = {
        "project": dict(name="Blank rights holder", license="CC-BY-4.0", feature_flags={}, rights_holder="\t"),
        "owner_name": "Ann Example",
        "taxa": [],
        "deployments": [],
        "events": [],
        "images": [],
        "occurrences": [],
        "detections": [],
        "classifications": [],
        "identifications": [],
    }
    export_project(build(plan), tmp_path / "a.zip", profile="full")
