"""The reconciliation report: CSV, JSON and the summary."""

import csv
import io
import json

from dwca_port.taxonomy import report
from dwca_port.taxonomy.checklists import BACKBONE
from dwca_port.taxonomy.reconcile import ArchivedTaxon, Policy, Reconciler
from dwca_port.taxonomy.target import InMemoryTargetTaxonomy

from .conftest import LEPIDOPTERA


def reconciliation(matcher):
    target = InMemoryTargetTaxonomy()
    target.add_chain(LEPIDOPTERA + (("FAMILY", "Erebidae"), ("GENUS", "Catocala"), ("SPECIES", "Catocala ultronia")))
    target.add_chain(LEPIDOPTERA + (("FAMILY", "Noctuidae"), ("GENUS", "Achatia"), ("SPECIES", "Achatia evicta")))
    noctuidae = LEPIDOPTERA + (("FAMILY", "Noctuidae"),)
    archive = [
        ArchivedTaxon("u1", "Catocala cf. ultronia", "SPECIES", parents=noctuidae + (("GENUS", "Catocala"),)),
        ArchivedTaxon(
            "u2",
            "Morrisonia evicta",
            "SPECIES",
            parents=noctuidae + (("GENUS", "Morrisonia"),),
            gbif_key="1797587",
            gbif_checklist_key=BACKBONE,
        ),
        ArchivedTaxon("u3", "Ypsolopha dentiferella", "SPECIES", parents=LEPIDOPTERA + (("FAMILY", "Ypsolophidae"),)),
    ]
    return Reconciler(target, Policy.STRICT, matcher).reconcile(archive)


def test_csv_has_one_row_per_archived_taxon(local_matcher, tmp_path):
    result = reconciliation(local_matcher)
    report.write_csv(result, tmp_path / "taxa.csv")
    rows = list(csv.DictReader(open(tmp_path / "taxa.csv", encoding="utf-8")))
    assert [r["archived_name"] for r in rows] == [
        "Catocala cf. ultronia",
        "Morrisonia evicta",
        "Ypsolopha dentiferella",
    ]
    cf, synonym, refused = rows
    assert (cf["method"], cf["target_name"], cf["qualifier"]) == ("name", "Catocala ultronia", "cf.")
    assert cf["divergences"] == "parent: family Noctuidae in the archive, Erebidae in the target"
    assert (synonym["method"], synonym["accepted_name"], synonym["accepted_key"], synonym["confidence"]) == (
        "synonym",
        "Achatia evicta",
        "1797587",
        "99",
    )
    assert synonym["archived_gbif_key"] == "1797587" and synonym["archived_checklist"] == "GBIF Backbone Taxonomy"
    assert (refused["outcome"], refused["match_type"], refused["target_name"]) == ("refused", "HIGHERRANK", "")
    assert "strict creates nothing" in refused["note"]
    assert list(rows[0]) == list(report.COLUMNS)


def test_json_and_summary(local_matcher, tmp_path):
    result = reconciliation(local_matcher)
    report.write_json(result, tmp_path / "taxa.json")
    data = json.loads((tmp_path / "taxa.json").read_text())
    assert data["policy"] == "strict" and data["counts"]["synonym"] == 1 and data["counts"]["refused"] == 1
    assert data["decisions"][0]["divergences"] == [
        {"kind": "parent", "detail": "family Noctuidae in the archive, Erebidae in the target"}
    ]
    assert data["decisions"][1]["match"]["accepted_key"] == "1797587"
    text = report.summary(result)
    assert text.startswith("3 archived taxa (--taxa=strict): 1 by name, 1 as synonyms, 1 refused.")
    assert "refused Ypsolopha dentiferella" in text and "Matcher: local checklist" in text


def test_fallback_is_recorded_in_the_report(api_matcher, local_matcher, replay):
    replay.fail("503")
    target = InMemoryTargetTaxonomy()
    target.add_chain(LEPIDOPTERA)
    result = Reconciler(target, Policy.MATCH, api_matcher("v1", retries=0), fallback=local_matcher).reconcile(
        [ArchivedTaxon("u", "Catocala ultronia", "SPECIES", parents=LEPIDOPTERA)]
    )
    text = report.summary(result)
    assert "Note: GBIF species match v1" in text and "HTTP 503" in text and "matched with local checklist" in text
    buffer = io.StringIO()
    report.write_csv(result, buffer)
    assert "local checklist" in list(csv.DictReader(io.StringIO(buffer.getvalue())))[0]["matcher"]
    assert json.loads(json.dumps(report.as_json(result)))["events"] == result.events
