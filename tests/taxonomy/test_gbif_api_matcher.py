"""The GBIF species-match client against the loopback replay of real GBIF answers."""

import socket
import time

import pytest

from dwca_port.taxonomy.checklists import BACKBONE, COL_XR
from dwca_port.taxonomy.errors import MatcherUnavailable
from dwca_port.taxonomy.matchers import GbifApiMatcher, MatchCache, MatchType, Query
from dwca_port.taxonomy.matchers.gbif_api import split_base_url

from .conftest import LEPIDOPTERA


def test_v1_exact_match_decodes_the_flat_answer(api_matcher):
    result = api_matcher("v1").match(Query("Helianthus annuus"))
    assert result.match_type is MatchType.EXACT
    assert (result.key, result.canonical_name, result.authorship, result.rank) == (
        "9206251",
        "Helianthus annuus",
        "L.",
        "SPECIES",
    )
    assert result.confidence == 99 and result.checklist_key == BACKBONE
    assert result.classification[0] == ("KINGDOM", "Plantae", "6")
    assert result.classification[-1] == ("SPECIES", "Helianthus annuus", "9206251")


def test_v1_no_match(api_matcher):
    result = api_matcher("v1").match(Query("Aso"))
    assert result.match_type is MatchType.NONE and not result.matched
    assert result.note == "No match because of too little confidence"


def test_v1_synonym_is_followed_to_the_accepted_species(api_matcher):
    result = api_matcher("v1").match(Query("Cenopis mesospila"))  # moth fixture: accepted Sparganothis reticulatana
    assert result.synonym and result.status == "SYNONYM"
    assert (result.resolved_key, result.resolved_name) == ("1739680", "Sparganothis reticulatana")


def test_v1_fuzzy_and_higher_rank(api_matcher):
    matcher = api_matcher("v1")
    fuzzy = matcher.match(Query("Olethreutes lacunanum"))
    assert (
        fuzzy.match_type is MatchType.FUZZY and fuzzy.resolved_name == "Olethreutes lacunana" and fuzzy.confidence == 95
    )
    higher = matcher.match(Query("Xanthorhoe ferrugata"))
    assert (
        higher.match_type is MatchType.HIGHERRANK and higher.rank == "GENUS" and higher.canonical_name == "Xanthorhoe"
    )


def test_v2_col_xr_keys_are_alphanumeric(api_matcher):
    result = api_matcher("v2", COL_XR).match(Query("Calopteryx splendens"))
    assert (result.key, result.checklist_key) == ("Q2M4", COL_XR)
    assert ("DOMAIN", "Eukaryota", "CS5HF") in result.classification  # COL ranks are not the seven Linnaean ones


def test_v2_backbone_keys_come_as_strings(api_matcher):
    result = api_matcher("v2", BACKBONE).match(Query("Calopteryx splendens"))
    assert result.key == "1427067" and result.authorship == "(Harris, 1780)"


def test_v2_synonym_shape(api_matcher):
    result = api_matcher("v2", BACKBONE).match(Query("Anastrophyllum minutum"))
    assert result.synonym and result.key == "4277323"
    assert (result.accepted_key, result.accepted_name, result.accepted_authorship) == (
        "2689422",
        "Sphenolobus minutus",
        "(Schreb. ex Cranz) Berggr.",
    )


def test_v2_crosswalks_a_backbone_key_to_col_xr(api_matcher, replay):
    matcher = api_matcher("v2", COL_XR)
    result = matcher.match(Query("Passer domesticus", identifier=(BACKBONE, "5231190")))
    assert result.key == "4DXXM"
    assert "matched by identifier 5231190" in result.note
    assert replay.requests[-1][2]["scientificNameID"] == "gbif:5231190"


def test_query_parameters_per_version(api_matcher):
    query = Query("Catocala ultronia", "Hübner, 1823", "SPECIES", LEPIDOPTERA + (("FAMILY", "Erebidae"),))
    v1 = api_matcher("v1").params(query)
    assert v1 == {
        "name": "Catocala ultronia",
        "authorship": "Hübner, 1823",
        "rank": "SPECIES",
        "kingdom": "Animalia",
        "phylum": "Arthropoda",
        "class": "Insecta",
        "order": "Lepidoptera",
        "family": "Erebidae",
    }
    v2 = api_matcher("v2", COL_XR).params(query)
    assert v2["scientificName"] == "Catocala ultronia" and v2["scientificNameAuthorship"] == "Hübner, 1823"
    assert v2["taxonRank"] == "SPECIES" and v2["checklistKey"] == COL_XR


