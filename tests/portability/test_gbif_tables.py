"""The Darwin Core tables as GBIF and readers need them (issue 13): each occurrence's time, images,
taxonID and classification; stations; numeric eMoF rows with type and unit URIs; Humboldt on every
event; extensions mapping only the terms their definitions define; the same bytes from SQL."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection

from ami.main.models import Detection, Identification, Occurrence, SourceImage, Taxon
from dwca_port.checks.definitions import definitions
from dwca_port.meta import read_meta_xml
from dwca_port.tables import all_tables
from dwca_port.tables.base import GBIF_PROFILE
from dwca_port.tables.darwin_core import country
from dwca_port.tables.darwin_core.country import country_codes
from dwca_port.tables.darwin_core.occurrence import HUMAN_STATUS, MACHINE_STATUS
from dwca_port.validate import validate_archive
from tests.archive_corpus import zip_members
from tests.portability.helpers import members
from tests.portability.test_export_sql import assert_same_files

pytestmark = pytest.mark.django_db

AC = "http://rs.tdwg.org/ac/terms/"
ANTENNA = "https://antenna.insectai.org/terms/"


def table(path, member: str) -> list[dict[str, str]]:
    text = members(path)[member].decode()
    return list(csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))


def by(rows: list[dict], key: str) -> dict[str, dict]:
    return {row[key]: row for row in rows}


# -- what the extension definitions say ----------------------------------------------------------


def test_every_mapped_term_of_a_registered_table_is_defined_by_its_extension():
    known = definitions()
    for declared in all_tables():
        definition = known.get(declared.row_type)
        if definition is None:
            continue
        for column in declared.columns:
            assert not column.mapped or column.term in definition.properties, (declared.file, column.term)


def test_the_demo_gbif_archive_has_no_finding_of_any_severity(demo, export):
    report = validate_archive(export(demo, GBIF_PROFILE), profile=GBIF_PROFILE)
    assert report.findings == []


def test_the_extensions_key_their_rows_by_coreid_only(demo, export):
    meta = read_meta_xml(members(export(demo, GBIF_PROFILE))["meta.xml"])
    for descriptor in meta.extensions:
        mapped = {field.index for field in descriptor.fields}
        if descriptor.row_type.endswith("/Occurrence"):
            assert 0 in mapped  # the Occurrence definition defines dwc:eventID
        else:
            assert descriptor.id_index == 0 and 0 not in mapped, descriptor.file


def test_the_validator_reports_eventid_where_the_extension_does_not_define_it(demo, export):
    archive = members(export(demo, GBIF_PROFILE))
    meta = archive["meta.xml"].decode()
    humboldt = meta.index('rowType="http://rs.tdwg.org/eco/terms/Event"')
    at = meta.index('<coreid index="0"/>', humboldt) + len('<coreid index="0"/>')
    archive["meta.xml"] = (
        meta[:at] + '\n    <field index="0" term="http://rs.tdwg.org/dwc/terms/eventID"/>' + meta[at:]
    ).encode()
    report = validate_archive(zip_members(list(archive.items())), profile=GBIF_PROFILE)
    [finding] = report.findings
    assert (finding.code, finding.term, finding.file) == (
        "UNKNOWN_TERM",
        "http://rs.tdwg.org/dwc/terms/eventID",
        "meta.xml",
    )


# -- occurrences ---------------------------------------------------------------------------------


@pytest.fixture
def varied(demo):
    """The demo with what it lacks: crop URLs, a capture of unknown size and one without a public
    URL, a box outside its capture, a malformed box, GBIF keys, other orders, a human name."""
    occurrences = list(Occurrence.objects.filter(project=demo).order_by("uuid"))
    crop = occurrences[0].detections.order_by("uuid").first()
    Detection.objects.filter(pk=crop.pk).update(path="https://crops.example.org/a.jpg")
    unsized = occurrences[1].detections.order_by("uuid").first().source_image
    SourceImage.objects.filter(pk=unsized.pk).update(width=None, height=None)
    outside = occurrences[2].detections.order_by("uuid").first()
    Detection.objects.filter(pk=outside.pk).update(bbox=[-5, 10, 50, 60])
    malformed = occurrences[3].detections.order_by("uuid").first()
    Detection.objects.filter(pk=malformed.pk).update(bbox=[1, 2, True, 4])
    private = occurrences[4].detections.order_by("uuid").first().source_image
    SourceImage.objects.filter(pk=private.pk).update(public_base_url="")
    Taxon.objects.filter(pk=occurrences[0].determination_id).update(gbif_taxon_key=1234567)
    return {
        "occurrences": [str(o.uuid) for o in occurrences],
        "crop": crop,
        "unsized": unsized,
        "outside": outside,
        "malformed": malformed,
        "private": private,
    }


def test_occurrences_carry_their_time_images_taxon_and_classification(demo, export, varied):
    path = export(demo, GBIF_PROFILE, in_sql=False)
    rows = by(table(path, "occurrence.txt"), "occurrenceID")
    first = rows[varied["occurrences"][0]]
    assert first["taxonID"] == "https://www.gbif.org/species/1234567"
    assert first["associatedMedia"].split(" | ")[0] == "https://crops.example.org/a.jpg"
    assert (first["kingdom"], first["phylum"], first["class"], first["order"]) == (
        "Animalia",
        "Arthropoda",
        "Insecta",
        "Lepidoptera",
    )
    for occurrence in Occurrence.objects.filter(project=demo, uuid__in=rows):
        row = rows[str(occurrence.uuid)]
        taken = sorted(d.source_image.timestamp for d in occurrence.detections.select_related("source_image"))
        start, _, end = row["eventDate"].partition("/")
        assert start[:19] == taken[0].isoformat() and start[-6:] == "-04:00"
        assert (end[:19] if end else start[:19]) == taken[-1].isoformat()
        assert row["eventTime"].split("/")[0] == start[11:]
        human = Identification.objects.filter(occurrence=occurrence, withdrawn=False).exists()
        assert row["identificationVerificationStatus"] == (HUMAN_STATUS if human else MACHINE_STATUS)
        assert row["dateIdentified"].endswith("Z") and len(row["dateIdentified"]) == 20
    private_url = f"{varied['private'].public_base_url.rstrip('/')}/{varied['private'].path}"
    assert private_url not in (rows[varied["occurrences"][4]]["associatedMedia"] or "")


def test_phylum_and_class_come_from_the_tree_else_only_for_known_orders(demo):
    from dwca_port.tables.darwin_core.occurrence import taxon_cells

    beetle = Taxon(name="Carabus x", rank="SPECIES", parents_json=[{"id": 1, "name": "Coleoptera", "rank": "ORDER"}])
    odd = Taxon(name="Oddus x", rank="SPECIES", parents_json=[{"id": 1, "name": "Oddoptera", "rank": "ORDER"}])
    tree = Taxon(
        name="Mite x",
        rank="SPECIES",
        parents_json=[
            {"id": 1, "name": "Arthropoda", "rank": "PHYLUM"},
            {"id": 2, "name": "Arachnida", "rank": "CLASS"},
            {"id": 3, "name": "Trombidiformes", "rank": "ORDER"},
        ],
    )
    assert (taxon_cells(beetle)["phylum"], taxon_cells(beetle)["class"]) == ("Arthropoda", "Insecta")
    assert (taxon_cells(odd)["phylum"], taxon_cells(odd)["class"]) == (None, None)
    assert (taxon_cells(tree)["phylum"], taxon_cells(tree)["class"]) == ("Arthropoda", "Arachnida")


# -- measurements --------------------------------------------------------------------------------


def test_measurements_are_numbers_with_type_and_unit_uris(demo, export, varied):
    path = export(demo, GBIF_PROFILE, in_sql=False)
    rows = table(path, "measurementorfact.txt")
    ids = by(rows, "measurementID")
    for row in rows:
        assert row["measurementTypeID"].startswith(("http://", "https://"))
        assert row["measurementUnitID"].startswith(("http://", "https://"))
        if row["measurementTypeID"] != AC + "isROIOf":
            float(row["measurementValue"])  # every other value is a number
    crop = ids[str(varied["crop"].uuid)]
    assert crop["measurementValue"].startswith("https://") and crop["occurrenceID"] == varied["occurrences"][0]
    width, height = varied["crop"].source_image.width, varied["crop"].source_image.height
    x1, y1, x2, y2 = varied["crop"].bbox
    assert float(ids[f"{varied['crop'].uuid}:xFrac"]["measurementValue"]) == x1 / width
    assert float(ids[f"{varied['crop'].uuid}:heightFrac"]["measurementValue"]) == (y2 - y1) / height
    for case in ("unsized", "outside"):
        detection = varied["outside"] if case == "outside" else varied["unsized"].detections.order_by("uuid").first()
        corners = [
            float(ids[f"{detection.uuid}:{name}"]["measurementValue"])
            for name in ("bboxXMinPixels", "bboxYMinPixels", "bboxXMaxPixels", "bboxYMaxPixels")
        ]
        assert corners == [float(v) for v in Detection.objects.get(pk=detection.pk).bbox]
        assert f"{detection.uuid}:xFrac" not in ids
        assert ids[f"{detection.uuid}:bboxXMinPixels"]["measurementUnitID"] == ANTENNA + "pixel"
    malformed = str(varied["malformed"].uuid)
    assert malformed in ids and not any(key.startswith((malformed + ":bbox", malformed + ":x")) for key in ids)
    private = varied["private"].detections.order_by("uuid").first()
    assert ids[str(private.uuid)]["measurementValue"] == f"urn:uuid:{varied['private'].uuid}"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL fast path is PostgreSQL's")
def test_the_varied_demo_exports_the_same_in_sql_and_in_python(demo, export, varied):
    assert_same_files(export(demo, GBIF_PROFILE, in_sql=False), export(demo, GBIF_PROFILE, in_sql=True))


# -- stations and Humboldt -----------------------------------------------------------------------


def test_a_country_is_given_only_where_it_is_unambiguous():
    points = {
        (44.4759, -73.2121): "US",  # the demo station, Vermont
        (45.5019, -73.5674): "CA",  # Montreal
        (48.8566, 2.3522): "FR",  # Paris (ISO_A2 says -99 for France)
        (45.0046, -72.0996): None,  # Derby Line: Canada is 200 m away
        (47.5596, 7.5886): None,  # Basel: France and Germany within 5 km
        (0.0, 0.0): None,  # the open sea
        (55.6761, 12.5683): "DK",  # Copenhagen, on the harbour
    }
    assert country_codes(points) == points


def test_a_point_is_looked_up_once_per_process(monkeypatch):
    point = (44.4759, -73.2121)
    assert country_codes([point]) == {point: "US"}
    monkeypatch.setattr(country.shapefile, "Reader", None)  # the polygons are not read again
    assert country_codes([point]) == {point: "US"}


def test_stations_are_locations_with_name_site_and_country(demo, export):
    events = table(export(demo, GBIF_PROFILE), "event.txt")
    deployment = demo.deployments.get()
    for row in events:
        if row["eventType"] in ("Survey", "Sample"):
            assert row["locationID"] == str(deployment.uuid)
            assert row["locality"] == f"{deployment.name}, {deployment.research_site.name}"
            assert row["countryCode"] == "US"


def test_humboldt_describes_every_event(demo, export):
    path = export(demo, GBIF_PROFILE)
    events, humboldt = table(path, "event.txt"), by(table(path, "humboldt.txt"), "eventID")
    assert set(humboldt) == {row["eventID"] for row in events}
    for row in humboldt.values():
        assert row["protocolNames"] == "lightTrapping | timeLapsePhotography"
        assert row["samplingPerformedBy"] == demo.rights_holder
        assert row["targetLifeStageScope"] == "adult"
        assert row["isTaxonomicScopeFullyReported"] == "false"  # the demo publishes scores >= 0.6 only
    nights = [humboldt[row["eventID"]] for row in events if row["eventType"] == "Sample"]
    assert all(n["eventDurationUnit"] == "hour" and n["samplingEffortUnit"] == "trapHours" for n in nights)
    demo.default_filters_score_threshold = 0
    demo.save()
    again = table(export(demo, GBIF_PROFILE), "humboldt.txt")
    assert {row["isTaxonomicScopeFullyReported"] for row in again} == {"true"}
