"""docs/walkthrough.md, run as written: from the demo's gbif archive alone, in pandas and in R
(readr), species counts per station per night, each occurrence's time of night and images, each
detection's scores and box as numbers, and the sampling effort, each checked against the database.
"""

from __future__ import annotations

import csv
import datetime
import re
import shutil
import subprocess
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from django.conf import settings
from dwca.read import DwCAReader

from ami.main.models import Detection, Event
from dwca_port.tables.base import GBIF_PROFILE
from dwca_port.tables.context import ExportContext
from tests.portability.helpers import members

pytestmark = pytest.mark.django_db

WALKTHROUGH = Path(settings.BASE_DIR) / "docs" / "walkthrough.md"
PLACEHOLDER = '"demo-gbif.zip"'


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", WALKTHROUGH.read_text(), flags=re.DOTALL)


class Truth:
    """What the database says, for the demo project's published occurrences."""

    def __init__(self, project):
        self.project = project
        published = ExportContext(project, GBIF_PROFILE).published_occurrences().select_related("event__deployment")
        self.occurrences = {str(o.uuid): o for o in published}
        detections = Detection.objects.filter(occurrence__in=published).select_related("source_image", "occurrence")
        self.detections = {str(d.uuid): d for d in detections}
        by_occurrence = defaultdict(list)
        for detection in self.detections.values():
            by_occurrence[str(detection.occurrence.uuid)].append(detection)
        self.by_occurrence = by_occurrence

    def species_counts(self) -> Counter:
        return Counter(
            (str(o.event.deployment.uuid), o.event.start.date().isoformat(), o.determination.name)
            for o in self.occurrences.values()
        )

    def first_seen(self, occurrence: str) -> datetime.datetime:
        return min(d.source_image.timestamp for d in self.by_occurrence[occurrence])

    def images(self, occurrence: str) -> set[str]:
        return {
            f"{d.source_image.public_base_url.rstrip('/')}/{d.source_image.path.lstrip('/')}"
            for d in self.by_occurrence[occurrence]
        }

    def box(self, detection: str) -> tuple[float, float, float, float]:
        d = self.detections[detection]
        width, height = d.source_image.width, d.source_image.height
        x1, y1, x2, y2 = d.bbox
        return x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height

    def classification_score(self, detection: str) -> float:
        return self.detections[detection].classifications.order_by("-terminal", "-score").first().score

    def trap_hours(self) -> dict[tuple[str, str], float]:
        return {
            (str(event.deployment.uuid), event.start.date().isoformat()): round(
                (event.end - event.start).total_seconds() / 3600, 2
            )
            for event in Event.objects.filter(project=self.project).select_related("deployment")
        }


@pytest.fixture
def archive(demo, export):
    return export(demo, GBIF_PROFILE)


@pytest.fixture
def truth(demo):
    return Truth(demo)


def test_the_walkthrough_in_pandas_gives_the_database_numbers(archive, truth):
    namespace: dict = {}
    for block in code_blocks("python"):
        exec(compile(block.replace(PLACEHOLDER, repr(str(archive))), str(WALKTHROUGH), "exec"), namespace)

    for name, member in (("events", "event.txt"), ("occurrences", "occurrence.txt"), ("humboldt", "humboldt.txt")):
        assert len(namespace[name]) == len(members(archive)[member].decode().splitlines()) - 1  # every row
    assert len(namespace["measurements"]) == len(members(archive)["measurementorfact.txt"].splitlines()) - 1

    counts = namespace["species_counts"]
    found = Counter({(row.locationID, row.night, row.scientificName): row.individuals for row in counts.itertuples()})
    assert found == truth.species_counts() and sum(found.values()) == len(truth.occurrences) == 95

    seen = namespace["seen"].set_index("occurrenceID")
    assert len(seen) == len(truth.occurrences)
    for occurrence, row in seen.iterrows():
        first = truth.first_seen(occurrence)
        assert row.seen_at.to_pydatetime() == first
        assert row.clock_time == first.strftime("%H:%M:%S")
        assert 0 <= row.hours_into_night <= 24

    images = namespace["images"]
    for occurrence in truth.occurrences:
        assert set(images.loc[[occurrence]]) == truth.images(occurrence)

    detections = namespace["detections"]
    assert set(detections.index) == set(truth.detections) and len(detections) == 333
    for detection, row in detections.iterrows():
        assert (row.xFrac, row.yFrac, row.widthFrac, row.heightFrac) == pytest.approx(truth.box(detection))
        assert row.classificationScore == pytest.approx(truth.classification_score(detection))
        assert row.occurrenceID == str(truth.detections[detection].occurrence.uuid)
        assert row.capture in truth.images(row.occurrenceID)

    rates = namespace["rates"]
    assert dict(rates.trap_hours.items()) == pytest.approx(truth.trap_hours())
    assert rates.individuals.sum() == len(truth.occurrences)