def test_v1_cannot_serve_col_xr():
    with pytest.raises(ValueError, match="needs the v2"):
        GbifApiMatcher("http://127.0.0.1:1", "v1", COL_XR, cache=None)


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://api.gbif.org", ("https://api.gbif.org", None)),
        ("https://api.gbif.org/v1/species/match", ("https://api.gbif.org", "v1")),
        ("http://localhost:8080/v2/", ("http://localhost:8080", "v2")),
    ],
)
def test_base_url_may_carry_the_version(url, expected):
    assert split_base_url(url) == expected


def test_names_are_asked_once_and_cached_across_runs(api_matcher, replay, tmp_path):
    names = ["Catocala ultronia", "Baileya ophthalmica", "Catocala ultronia", "Palpita magniferalis"] * 5
    first = api_matcher("v1", cache=MatchCache(tmp_path / "shared.sqlite"))
    answers = first.match_many([Query(n) for n in names])
    assert len(answers) == 3 and replay.match_requests == 3
    first.close()
    second = api_matcher("v1", cache=MatchCache(tmp_path / "shared.sqlite"))
    again = second.match_many([Query(n) for n in names])
    assert replay.match_requests == 3 and second.cache_hits == 3
    assert again == answers


def test_cache_is_keyed_by_base_url_version_and_checklist(tmp_path):
    cache = MatchCache(tmp_path / "c.sqlite")
    cache.put("http://a", "v2", BACKBONE, "scientificName=X", {"k": 1})
    assert cache.get("http://a", "v2", BACKBONE, "scientificName=X") == {"k": 1}
    assert cache.get("http://b", "v2", BACKBONE, "scientificName=X") is None
    assert cache.get("http://a", "v1", BACKBONE, "scientificName=X") is None
    assert cache.get("http://a", "v2", COL_XR, "scientificName=X") is None
    expired = MatchCache(tmp_path / "c.sqlite", max_age_seconds=0)
    time.sleep(0.01)
    assert expired.get("http://a", "v2", BACKBONE, "scientificName=X") is None


def test_polite_rate_limit_spaces_requests(api_matcher, replay):
    matcher = api_matcher("v1", max_requests_per_second=20)
    names = ("Catocala ultronia", "Baileya ophthalmica", "Palpita magniferalis", "Hypoprepia fucosa")
    started = time.monotonic()
    matcher.match_many([Query(n) for n in names])
    # 20 requests/s: request starts at least 50 ms apart, so 4 requests span at least 150 ms
    # (measured on the client: server-side arrival times jitter on a busy machine).
    assert time.monotonic() - started >= 0.15
    assert replay.match_requests == 4


@pytest.mark.parametrize("mode", ["503", "429", "drop"])
def test_transient_failures_are_retried(api_matcher, replay, mode):
    replay.fail(mode, times=2)
    result = api_matcher("v1", retries=2).match(Query("Catocala ultronia"))
    assert result.resolved_key == "1797445"
    assert replay.match_requests == 3


@pytest.mark.parametrize("mode, message", [("503", "HTTP 503"), ("429", "rate limited"), ("drop", "connection failed")])
def test_persistent_failure_raises_matcher_unavailable(api_matcher, replay, mode, message):
    replay.fail(mode)
    matcher = api_matcher("v1", retries=2)
    with pytest.raises(MatcherUnavailable, match=message) as caught:
        matcher.match(Query("Catocala ultronia"))
    assert caught.value.attempts == 3 and replay.match_requests == 3


def test_a_hanging_server_times_out(api_matcher, replay):
    replay.fail("hang")
    matcher = api_matcher("v1", retries=1, timeout=(1.0, 0.3))
    started = time.monotonic()
    with pytest.raises(MatcherUnavailable, match="no answer within 0.3 s"):
        matcher.match(Query("Catocala ultronia"))
    assert time.monotonic() - started < 5


def test_connection_refused(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    matcher = GbifApiMatcher(
        f"http://127.0.0.1:{port}",
        "v1",
        cache=MatchCache(tmp_path / "c.sqlite"),
        retries=1,
        backoff=0.01,
        max_requests_per_second=0,
    )
    with pytest.raises(MatcherUnavailable, match="connection failed"):
        matcher.match(Query("Catocala ultronia"))


def test_not_a_match_service(api_matcher, replay):
    """An unrecorded name gets a 404 from the replay server: not retried, reported clearly."""
    with pytest.raises(MatcherUnavailable, match="HTTP 404"):
        api_matcher("v1").match(Query("Nonexistens fictus"))
    assert replay.match_requests == 1


def test_failure_part_way_keeps_the_answers_given(api_matcher, replay):
    replay.fail("503", after=2)
    matcher = api_matcher("v1", retries=1)
    answered = []
    with pytest.raises(MatcherUnavailable) as caught:
        for query, _result in matcher.iter_matches(
            [Query(n) for n in ("Catocala ultronia", "Baileya ophthalmica", "Palpita magniferalis")]
        ):
            answered.append(query.name)
    assert answered == ["Catocala ultronia", "Baileya ophthalmica"]
    assert caught.value.answered == 2