def _r_results(archive: Path, out: Path) -> None:
    script = "\n".join(code_blocks("r")).replace(PLACEHOLDER, '"' + str(archive) + '"')
    script += f"""
out <- "{out}"
write_csv(species_counts, file.path(out, "counts.csv"))
write_csv(data.frame(occurrenceID = seen$occurrenceID, clock_time = seen$clock_time), file.path(out, "times.csv"))
write_csv(data.frame(occurrenceID = rep(names(images), lengths(images)), url = unlist(images)),
          file.path(out, "images.csv"))
write_csv(detections, file.path(out, "detections.csv"))
write_csv(effort, file.path(out, "effort.csv"))
"""
    (out / "walkthrough.R").write_text(script)
    done = subprocess.run(["Rscript", str(out / "walkthrough.R")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _r_with_readr() -> bool:
    if shutil.which("Rscript") is None:
        return False
    return subprocess.run(["Rscript", "-e", "library(readr)"], capture_output=True, timeout=60).returncode == 0


@pytest.mark.skipif(
    not _r_with_readr(), reason="Rscript with readr is not installed (.ci/run installs both if apt works)"
)
def test_the_walkthrough_in_r_gives_the_database_numbers(archive, truth, tmp_path):
    _r_results(archive, tmp_path)
    counts = Counter(
        {
            (r["locationID"], r["night"], r["scientificName"]): int(r["individuals"])
            for r in _csv(tmp_path / "counts.csv")
        }
    )
    assert counts == truth.species_counts()
    times = {r["occurrenceID"]: r["clock_time"] for r in _csv(tmp_path / "times.csv")}
    assert times == {o: truth.first_seen(o).strftime("%H:%M:%S") for o in truth.occurrences}
    images = defaultdict(set)
    for row in _csv(tmp_path / "images.csv"):
        images[row["occurrenceID"]].add(row["url"])
    assert images == {o: truth.images(o) for o in truth.occurrences}
    detections = {r["detectionID"]: r for r in _csv(tmp_path / "detections.csv")}
    assert set(detections) == set(truth.detections)
    for detection, row in detections.items():
        box = tuple(float(row[f"value.{name}"]) for name in ("xFrac", "yFrac", "widthFrac", "heightFrac"))
        assert box == pytest.approx(truth.box(detection))
        assert float(row["value.classificationScore"]) == pytest.approx(truth.classification_score(detection))
    effort = {(r["locationID"], r["night"]): float(r["trap_hours"]) for r in _csv(tmp_path / "effort.csv")}
    assert effort == pytest.approx(truth.trap_hours())


def test_python_dwca_reader_reads_every_row_of_the_gbif_archive(archive):
    files = {}
    with DwCAReader(str(archive)) as dwca:
        core = list(dwca)
        for row in core:
            for extension in row.extensions:
                files[extension.rowtype] = files.get(extension.rowtype, 0) + 1
        lines = {
            descriptor.type: sum(1 for _ in dwca.open_included_file(descriptor.file_location)) - 1
            for descriptor in dwca.descriptor.extensions
        }
        assert len(core) == sum(1 for _ in dwca.open_included_file(dwca.descriptor.core.file_location)) - 1
    assert files == lines and all(files.values())
